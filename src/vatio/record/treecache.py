"""The log's tree, kept between commands: one run's proof in O(log n) after the first.

`runs show` and the reports say whether the signed log vouches for the runs they print.
Rebuilding the tree from 100,000 leaf hashes costs ~0.5 s here, so its levels are kept
in the user's state folder (one file a store) and extended with the leaves appended since.
Nothing in that file is trusted: the tree is used only when its root equals the root of a
checkpoint whose signature verified, every leaf it proves is recomputed from the record
itself, and a file that disagrees is ignored (the caller rebuilds the tree from the store).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from vatio.ledger.merkle import HASH_SIZE, MerkleTree
from vatio.statefiles import state_file, write_atomically

_MAGIC = b"vatio-tree-1\n"


def _path(store_id: str) -> Path:
    return state_file("trees", store_id, ".bin")


def load(store_id: str) -> MerkleTree | None:
    """The tree saved for this store, unchecked (None when absent or unreadable)."""
    try:
        data = _path(store_id).read_bytes()
    except OSError:
        return None
    if not data.startswith(_MAGIC):
        return None
    offset = len(_MAGIC)
    try:
        (count,) = struct.unpack_from(">I", data, offset)
        offset += 4
        levels = []
        for _ in range(count):
            (length,) = struct.unpack_from(">Q", data, offset)
            offset += 8
            end = offset + length * HASH_SIZE
            if end > len(data):
                return None
            levels.append(_Level(memoryview(data)[offset:end], length))
            offset = end
    except struct.error:
        return None
    return MerkleTree.from_levels(levels) if levels else None


class _Level:
    """One level of a kept tree as stored (32-byte hashes end to end), with the nodes changed
    or appended since in a list: reading 200,000 hashes into objects would cost ~65 ms."""

    def __init__(self, data: memoryview, count: int) -> None:
        self._data = data
        self._base = count  # hashes still read from `data`
        self._tail: list[bytes] = []

    def __len__(self) -> int:
        return self._base + len(self._tail)

    def __iter__(self) -> Any:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return [self[i] for i in range(*key.indices(len(self)))]
        index = key + len(self) if key < 0 else key
        if not 0 <= index < len(self):
            raise IndexError(key)
        if index < self._base:
            return bytes(self._data[index * HASH_SIZE : (index + 1) * HASH_SIZE])
        return self._tail[index - self._base]

    def extend(self, items: list[bytes]) -> None:
        self._tail.extend(items)

    def raw(self) -> bytes:
        """The hashes end to end, as stored."""
        return bytes(self._data[: self._base * HASH_SIZE]) + b"".join(self._tail)

    def __setitem__(self, key: slice, values: list[bytes]) -> None:
        """Only `level[first:] = values` (what extending a tree does)."""
        if not isinstance(key, slice) or key.stop is not None or key.step is not None:
            raise TypeError("a kept level only takes level[first:] = values")
        first = key.start or 0
        if first < self._base:
            self._base, self._tail = first, list(values)
        else:
            self._tail[first - self._base :] = values

    def __delitem__(self, key: slice) -> None:
        self[key.start or 0 :] = []


def save(store_id: str, tree: MerkleTree) -> None:
    """Keep the tree (best effort: a tree not kept is only rebuilt next time)."""
    levels = tree.levels()
    parts = [_MAGIC, struct.pack(">I", len(levels))]
    for level in levels:
        raw = level.raw() if isinstance(level, _Level) else b"".join(level)
        parts += [struct.pack(">Q", len(level)), raw]
    write_atomically(_path(store_id), b"".join(parts))


def signed_tree(store: Any, size: int, root: bytes) -> MerkleTree | None:
    """The tree of the store's first `size` leaves, from the kept one and the leaves appended
    since, when its root is the signed `root`; None when that cannot be shown this way."""
    tree = load(store.store_id)
    if tree is None or tree.size > size:
        return None
    try:
        newer = store.ledger_leaf_hashes(start=tree.size)
        if [idx for idx, _, _ in newer] != list(range(tree.size, tree.size + len(newer))):
            return None
        tree.extend([bytes.fromhex(leaf) for _, _, leaf in newer])
    except (ValueError, TypeError):
        return None
    if tree.size != size or tree.root() != root:
        return None
    if newer:
        save(store.store_id, tree)
    return tree
