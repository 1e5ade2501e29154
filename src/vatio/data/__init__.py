"""Reference data shipped with vatio; SOURCES.md gives each file's origin and licence."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).parent


def data_file(name: str) -> Path:
    """A bundled data file, as a plain path: vatio is always installed unpacked (wheels
    are), and `importlib.resources` would add ~6 ms of imports to every `vatio run`."""
    return FOLDER / name
