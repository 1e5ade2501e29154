"""What vatio remembers between runs in the user's state folder: validated profiles, the
package list, TDP matches, the platform text, the signed log's tree.

Each is a file named by a hash of its key, written atomically and best effort (a file not
written only costs the next run the work again), and read back only when the key stored in
it is the key asked for; callers still check what they read before trusting it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from vatio.userdirs import state_dir


def state_file(kind: str, key: str, suffix: str = ".json") -> Path:
    """`<state folder>/<kind>/<hash of key><suffix>`."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return state_dir() / kind / f"{digest}{suffix}"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` at once (best effort)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(f".{os.getpid()}.tmp")
        temp.write_bytes(data)
        os.replace(temp, path)
    except OSError:
        pass


def recall(kind: str, key: str) -> Any:
    """The value remembered under `key`, or None (absent, unreadable, another key)."""
    try:
        saved = json.loads(state_file(kind, key).read_text(encoding="utf-8"))
        return saved["value"] if saved.get("key") == key else None
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def remember(kind: str, key: str, value: Any) -> None:
    """Keep a JSON value under `key` (best effort)."""
    write_atomically(state_file(kind, key), json.dumps({"key": key, "value": value}).encode())
