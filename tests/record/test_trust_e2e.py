"""Records an auditor can trust, end to end: real `vatio run` processes, a real SQLite file
edited behind vatio's back, and every output checked for planted secrets."""

from __future__ import annotations

import json
import sqlite3
import sys

import pytest

from tests.cli.helpers import vatio
from tests.report.inprocess import run_main

pytestmark = pytest.mark.e2e
PY = sys.executable
SECRETS = ("TOKEN-S3CRET", "URL-PA55", "ENV-S3CRET", "KEYVAL-S3CRET", "STORE-PA55")


@pytest.fixture
def recorded(tmp_path):
    """Two runs recorded by real processes, one with secrets in its command line."""
    store = tmp_path / "v.db"
    plain = vatio("run", "--zone", "FR", "--json", "--", PY, "-c", "pass", store=store)
    assert plain.returncode == 0, plain.stderr
    secret = vatio(
        "run", "--zone", "ES", "--name", "train", "--json", "--",
        PY, "-c", "import sys; sys.exit(3)", "--token", SECRETS[0],
        "--url", f"https://user:{SECRETS[1]}@host/x", f"HF_TOKEN={SECRETS[2]}",
        f"--api-key={SECRETS[3]}",
        store=store,
    )  # fmt: skip
    assert secret.returncode == 3, secret.stderr  # the job's own exit code
    for text in (plain.stdout, secret.stdout, secret.stderr):
        assert not any(s in text for s in SECRETS)
    return store, json.loads(plain.stdout)["id"], json.loads(secret.stdout)["id"]


def _sql(store, statement: str, *args) -> None:
    with sqlite3.connect(store) as conn:
        conn.execute(statement, args)


def test_a_clean_store_verifies_and_every_output_is_free_of_secrets(
    recorded, capsys, monkeypatch, tmp_path
):
    store, plain, secret = recorded
    done = run_main(capsys, monkeypatch, "ledger", "verify", plain, secret, store=store)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified: 2 entries, checkpoint 2" in done.stdout
    assert "leaf 1 of checkpoint 2" in done.stdout
    outputs = [done.stdout]
    for args in (
        ("runs", "show", secret),
        ("runs", "show", secret, "--json"),
        ("runs", "list", "--json"),
        ("runs", "export", "--format", "csv"),
        ("runs", "export", "--format", "json"),
        ("report", secret, "--format", "md"),
        ("report", secret, "--format", "json"),
        ("report", secret, "--aiact"),
        ("report", secret, "-o", str(tmp_path / "r.html")),
    ):
        result = run_main(capsys, monkeypatch, *args, store=store)
        assert result.returncode == 0, (args, result.stderr)
        outputs += [result.stdout, result.stderr]
    outputs.append((tmp_path / "r.html").read_text())
    shown = json.loads(run_main(capsys, monkeypatch, "runs", "show", secret, "--json",
                                store=store).stdout)  # fmt: skip
    assert shown["verification"]["verified"] and shown["exit_code"] == 3
    assert "***" in " ".join(shown["command"])
    for text in outputs:
        assert not any(s in text for s in SECRETS), text[:2000]
    raw = store.read_bytes() + b"".join(p.read_bytes() for p in store.parent.glob("v.db-*"))
    assert not any(s.encode() in raw for s in SECRETS)


