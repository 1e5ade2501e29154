"""Merkle hashing against an independent recursive reference and published vectors."""

from __future__ import annotations

import hashlib
from functools import cache

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vatio.ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleTree,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# --- published vectors: transparency-dev/merkle testonly/constants.go (RFC 6962 data) ----------
CT_INPUTS = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)]  # fmt: skip
CT_ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]  # fmt: skip
NH = [[bytes.fromhex(h) for h in level] for level in (
    ("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",),
)]  # fmt: skip
COMPACT = [[], [NH[0][0]], [NH[1][0]], [NH[1][0], NH[0][2]], [NH[2][0]],
           [NH[2][0], NH[0][4]], [NH[2][0], NH[1][2]], [NH[2][0], NH[1][2], NH[0][6]],
           [NH[3][0]]]  # fmt: skip
CT_LEAVES = [leaf_hash(d) for d in CT_INPUTS]


# --- an independent reference: RFC 6962 §2.1 written as the RFC writes it ------------------
class Reference:
    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves

    @cache  # noqa: B019 - one small object per test example
    def mth(self, a: int, b: int) -> bytes:
        n = b - a
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return self.leaves[a]
        k = 1
        while k * 2 < n:
            k *= 2
        return hashlib.sha256(b"\x01" + self.mth(a, a + k) + self.mth(a + k, b)).digest()

    def path(self, m: int, a: int, b: int) -> list[bytes]:
        n = b - a
        if n == 1:
            return []
        k = 1
        while k * 2 < n:
            k *= 2
        if m < k:
            return [*self.path(m, a, a + k), self.mth(a + k, b)]
        return [*self.path(m - k, a + k, b), self.mth(a, a + k)]

    def subproof(self, m: int, a: int, b: int, complete: bool) -> list[bytes]:
        n = b - a
        if m == n:
            return [] if complete else [self.mth(a, b)]
        k = 1
        while k * 2 < n:
            k *= 2
        if m <= k:
            return [*self.subproof(m, a, a + k, complete), self.mth(a + k, b)]
        return [*self.subproof(m - k, a + k, b, False), self.mth(a, a + k)]


def test_hash_prefixes_and_empty_root():
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest() == CT_ROOTS[1]
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    assert root([]) == EMPTY_ROOT == CT_ROOTS[0] == Frontier().root()


@pytest.mark.parametrize("size", range(9))
def test_published_roots_and_compact_ranges(size):
    leaves = CT_LEAVES[:size]
    assert root(leaves) == CT_ROOTS[size]
    assert MerkleTree(CT_LEAVES).root(size) == CT_ROOTS[size]
    f = Frontier.from_leaves(leaves)
    assert f.root() == CT_ROOTS[size]
    assert f.to_dict()["nodes"] == [n.hex() for n in COMPACT[size]]


def test_published_inclusion_proofs():
    assert inclusion_proof(0, CT_LEAVES) == [NH[0][1], NH[1][1], NH[2][1]]
    assert inclusion_proof(5, CT_LEAVES) == [NH[0][4], NH[1][3], NH[2][0]]


def test_rfc6962_section_2_1_3_examples():
    """The 7-leaf tree of RFC 6962 §2.1.3, named as the RFC names its nodes."""
    _a, b, c, d, _e, f, j = CT_LEAVES[:7]
    g, h, i, k = NH[1][0], NH[1][1], NH[1][2], NH[2][0]
    l_ = node_hash(i, j)
    t = MerkleTree(CT_LEAVES[:7])
    assert t.inclusion_proof(0) == [b, h, l_]
    assert t.inclusion_proof(3) == [c, g, l_]
    assert t.inclusion_proof(4) == [f, j, k]
    assert t.inclusion_proof(6) == [i, k]
    assert t.consistency_proof(3) == [c, d, g, l_]
    assert t.consistency_proof(4) == [l_]
    assert t.consistency_proof(6) == [i, j, k]
    assert verify_consistency(3, 7, CT_ROOTS[3], CT_ROOTS[7], [c, d, g, l_])


def _leaves(n: int, salt: int) -> list[bytes]:
    return [leaf_hash(salt.to_bytes(4, "big") + i.to_bytes(4, "big")) for i in range(n)]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 300), salt=st.integers(0, 2**32 - 1))
@example(n=300, salt=1)
@example(n=256, salt=2)
@example(n=257, salt=3)
@example(n=255, salt=4)
def test_everything_agrees_with_the_reference(n, salt):
    leaves = _leaves(n, salt)
    ref = Reference(leaves)
    tree = MerkleTree(leaves)
    want = ref.mth(0, n)
    assert root(leaves) == tree.root() == Frontier.from_leaves(leaves).root() == want
    for i in range(n):
        proof = tree.inclusion_proof(i)
        assert proof == ref.path(i, 0, n)
        assert verify_inclusion(i, n, leaves[i], proof, want)
    for m in range(n + 1):
        proof = tree.consistency_proof(m)
        assert proof == ([] if m in (0, n) else ref.subproof(m, 0, n, True))
        assert verify_consistency(m, n, ref.mth(0, m), want, proof)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), data=st.data())
