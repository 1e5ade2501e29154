"""Where the run store lives, decided without importing SQLAlchemy."""

from __future__ import annotations

from pathlib import Path

from vatio.errors import StoreError

DEFAULT_PATH = Path(".vatio") / "vatio.db"


def resolve_url(spec: str | None, cwd: Path | None = None) -> str:
    """A SQLAlchemy URL from a URL, a file path, or nothing (the default SQLite file)."""
    if spec and "://" in spec:
        return spec
    path = Path(spec) if spec else (cwd or Path.cwd()) / DEFAULT_PATH
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            f"Cannot create the store folder {path.parent}: {error.strerror}.",
            "Pass a writable path with --store or VATIO_STORE.",
        ) from None
    return f"sqlite:///{path.resolve()}"
