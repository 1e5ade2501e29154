"""The file log: every change to its directory is detected; appends are safe and serialised."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from vatio.ledger import logformat as fmt
from vatio.ledger.checkpoint import parse_checkpoint
from vatio.ledger.errors import LogError
from vatio.ledger.filelog import FileLog, verify_log
from vatio.ledger.keys import SigningKey
from vatio.ledger.merkle import Frontier, leaf_hash, verify_consistency, verify_inclusion

LOG_KEY = SigningKey.generate("example.org/log")
MEMBER = SigningKey.generate("example.org/member-a")
OTHER = SigningKey.generate("example.org/member-b")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """5 entries, 5 checkpoints (sizes 1..5), the latest cosigned by a member."""
    d = tmp_path_factory.mktemp("template") / "log"
    log = FileLog.create(d, "example.org/fl-study", LOG_KEY)
    log.add_member(MEMBER.vkey, "client", LOG_KEY)
    for i in range(3):
        log.append({"round": i, "accuracy": 0.5 + i / 10, "client": "é-✓"}, key=LOG_KEY)
    log.cosign(MEMBER, timestamp=1_700_000_000)
    return d


@pytest.fixture
def logdir(template, tmp_path) -> Path:
    d = tmp_path / "log"
    shutil.copytree(template, d)
    return d


def _lines(d: Path) -> list[bytes]:
    return (d / fmt.ENTRIES).read_bytes().splitlines(keepends=True)


def _kinds(report) -> set[str]:
    return {p.kind for p in report.problems}


def test_the_template_verifies(logdir):
    r = verify_log(logdir, quorum=1)
    assert r.ok, r.problems
    assert (r.size, r.checkpoint_size, r.checkpoints_checked) == (5, 5, 5)
    assert r.verified_signers == ["example.org/log"] and r.key_source == "log"
    assert [(c.name, c.timestamp) for c in r.cosigners] == [("example.org/member-a", 1_700_000_000)]
    assert r.summary().startswith("verified: 5 entries, checkpoint 5")
    d = r.to_dict()
    assert json.loads(json.dumps(d))["ok"] is True and d["cosigners"][0]["time"].startswith("2023")
    trusted = verify_log(logdir, verifiers=[LOG_KEY.verifier()], quorum=1)
    assert trusted.ok and trusted.key_source == "caller"


def test_reading_proofs_and_members(logdir):
    log = FileLog.open(logdir)
    entries = list(log.entries())
    assert [e.index for e in entries] == [0, 1, 2, 3, 4]
    assert entries[0].entry["kind"] == fmt.GENESIS and entries[2].entry == {
        "accuracy": 0.5, "client": "é-✓", "round": 0}  # fmt: skip
    assert [(m.name, m.role) for m in log.members()] == [("example.org/member-a", "client")]
    cp, _ = parse_checkpoint(log.latest_checkpoint())
    for e in entries:
        assert verify_inclusion(e.index, cp.size, e.leaf, log.inclusion_proof(e.index), cp.root)
    old, _ = parse_checkpoint(log.checkpoint_at(2))
    assert verify_consistency(2, 5, old.root, cp.root, log.consistency_proof(2))
    # Leaf data is exactly the line without its newline.
    assert _lines(logdir)[2].rstrip(b"\n") == fmt.encode_line(2, entries[2].entry)


def test_every_single_byte_change_is_detected(logdir):
    files = sorted(p for p in logdir.rglob("*") if p.is_file())
    assert {p.name for p in files} >= {"entries.jsonl", "checkpoint", "members.json", "state.json"}
    flips = 0
    for p in files:
        original = p.read_bytes()
        fd = os.open(p, os.O_RDWR)  # flip in place: rewriting whole files costs a flush each
        try:
            for i in range(len(original)):
                os.pwrite(fd, bytes([original[i] ^ 0x01]), i)
                report = verify_log(logdir)
                assert not report.ok, f"{p.name} byte {i} ({original[i : i + 1]!r}) went unnoticed"
                os.pwrite(fd, original[i : i + 1], i)
                flips += 1
        finally:
            os.close(fd)
        assert p.read_bytes() == original
    assert flips > 2000
    assert verify_log(logdir).ok


@pytest.mark.parametrize("line", range(5))
def test_deleting_any_line_is_detected(logdir, line):
    lines = _lines(logdir)
    del lines[line]
    (logdir / fmt.ENTRIES).write_bytes(b"".join(lines))
    r = verify_log(logdir)
    assert not r.ok and "missing-entry" in _kinds(r)


@pytest.mark.parametrize("line", range(4))
def test_swapping_neighbours_is_detected(logdir, line):
    lines = _lines(logdir)
    lines[line], lines[line + 1] = lines[line + 1], lines[line]
    (logdir / fmt.ENTRIES).write_bytes(b"".join(lines))
    r = verify_log(logdir)
    assert not r.ok and "reordered" in _kinds(r)


@pytest.mark.parametrize("line", range(5))
def test_duplicating_any_line_is_detected(logdir, line):
    lines = _lines(logdir)
    lines.insert(line + 1, lines[line])
    (logdir / fmt.ENTRIES).write_bytes(b"".join(lines))
    r = verify_log(logdir)
    assert not r.ok and "duplicate-entry" in _kinds(r)


def test_truncation_anywhere_is_detected(logdir):
    data = (logdir / fmt.ENTRIES).read_bytes()
    for cut in range(0, len(data), 7):
        (logdir / fmt.ENTRIES).write_bytes(data[:cut])
        assert not verify_log(logdir).ok, cut


def test_an_edit_is_located_and_named(logdir):
    lines = _lines(logdir)
    entry = json.loads(lines[3])
    entry["entry"]["accuracy"] = 0.99
    lines[3] = fmt.encode_line(3, entry["entry"]) + b"\n"
    (logdir / fmt.ENTRIES).write_bytes(b"".join(lines))
    r = verify_log(logdir)
    digest = [p for p in r.problems if p.kind == "digest-mismatch"]
    assert digest and digest[0].where == "entries.jsonl line 4", r.problems
    assert digest[0].detail == "the root signed in checkpoints/4 no longer matches entry 3"


@pytest.mark.parametrize(
    "name", ["checkpoint", "members.json", "state.json", "checkpoints/1", "checkpoints/3",
             "checkpoints/5", "checkpoints"],
)  # fmt: skip
def test_removing_a_file_is_detected(logdir, name):
    p = logdir / name
    shutil.rmtree(p) if p.is_dir() else p.unlink()
    assert not verify_log(logdir).ok


def test_rolled_back_checkpoint_file_and_stray_files(logdir):
    (logdir / fmt.CHECKPOINT).write_bytes((logdir / "checkpoints" / "4").read_bytes())
    r = verify_log(logdir)
    assert not r.ok and any("not the latest" in p.detail for p in r.problems)
    shutil.copy(logdir / "checkpoints" / "5", logdir / fmt.CHECKPOINT)
    (logdir / "checkpoints" / "05").write_text("x")
    assert not verify_log(logdir).ok


def test_rewritten_log_is_caught_by_a_saved_checkpoint(logdir, tmp_path):
    saved = FileLog.open(logdir).latest_checkpoint()
    # The owner of the key rewrites history: same key, same origin, different round 1.
    forged = tmp_path / "forged"
    log = FileLog.create(forged, "example.org/fl-study", LOG_KEY)
    log.add_member(MEMBER.vkey, "client", LOG_KEY)
    for i in range(3):
        log.append({"round": i, "accuracy": 0.9, "client": "é-✓"}, key=LOG_KEY)
    assert verify_log(forged).ok  # internally consistent: only an outside copy can tell
    r = verify_log(forged, saved_checkpoint=saved)
    assert not r.ok and _kinds(r) == {"log-rewritten"}
    # Same log, extended: still consistent with what was handed out.
    FileLog.open(logdir).append({"round": 3}, key=LOG_KEY)
    assert verify_log(logdir, saved_checkpoint=saved).ok
    path = tmp_path / "saved.note"
    path.write_text(saved)
    assert verify_log(logdir, saved_checkpoint=path).ok


def test_rollback_and_new_key_are_caught_by_a_saved_checkpoint(logdir, tmp_path):
    log = FileLog.open(logdir)
    log.append({"round": 3}, key=LOG_KEY)
    saved = log.latest_checkpoint()
    lines = _lines(logdir)[:-1]  # roll the last entry back
    (logdir / fmt.ENTRIES).write_bytes(b"".join(lines))
    shutil.copy(logdir / "checkpoints" / "5", logdir / fmt.CHECKPOINT)
    (logdir / "checkpoints" / "6").unlink()
    FileLog.open(logdir).repair()
    assert verify_log(logdir, quorum=1).ok  # a clean rollback looks fine from inside
    r = verify_log(logdir, saved_checkpoint=saved)
    assert "log-rewritten" in _kinds(r)
    # A log re-created under another key does not carry the saved checkpoint's signer.
    thief = tmp_path / "thief"
    FileLog.create(thief, "example.org/fl-study", SigningKey.generate("example.org/log"))
    r = verify_log(thief, saved_checkpoint=saved)
    assert "log-rewritten" in _kinds(r)


def test_trusted_keys_from_the_caller(logdir):
    r = verify_log(logdir, verifiers=[OTHER.verifier()])
    assert not r.ok and "unknown-signer" in _kinds(r) and r.verified_signers == []


def test_quorum(logdir):
    assert verify_log(logdir, quorum=1).ok
    r = verify_log(logdir, quorum=2)
    assert _kinds(r) == {"quorum-not-met"}
    log = FileLog.open(logdir)
    log.add_member(OTHER.vkey, "auditor", LOG_KEY)  # a new checkpoint, not yet cosigned
    assert _kinds(verify_log(logdir, quorum=1)) == {"quorum-not-met"}
    log.cosign(MEMBER)
    log.cosign(OTHER.cosigner())
    assert verify_log(logdir, quorum=2).ok
    with pytest.raises(LogError):
        verify_log(logdir, quorum=-1)


def test_cosign_refuses_strangers_and_damaged_logs(logdir):
    log = FileLog.open(logdir)
    with pytest.raises(LogError, match="not a member"):
        log.cosign(OTHER)
    lines = _lines(logdir)
    lines[2] = lines[2].replace(b"0.5", b"0.6")
    (logdir / fmt.ENTRIES).write_bytes(b"".join(lines))
    with pytest.raises(LogError, match="Refusing to cosign"):
        log.cosign(MEMBER)


def test_unsigned_tail_and_checkpoint_key(logdir):
    log = FileLog.open(logdir)
    assert log.append({"round": 9}) == 5
    r = verify_log(logdir)
    assert _kinds(r) == {"unsigned-entries"}
    assert verify_log(logdir, allow_unsigned_tail=True).ok
    with pytest.raises(LogError, match="not this log's key"):
        log.checkpoint(OTHER)
    note = log.checkpoint(LOG_KEY)
    assert log.checkpoint(LOG_KEY) == note  # nothing new: the same checkpoint
    assert verify_log(logdir).ok


def test_torn_last_line_is_detected_refused_and_repaired(logdir):
    log = FileLog.open(logdir)
    with open(logdir / fmt.ENTRIES, "ab") as f:
        f.write(b'{"entry":{"round":')  # a crash in the middle of a write
    r = verify_log(logdir)
    assert not r.ok and any("torn" in p.detail for p in r.problems)
    with pytest.raises(LogError, match="incomplete line"):
        log.append({"round": 4})
    assert log.repair() == len(b'{"entry":{"round":')
    assert verify_log(logdir, quorum=1).ok
    assert log.append({"round": 4}, key=LOG_KEY) == 5
    assert verify_log(logdir).ok


def test_crash_between_entry_and_state_is_recovered(logdir):
    with open(logdir / fmt.ENTRIES, "ab") as f:  # the line got written, state.json did not
        f.write(fmt.encode_line(5, {"round": 5}) + b"\n")
    r = verify_log(logdir, allow_unsigned_tail=True)
    assert [p.where for p in r.problems] == ["state.json"]
    log = FileLog.open(logdir)
    assert log.append({"round": 6}, key=LOG_KEY) == 6
    assert verify_log(logdir).ok


def test_forged_member_entry_is_caught(logdir):
    fake = {"kind": fmt.MEMBER, "action": "add", "name": OTHER.name, "role": "client",
            "vkey": OTHER.vkey, "signature": "AAAA"}  # fmt: skip
    with open(logdir / fmt.ENTRIES, "ab") as f:
        f.write(fmt.encode_line(5, fake) + b"\n")
    FileLog.open(logdir).checkpoint(LOG_KEY)  # the owner signs what is in the file
    r = verify_log(logdir)
    assert "bad-signature" in _kinds(r)
    assert any("member change" in p.detail for p in r.problems)


@pytest.mark.parametrize(
    "entry",
    [{"kind": "vatio.ledger/member"}, {"kind": "vatio.ledger/genesis"}, ["not", "a", "dict"],
     {"x": float("nan")}, "text"],
)  # fmt: skip
def test_bad_entries_are_refused(logdir, entry):
    with pytest.raises(LogError):
        FileLog.open(logdir).append(entry)
    assert verify_log(logdir).ok


def test_open_and_create_errors(tmp_path, logdir):
    with pytest.raises(LogError, match="not a vatio log"):
        FileLog.open(tmp_path)
    with pytest.raises(LogError, match="not empty"):
        FileLog.create(logdir, "example.org/x", LOG_KEY)
    with pytest.raises(LogError, match="origin"):
        FileLog.create(tmp_path / "new", "has space", LOG_KEY)
    with pytest.raises(LogError):
        verify_log(tmp_path)
    with pytest.raises(LogError, match="not a checkpoint"):
        verify_log(logdir, saved_checkpoint="garbage")


def test_concurrent_appends_from_four_processes(logdir, tmp_path):
    keyfile = tmp_path / "log.key"
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, (LOG_KEY.skey() + "\n").encode())
    os.close(fd)
    start = time.time() + 1.5
    code = textwrap.dedent(f"""
        import sys, time
        from vatio.ledger.filelog import FileLog
        from vatio.ledger.keyfile import load_or_create_key
        key = load_or_create_key({str(keyfile)!r})
        log = FileLog.open({str(logdir)!r})
        worker = int(sys.argv[1])
        time.sleep(max(0.0, {start!r} - time.time()))
        for i in range(10):
            log.append({{"worker": worker, "i": i}}, key=key if i % 2 else None)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(w)]) for w in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    r = verify_log(logdir, quorum=0)
    assert r.ok, r.problems
    entries = list(FileLog.open(logdir).entries())
    assert [e.index for e in entries] == list(range(45))
    mine = [(e.entry["worker"], e.entry["i"]) for e in entries[5:]]
    assert sorted(mine) == [(w, i) for w in range(4) for i in range(10)]
    for w in range(4):  # each worker's entries in its own order
        assert [i for ww, i in mine if ww == w] == list(range(10))