def test_an_edited_record_is_named_and_reports_refuse_it(recorded, capsys, monkeypatch):
    store, plain, secret = recorded
    _sql(store, "UPDATE runs SET record=json_set(record,'$.totals.energy_j',0.001) WHERE id=?",
         plain)  # fmt: skip
    done = run_main(capsys, monkeypatch, "ledger", "verify", "--json", store=store)
    assert done.returncode == 1
    problems = json.loads(done.stdout)["problems"]
    assert [(p["kind"], p["where"]) for p in problems] == [("digest-mismatch", f"run {plain}")]
    refused = run_main(capsys, monkeypatch, "report", plain, "--format", "md", store=store)
    assert refused.returncode == 1 and "not verified against the signed log" in refused.stderr
    shown = run_main(capsys, monkeypatch, "report", plain, "--format", "md",
                     "--allow-unverified", store=store)  # fmt: skip
    assert shown.returncode == 0 and "WARNING" in shown.stdout and "NOT VERIFIED" in shown.stdout
    # the store as a whole fails; the untouched run still proves itself against the root
    assert run_main(capsys, monkeypatch, "ledger", "verify", secret, store=store).returncode == 1
    ok = run_main(capsys, monkeypatch, "report", secret, "--format", "md", store=store)
    assert ok.returncode == 0 and "verified: leaf 1 of checkpoint 2" in ok.stdout


def test_column_edit_deletion_and_rollback_are_detected(recorded, capsys, monkeypatch, tmp_path):
    store, _, secret = recorded
    cp = tmp_path / "cp.txt"
    assert run_main(capsys, monkeypatch, "ledger", "checkpoint", "-o", str(cp),
                    store=store).returncode == 0  # fmt: skip
    _sql(store, "UPDATE runs SET energy_j=1e-9 WHERE id=?", secret)
    done = run_main(capsys, monkeypatch, "ledger", "verify", "--json", store=store)
    assert "energy_j column" in done.stdout and done.returncode == 1
    _sql(store, "DELETE FROM runs WHERE id=?", secret)
    done = run_main(capsys, monkeypatch, "ledger", "verify", "--json", store=store)
    kinds = {p["kind"] for p in json.loads(done.stdout)["problems"]}
    assert kinds == {"missing-entry"}
    # roll the log back to one leaf and re-sign it with this machine's key: only the
    # checkpoint handed out earlier (and the witness beside the key) can tell
    from vatio.config import Profile
    from vatio.record.signing import Advance, origin_of, signing_key
    from vatio.store.runstore import RunStore

    run_store = RunStore(f"sqlite:///{store}")
    first = bytes.fromhex(run_store.ledger_leaves()[0]["leaf_hash"])
    state = Advance(signing_key(Profile().ledger.key), origin_of(run_store.store_id))(None, [first])
    _sql(store, "DELETE FROM ledger_leaves WHERE idx=1")
    _sql(store, "UPDATE ledger_state SET size=?, frontier=?, checkpoint=?", state.size,
         state.frontier, state.checkpoint)  # fmt: skip
    done = run_main(capsys, monkeypatch, "ledger", "verify", "--checkpoint", str(cp), "--json",
                    store=store)  # fmt: skip
    problems = json.loads(done.stdout)["problems"]
    assert done.returncode == 1
    assert [p["kind"] for p in problems].count("log-rewritten") == 2  # the file and the witness


def test_cosignatures_make_a_quorum(recorded, capsys, monkeypatch, tmp_path):
    store, _, _ = recorded
    cp = tmp_path / "cp.txt"
    run_main(capsys, monkeypatch, "ledger", "checkpoint", "-o", str(cp), store=store)
    auditor_key = tmp_path / "auditor.key"
    vkey = run_main(capsys, monkeypatch, "ledger", "key", "--key", str(auditor_key)).stdout.strip()
    done = run_main(capsys, monkeypatch, "ledger", "cosign", str(cp), "--key", str(auditor_key),
                    "--store", str(store))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "cosignature" not in cp.read_text() or "—" in cp.read_text()
    quorum = run_main(capsys, monkeypatch, "ledger", "verify", "--require-cosigners", "1",
                      "--trust", vkey, store=store)  # fmt: skip
    assert quorum.returncode == 0, quorum.stdout
    missing = run_main(capsys, monkeypatch, "ledger", "verify", "--require-cosigners", "2",
                       "--trust", vkey, store=store)  # fmt: skip
    assert missing.returncode == 1 and "quorum-not-met" in missing.stdout
