"""The SHA-256 of a model update: named arrays, framework-neutral, order-independent.

Each array contributes its name, dtype, shape and little-endian C-order bytes,
length-prefixed, in name order; so the client that signs and the server that
checks compute the same digest from the same numbers, whatever transport or
container carried them.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping

import numpy as np

DOMAIN = b"vatio-fl-arrays/v1\n"


def _field(data: bytes) -> bytes:
    return struct.pack(">Q", len(data)) + data


def arrays_digest(arrays: Mapping[str, np.ndarray] | Iterable[tuple[str, np.ndarray]]) -> str:
    items = arrays.items() if isinstance(arrays, Mapping) else arrays
    h = hashlib.sha256(DOMAIN)
    for name, value in sorted(items, key=lambda item: item[0]):
        array = np.ascontiguousarray(value)
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        h.update(_field(name.encode("utf-8")))
        h.update(_field(little.dtype.str.encode("ascii")))
        h.update(_field(",".join(str(n) for n in array.shape).encode("ascii")))
        h.update(_field(little.tobytes()))
    return h.hexdigest()


def model_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """The digest a saved model file carries (same as an update's), for provenance."""
    return arrays_digest(arrays)
