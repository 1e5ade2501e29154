"""The permissioned ledger of a run: quorum per round, re-checked updates, any change detected."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from vatio.federated.ledger import FlLedger, read_membership, verify_fl_log, write_membership

from .fixtures import build


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fl") / "ledger"
    build(folder, rounds=2, clients=2, quorum=2)
    return folder


@pytest.fixture
def ledger_dir(template, tmp_path) -> Path:
    copy = tmp_path / "ledger"
    shutil.copytree(template, copy)
    return copy


def _kinds(report) -> set[str]:
    return {p["kind"] for p in report.problems}


def test_a_clean_run_verifies_with_its_quorum(ledger_dir):
    report = verify_fl_log(ledger_dir)
    assert report.ok, report.problems
    assert report.quorum == 2 and report.updates == 4 and report.rejected == 0
    assert [r["cosigners"] for r in report.rounds] == [2, 2, 2]  # round 1, round 2, final
    assert report.summary().startswith("verified")
    assert json.loads(json.dumps(report.to_dict()))["ok"] is True


def test_a_higher_quorum_than_the_cosigners_is_not_met(ledger_dir):
    report = verify_fl_log(ledger_dir, quorum=3)
    assert not report.ok and _kinds(report) == {"quorum-not-met"}


def test_rounds_without_cosignatures_miss_the_quorum(tmp_path):
    build(tmp_path / "l", rounds=2, clients=2, quorum=1, cosign=False)
    report = verify_fl_log(tmp_path / "l")
    assert not report.ok and "quorum-not-met" in _kinds(report)


def test_an_update_logged_with_a_forged_signature_is_caught(tmp_path):
    """The server signed the log, but an update in it does not verify with its member's key."""
    from vatio.federated.ledger import UPDATE, FlLedger

    ledger, server, parties = build(tmp_path / "l", rounds=1, clients=2, quorum=0)
    entry = next(e.entry for e in ledger.log.entries() if e.entry.get("kind") == UPDATE)
    forged = dict(entry, signature=parties[1].key.sign(b"something else").hex()[:88] + "==")
    FlLedger.open(tmp_path / "l").append_round([forged], server)
    report = verify_fl_log(tmp_path / "l", quorum=0)
    assert not report.ok and "bad-signature" in _kinds(report)


def test_an_update_by_a_key_that_is_not_a_member_is_caught(tmp_path):
    from vatio.federated.ledger import UPDATE
    from vatio.federated.protocol import make_statement, sign_update
    from vatio.ledger import SigningKey

    ledger, server, _ = build(tmp_path / "l", rounds=1, clients=1, quorum=0)
    stranger = SigningKey.generate("c-stranger")
    signed = sign_update(
        stranger,
        make_statement(run="r", round=1, client="c-stranger", digest="d" * 64, num_examples=1),
    )
    ledger.append_round(
        [
            {
                "kind": UPDATE,
                "round": 1,
                "client": "c-stranger",
                "digest": "d" * 64,
                **signed.to_record(),
                "statement": signed.statement,
            }
        ],
        server,
    )
    report = verify_fl_log(tmp_path / "l", quorum=0)
    assert "unknown-signer" in _kinds(report)


def test_a_membership_file_from_elsewhere_is_compared(ledger_dir, tmp_path):
    members = read_membership_from_log(ledger_dir)
    good = write_membership(tmp_path / "members.json", members)
    assert verify_fl_log(ledger_dir, members_file=good).ok
    fewer = write_membership(tmp_path / "fewer.json", members[:-1])
    assert "unknown-signer" in _kinds(verify_fl_log(ledger_dir, members_file=fewer))


def read_membership_from_log(ledger_dir: Path):
    from vatio.federated.ledger import MemberSpec

    doc = json.loads((ledger_dir / "members.json").read_text())
    return [MemberSpec(m["vkey"], m["role"]) for m in doc["members"]]


def test_membership_file_errors_name_the_problem(tmp_path):
    from vatio.errors import InputError

    bad = tmp_path / "m.json"
    bad.write_text('{"members": [{"vkey": "x", "role": "boss"}]}')
    with pytest.raises(InputError, match="role"):
        read_membership(bad)
    with pytest.raises(InputError, match="Cannot read"):
        read_membership(tmp_path / "missing.json")


def test_removing_or_reordering_entries_is_detected(ledger_dir):
    path = ledger_dir / "entries.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:5] + lines[6:]))
    assert not verify_fl_log(ledger_dir).ok
    path.write_bytes(b"".join([*lines[:5], lines[6], lines[5], *lines[7:]]))
    assert {"reordered"} <= _kinds(verify_fl_log(ledger_dir))


def test_a_removed_round_checkpoint_is_detected(ledger_dir):
    sizes = sorted(int(p.name) for p in (ledger_dir / "checkpoints").iterdir())
    (ledger_dir / "checkpoints" / str(sizes[-2])).unlink()
    assert not verify_fl_log(ledger_dir).ok


def test_cosignatures_from_strangers_are_not_merged(ledger_dir):
    from vatio.ledger import SigningKey, cosign_checkpoint

    ledger = FlLedger.open(ledger_dir)
    size = max(int(p.name) for p in (ledger_dir / "checkpoints").iterdir())
    note = cosign_checkpoint(ledger.log.checkpoint_at(size), SigningKey.generate("mallory"))
    assert ledger.add_cosignatures(size, [note, "not a note"]) == []
    assert verify_fl_log(ledger_dir).ok


def test_every_single_byte_change_of_a_small_log_is_detected(tmp_path):
    """One round, one client (the benchmark flips every byte of a real 5-round run's log)."""
    build(tmp_path / "l", rounds=1, clients=1, quorum=1)
    ledger_dir = tmp_path / "l"
    path = ledger_dir / "entries.jsonl"
    original = path.read_bytes()
    fd = os.open(path, os.O_RDWR)
    try:
        for i in range(0, len(original)):
            os.pwrite(fd, bytes([original[i] ^ 0x01]), i)
            assert not verify_fl_log(ledger_dir).ok, f"byte {i} went unnoticed"
            os.pwrite(fd, original[i : i + 1], i)
    finally:
        os.close(fd)