def test_append_many_is_one_batch(logdir):
    log = FileLog.open(logdir)
    assert log.append_many([{"i": i} for i in range(3)], key=LOG_KEY) == [5, 6, 7]
    assert verify_log(logdir).ok and log.size == 8
    with pytest.raises(LogError):
        log.append_many([{"i": 8}, {"kind": "vatio.ledger/genesis"}])
    assert log.size == 8  # nothing of a refused batch is written


def test_a_failed_write_leaves_no_torn_line(logdir):
    """A file-size limit makes the write fail midway (like a full disk)."""
    before = (logdir / fmt.ENTRIES).read_bytes()
    code = textwrap.dedent(f"""
        import resource, signal
        from vatio.ledger.errors import LogError
        from vatio.ledger.filelog import FileLog
        log = FileLog.open({str(logdir)!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        limit = {len(before)} + 100
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        try:
            log.append({{"blob": "x" * 1000}})
        except LogError as e:
            print("refused:", e)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "refused: Could not write" in out.stdout, out.stdout + out.stderr
    assert (logdir / fmt.ENTRIES).read_bytes() == before
    assert verify_log(logdir, quorum=1).ok


def test_deep_mode_also_checks_json_form(logdir):
    """A line the owner signed without going through append: hashed either way, parsed in deep."""
    line = b'{"entry":{"b":1,"a":2},"index":5}'  # keys out of canonical order
    with open(logdir / fmt.ENTRIES, "ab") as f:
        f.write(line + b"\n")
    log = FileLog.open(logdir)
    with pytest.raises(LogError, match="canonical"):  # the owner will not sign it...
        log.checkpoint(LOG_KEY)
    frontier = Frontier.from_leaves(leaf_hash(x.rstrip(b"\n")) for x in _lines(logdir))
    size = (logdir / fmt.ENTRIES).stat().st_size
    (logdir / fmt.STATE).write_bytes(fmt.state_bytes(size, frontier))
    log.checkpoint(LOG_KEY)  # ...unless its cached state was forged to hide it
    assert verify_log(logdir).ok
    r = verify_log(logdir, deep=True)
    assert not r.ok and any("canonical" in p.detail for p in r.problems)
