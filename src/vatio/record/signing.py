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

from vatio.store.runstore import LedgerState
from vatio.userdirs import state_dir


def origin_of(store_id: str) -> str:
    """The checkpoint origin line of a store's log."""
    return f"vatio/store/{store_id}"


def signing_key(path: str | None) -> Any:
    """This machine's Ed25519 key (created on first use, mode 0600); loaded once per path."""
    from vatio.ledger.keys import default_key_path

    return _key_at(str(Path(path).expanduser() if path else default_key_path()))


@lru_cache(maxsize=8)
def _key_at(path: str) -> Any:
    from vatio.ledger.keys import load_or_create_key

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
    """Keep the latest checkpoint beside the key, outside the store (best effort)."""
    path = witness_path(store_id)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(f".tmp{os.getpid()}")
        temp.write_text(note, encoding="utf-8")
        os.replace(temp, path)


def load_witness(store_id: str) -> str | None:
    try:
        return witness_path(store_id).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
