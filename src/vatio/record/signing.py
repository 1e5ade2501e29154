"""The machine's key applied to a store's log: advance the Merkle tree, sign checkpoints.

The store persists leaves, the compact range and checkpoints; this module turns
them into a signed, append-only log (`vatio.ledger`), and keeps a copy of the
latest checkpoint outside the store (a "witness" file in the user's state
folder), so that rolling the store back to an earlier state is noticed too.
"""

from __future__ import annotations

import contextlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from vatio.store.rows import LedgerState
from vatio.userdirs import state_dir


def origin_of(store_id: str) -> str:
    """The checkpoint origin line of a store's log."""
    return f"vatio/store/{store_id}"


def signing_key(path: str | None) -> Any:
    """This machine's Ed25519 key (created on first use, mode 0600); loaded once per path."""
    from vatio.ledger.keyfile import default_key_path

    return _key_at(str(Path(path).expanduser() if path else default_key_path()))


@lru_cache(maxsize=8)
def _key_at(path: str) -> Any:
    from vatio.ledger.keyfile import load_or_create_key

    return load_or_create_key(Path(path))


def signer_info(key: Any) -> dict[str, Any]:
    return {"key_id": key.key_id, "name": key.name}


class Advance:
    """Extends a store's log by some leaves and signs the new checkpoint."""

    def __init__(self, key: Any, origin: str) -> None:
        self.key = key
        self.origin = origin

    def __call__(self, state: LedgerState | None, leaves: list[bytes]) -> LedgerState:
        from vatio.ledger.checkpoint import Checkpoint, sign_checkpoint
        from vatio.ledger.merkle import Frontier

        frontier = Frontier.from_json(state.frontier) if state else Frontier()
        for leaf in leaves:
            frontier.append(leaf)
        note = sign_checkpoint(Checkpoint(self.origin, frontier.size, frontier.root()), self.key)
        return LedgerState(frontier.size, frontier.to_json(), note)


def witness_path(store_id: str) -> Path:
    return state_dir() / "witness" / f"{store_id}.checkpoint"


def save_witness(store_id: str, note: str) -> None:
    """Keep the latest checkpoint beside the key, outside the store (best effort).

    Written in place, never truncated (a rename or a truncation costs milliseconds on
    common file systems): the note, then NUL bytes up to the file's old length. A torn
    witness, after a crash, fails to parse and is then ignored by verification.
    """
    path = witness_path(store_id)
    data = note.encode("utf-8") + b"\0"
    with contextlib.suppress(OSError):
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            size = os.fstat(handle).st_size
            os.pwrite(handle, data + b"\0" * max(size - len(data), 0), 0)
        finally:
            os.close(handle)


def load_witness(store_id: str) -> str | None:
    try:
        data = witness_path(store_id).read_bytes()
        return data.split(b"\0", 1)[0].decode("utf-8") or None
    except (OSError, UnicodeDecodeError):
        return None