def test_prefix_trees_and_proofs_within_a_larger_tree(n, data):
    """Proofs for an older size, answered by the current tree."""
    leaves = _leaves(n, 7)
    tree = MerkleTree(leaves)
    size = data.draw(st.integers(1, n))
    ref = Reference(leaves[:size])
    i = data.draw(st.integers(0, size - 1))
    m = data.draw(st.integers(0, size))
    assert tree.root(size) == ref.mth(0, size)
    assert tree.inclusion_proof(i, size) == ref.path(i, 0, size)
    assert tree.consistency_proof(m, size) == (
        [] if m in (0, size) else ref.subproof(m, 0, size, True)
    )


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 300), data=st.data())
def test_tampered_inclusion_proofs_fail(n, data):
    leaves = _leaves(n, 3)
    tree = MerkleTree(leaves)
    r = tree.root()
    i = data.draw(st.integers(0, n - 1))
    proof = tree.inclusion_proof(i)
    assert verify_inclusion(i, n, leaves[i], proof, r)
    j = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    bad = list(proof)
    bad[j] = bytes(x ^ (1 << (bit % 8)) if k == bit // 8 else x for k, x in enumerate(bad[j]))
    assert not verify_inclusion(i, n, leaves[i], bad, r)
    assert not verify_inclusion(i, n, leaves[i], proof[:-1], r)
    assert not verify_inclusion(i, n, leaves[i], [*proof, proof[0]], r)
    other = data.draw(st.integers(0, n - 1).filter(lambda x: x != i))
    assert not verify_inclusion(other, n, leaves[i], proof, r)
    assert not verify_inclusion(i, n, leaves[other], proof, r)
    assert not verify_inclusion(i, n, leaves[i], proof, tree.root(n - 1))
    assert not verify_inclusion(i, i, leaves[i], proof, r)  # index outside the tree
    assert not verify_inclusion(i, n, leaves[i][:31], proof, r)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(3, 300), data=st.data())
def test_tampered_consistency_proofs_fail(n, data):
    leaves = _leaves(n, 5)
    tree = MerkleTree(leaves)
    m = data.draw(st.integers(1, n - 1))
    old, new = tree.root(m), tree.root()
    proof = tree.consistency_proof(m)
    assert verify_consistency(m, n, old, new, proof)
    j = data.draw(st.integers(0, len(proof) - 1))
    bad = list(proof)
    bad[j] = bytes([bad[j][0] ^ 1]) + bad[j][1:]
    assert not verify_consistency(m, n, old, new, bad)
    assert not verify_consistency(m, n, old, new, proof[:-1])
    assert not verify_consistency(m, n, old, new, [*proof, proof[0]])
    assert not verify_consistency(m, n, new, old, proof)
    assert not verify_consistency(m, n, old, tree.root(n - 1), proof)
    assert not verify_consistency(n, m, new, old, proof)
    # A rewritten history: change one old leaf, the new root no longer extends the old one.
    k = data.draw(st.integers(0, m - 1))
    forged = list(leaves)
    forged[k] = leaf_hash(b"forged")
    ft = MerkleTree(forged)
    assert not verify_consistency(m, n, old, ft.root(), ft.consistency_proof(m))


def test_degenerate_consistency_cases():
    leaves = _leaves(8, 1)
    r4, r8 = root(leaves[:4]), root(leaves)
    assert verify_consistency(4, 4, r4, r4, [])
    assert not verify_consistency(4, 4, r4, r8, [])
    assert not verify_consistency(4, 4, r4, r4, [r4])
    assert verify_consistency(0, 8, EMPTY_ROOT, r8, [])
    assert not verify_consistency(0, 8, r4, r8, [])
    assert not verify_consistency(4, 8, r4, r8, [])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        root([b"short"])
    with pytest.raises(ValueError):
        MerkleTree(_leaves(3, 0)).inclusion_proof(3)
    with pytest.raises(ValueError):
        MerkleTree(_leaves(3, 0)).consistency_proof(4)
    with pytest.raises(ValueError):
        Frontier().append(b"x" * 31)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 300), more=st.integers(0, 40))
def test_frontier_json_round_trip_and_resume(n, more):
    leaves = _leaves(n + more, 11)
    f = Frontier.from_leaves(leaves[:n])
    g = Frontier.from_json(f.to_json())
    assert g == f and g.size == n and g.root() == root(leaves[:n])
    for i, leaf in enumerate(leaves[n:]):
        assert g.append(leaf) == n + i
    assert g.root() == root(leaves)
    assert len(f.to_dict()["nodes"]) == bin(n).count("1") <= 9


@pytest.mark.parametrize(
    "bad",
    ['{"size": 3, "nodes": []}', '{"size": -1, "nodes": []}', '{"nodes": []}',
     '{"size": 1, "nodes": ["zz"]}', '{"size": 1, "nodes": ["00"]}', '{"size": true, "nodes": []}'],
)  # fmt: skip
def test_frontier_from_bad_json(bad):
    with pytest.raises(ValueError):
        Frontier.from_json(bad)
