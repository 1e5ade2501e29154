"""RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs.

Hashes are raw 32-byte SHA-256 digests. Leaves enter every function as *leaf
hashes* (``leaf_hash(data)``), never as raw data, so a caller that already
stores leaf hashes never re-reads the data.

The tree is the RFC 6962 one: MTH(D[n]) splits at the largest power of two
below n. Computing it level by level (pair neighbours, carry an odd last node
up unchanged) gives the same tree, iteratively and in O(n) hashes; proofs are
read from those levels in O(log n).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""Root of the empty tree (RFC 6962 §2.1: the hash of an empty string)."""

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one leaf."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return _sha256(b"\x01" + left + right).digest()


def _check_hashes(hashes: Iterable[bytes], what: str) -> None:
    for h in hashes:
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise ValueError(f"{what} must be {HASH_SIZE}-byte SHA-256 digests")


def _largest_pow2_below(n: int) -> int:
    """The largest power of two strictly less than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _next_level(cur: list[bytes]) -> list[bytes]:
    h = _sha256
    nxt = [h(b"\x01" + cur[i] + cur[i + 1]).digest() for i in range(0, len(cur) - 1, 2)]
    if len(cur) % 2:
        nxt.append(cur[-1])
    return nxt


def root(leaves: Sequence[bytes]) -> bytes:
    """Merkle tree hash of a list of leaf hashes (EMPTY_ROOT for none)."""
    _check_hashes(leaves, "leaves")
    if not leaves:
        return EMPTY_ROOT
    cur = list(leaves)
    while len(cur) > 1:
        cur = _next_level(cur)
    return cur[0]


class MerkleTree:
    """All levels of a tree, kept so that many proofs cost O(log n) each.

    Memory is about twice the leaves (2 × 32 B per leaf): 6.4 MB for 100,000.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        _check_hashes(leaves, "leaves")
        self._levels: list[list[bytes]] = [list(leaves)]
        while len(self._levels[-1]) > 1:
            self._levels.append(_next_level(self._levels[-1]))
        self.size = len(leaves)

    @classmethod
    def from_levels(cls, levels: list[Any]) -> MerkleTree:
        """A tree from levels computed before (`levels()`; any sequences that also take
        `extend` and `level[i:] = ...`), without hashing anything: its root must be checked
        against a signed one before any proof drawn from it counts."""
        tree = cls.__new__(cls)
        tree._levels = list(levels) or [[]]
        tree.size = len(tree._levels[0])
        return tree

    def levels(self) -> list[list[bytes]]:
        return self._levels

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Append leaves, rehashing only the nodes they change (O(k log n) for k leaves)."""
        _check_hashes(leaves, "leaves")
        if not leaves:
            return
        start = len(self._levels[0])
        self._levels[0].extend(leaves)
        height = 0
        while len(self._levels[height]) > 1:
            first = start // 2  # the first node of the next level that changes
            tail = _next_level(self._levels[height][2 * first :])
            if height + 1 == len(self._levels):
                self._levels.append([])
            self._levels[height + 1][first:] = tail
            start, height = first, height + 1
        del self._levels[height + 1 :]
        self.size = len(self._levels[0])

    def root(self, size: int | None = None) -> bytes:
        """Root of the whole tree, or of its first ``size`` leaves."""
        size = self.size if size is None else self._check_size(size)
        return self._mth(0, size)

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 6962 §2.1.1)."""
        size = self.size if size is None else self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
        proof: list[bytes] = []
        a, b, m = 0, size, index
        while b - a > 1:
            k = _largest_pow2_below(b - a)
            if m < k:
                proof.append(self._mth(a + k, b))
                b = a + k
            else:
                proof.append(self._mth(a, a + k))
                a, m = a + k, m - k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the first ``old_size`` leaves are a prefix (RFC 6962 §2.1.2)."""
        new_size = self.size if new_size is None else self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"old size {old_size} is not between 0 and {new_size}")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        a, b, m, complete = 0, new_size, old_size, True
        while m != b - a:
            k = _largest_pow2_below(b - a)
            if m <= k:
                proof.append(self._mth(a + k, b))
                b = a + k
            else:
                proof.append(self._mth(a, a + k))
                a, m, complete = a + k, m - k, False
        if not complete:
            proof.append(self._mth(a, b))
        proof.reverse()
        return proof

    def _check_size(self, size: int) -> int:
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is not between 0 and {self.size}")
        return size

    def _mth(self, a: int, b: int) -> bytes:
        """Hash of leaves [a, b); a is aligned as the RFC recursion guarantees."""
        n = b - a
        if n == 0:
            return EMPTY_ROOT
        h = (n - 1).bit_length()
        if n == 1 << h or b == self.size:
            # Level h, node a >> h covers [a, min(a + 2^h, self.size)).
            return self._levels[h][a >> h]
        k = 1 << (h - 1)
        return node_hash(self._mth(a, a + k), self._mth(a + k, b))


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Audit path of leaf ``index`` in the tree of all ``leaves``."""
    return MerkleTree(leaves).inclusion_proof(index)


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Consistency proof from the first ``old_size`` leaves to all ``leaves``."""
    return MerkleTree(leaves).consistency_proof(old_size)


def _proof_ok(proof: Sequence[bytes]) -> bool:
    return all(isinstance(p, bytes) and len(p) == HASH_SIZE for p in proof)


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` place ``leaf`` at ``index`` under ``root_hash``?"""
    if not (0 <= index < size) or not _proof_ok(proof) or len(leaf) != HASH_SIZE:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (old_size, old_root) a prefix of (new_size, new_root)?"""
    if not (0 <= old_size <= new_size) or not _proof_ok(proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class Frontier:
    """Compact range of a growing tree: the roots of its perfect subtrees.

    One hash per set bit of the size (at most 64), so the integrator can keep it
    in one database row and append a leaf in O(log n) without reading the others.
    """

    __slots__ = ("_nodes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._nodes: list[bytes] = []  # left to right, heights decreasing

    @classmethod
    def from_leaves(cls, leaves: Iterable[bytes]) -> Frontier:
        f = cls()
        for leaf in leaves:
            f.append(leaf)
        return f

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> int:
        """Add a leaf hash; returns its index."""
        if not isinstance(leaf, bytes) or len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf must be a {HASH_SIZE}-byte SHA-256 digest")
        index = self._size
        nodes = self._nodes
        nodes.append(leaf)
        s = index
        while s & 1:
            right = nodes.pop()
            nodes[-1] = _sha256(b"\x01" + nodes[-1] + right).digest()
            s >>= 1
        self._size = index + 1
        return index

    def root(self) -> bytes:
        if not self._nodes:
            return EMPTY_ROOT
        r = self._nodes[-1]
        for h in reversed(self._nodes[:-1]):
            r = node_hash(h, r)
        return r

    def copy(self) -> Frontier:
        f = Frontier()
        f._size, f._nodes = self._size, list(self._nodes)
        return f

    def to_dict(self) -> dict[str, Any]:
        return {"size": self._size, "nodes": [n.hex() for n in self._nodes]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, data: str | bytes | dict[str, Any]) -> Frontier:
        """Rebuild from ``to_json()`` text (or its dict); ValueError if it is not one."""
        obj = json.loads(data) if isinstance(data, str | bytes) else data
        try:
            size, nodes = obj["size"], obj["nodes"]
            if type(size) is not int or size < 0 or not isinstance(nodes, list):
                raise TypeError
            raw = [bytes.fromhex(n) for n in nodes]
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError("not a Merkle frontier (expected size and nodes)") from e
        if len(raw) != size.bit_count() or any(len(n) != HASH_SIZE for n in raw):
            raise ValueError(f"a frontier of size {size} needs {size.bit_count()} 32-byte nodes")
        f = cls()
        f._size, f._nodes = size, raw
        return f

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Frontier)
            and self._size == other._size
            and self._nodes == other._nodes
        )

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()[:16]}…)"
