"""Proofs drawn from the kept tree: the same answers, and nothing in the file is trusted."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta

import pytest

from tests.report.records import START, make_result, save
from vatio.config import Profile
from vatio.ledger.merkle import MerkleTree, leaf_hash
from vatio.record import audit, treecache
from vatio.record.audit import trusted_verifiers, verify_runs
from vatio.store.sqlite_reader import SqliteReader


def _store(path):
    return SqliteReader.open(f"sqlite:///{path}")


def _record(path, i):
    return save(path, make_result(name=f"r{i}", start=START + timedelta(minutes=i)))["id"]


def _answers(path, ids):
    proofs = verify_runs(_store(path), ids, trusted_verifiers(Profile()))
    return [(p.run_id, p.ok, p.index, p.size, p.reason) for p in proofs]


@pytest.fixture()
def logged(tmp_path):
    path = tmp_path / "runs.db"
    return path, [_record(path, i) for i in range(9)]


def _without_full_reads(monkeypatch):
    def refuse(_store):
        raise AssertionError("the whole log was read")

    monkeypatch.setattr(audit, "read_log", refuse)


def test_the_kept_tree_gives_what_the_whole_log_gives(logged, monkeypatch):
    path, ids = logged
    first = _answers(path, [*ids, "nosuchrun"])  # the whole log, then the tree is kept
    assert [ok for _, ok, *_ in first] == [True] * 9 + [False]
    assert treecache.load(_store(path).store_id) is not None
    with monkeypatch.context() as patch:
        _without_full_reads(patch)
        assert _answers(path, [*ids, "nosuchrun"]) == first
    more = [_record(path, i) for i in range(9, 14)]  # appended since: the tree is extended
    with monkeypatch.context() as patch:
        _without_full_reads(patch)
        answers = _answers(path, ids + more)
    assert all(ok and size == 14 for _, ok, _, size, _ in answers)
    assert answers == _answers_from_scratch(path, ids + more, monkeypatch)


def _answers_from_scratch(path, ids, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(treecache, "load", lambda _store_id: None)
        return _answers(path, ids)


@pytest.mark.parametrize("damage", ["bytes", "truncated", "another tree"])
def test_a_damaged_tree_file_is_ignored(logged, monkeypatch, damage):
    path, ids = logged
    expected = _answers(path, ids)
    kept = treecache._path(_store(path).store_id)
    data = kept.read_bytes()
    if damage == "bytes":
        kept.write_bytes(b"\xff" * len(data))
    elif damage == "truncated":
        kept.write_bytes(data[: len(data) // 2])
    else:  # a well-formed tree of other leaves: its root is not the signed one
        other = MerkleTree([leaf_hash(bytes([i])) for i in range(9)])
        treecache.save(_store(path).store_id, other)
    assert _answers(path, ids) == expected


def test_an_edited_record_with_a_matching_leaf_row_is_refused(logged):
    path, ids = logged
    _answers(path, ids)  # keep the tree
    with sqlite3.connect(path) as conn:  # edit the record and make the store consistent
        (text,) = conn.execute("SELECT record FROM runs WHERE id=?", (ids[4],)).fetchone()
        edited = text.replace('"name":"r4"', '"name":"r4-edited"')
        assert edited != text
        data = edited.encode()
        conn.execute("UPDATE runs SET record=?, digest=?, name='r4-edited' WHERE id=?",
                     (edited, hashlib.sha256(data).hexdigest(), ids[4]))  # fmt: skip
        conn.execute("UPDATE ledger_leaves SET leaf_hash=? WHERE run_id=?",
                     (leaf_hash(data).hex(), ids[4]))  # fmt: skip
    answers = {run_id: (ok, reason) for run_id, ok, _, _, reason in _answers(path, ids)}
    assert answers[ids[4]][0] is False and "edited" in answers[ids[4]][1]
    assert all(answers[i][0] for i in ids if i != ids[4])


def test_a_kept_tree_read_back_and_extended_is_the_tree_of_all_its_leaves(tmp_path):
    import random

    rnd = random.Random(7)
    for _ in range(60):
        n, k = rnd.randint(1, 80), rnd.randint(0, 80)
        leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n + k)]
        treecache.save("store-x", MerkleTree(leaves[:n]))
        kept = treecache.load("store-x")
        kept.extend(leaves[n:])
        whole = MerkleTree(leaves)
        assert kept.root() == whole.root() and kept.size == whole.size
        assert [list(level) for level in kept.levels()] == whole.levels()
        i = rnd.randrange(n + k)
        assert kept.inclusion_proof(i) == whole.inclusion_proof(i)
        old = rnd.randint(0, n + k)
        assert kept.consistency_proof(old) == whole.consistency_proof(old)
