"""The final model of a federated run on disk, and the digests that trace it back.

Saved as a NumPy `.npz` of named arrays (no pickle). The ledger's fl/final
entry keeps both the SHA-256 of the file and the digest of its arrays, so
`vatio provenance FILE` finds the run from the file's bytes, and a model
re-saved in another container can still be matched by its arrays.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_model(path: Path, arrays: dict[str, Any], *, run_id: str) -> dict[str, Any]:
    """Write the arrays; returns the file name, its SHA-256 and size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        np.savez(handle, **{k: np.asarray(v) for k, v in arrays.items()})
    return {"file": path.name, "file_sha256": file_sha256(path), "file_bytes": path.stat().st_size}


def load_model(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}
