"""A real federated run: Flower's SuperLink and SuperNodes as separate processes on 127.0.0.1.

Two clients, two rounds. Client 1's key is not in the membership (its updates
must be rejected and logged) and its ClientApp process dies halfway through
round 2 (a SIGKILL, not an exception): the run must still complete, record the
crash, and leave a ledger that verifies. Every Python process of the run gets
an audit hook (through sitecustomize) that logs any connection or name lookup
that is not loopback: there must be none (Flower's telemetry is off).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("flwr")

pytestmark = pytest.mark.e2e

SITECUSTOMIZE = """
import json, os, sys

_LOG = os.environ.get("VATIO_TEST_NET_LOG")
_LOCAL = {"127.0.0.1", "::1", "localhost", "0.0.0.0", None}


def _hook(event, args):
    if _LOG is None:
        return
    host = None
    if event == "socket.connect":
        address = args[1]
        if not isinstance(address, tuple):
            return  # a Unix socket
        host = address[0]
    elif event == "socket.getaddrinfo":
        host = args[0].decode() if isinstance(args[0], bytes) else args[0]
    else:
        return
    if host not in _LOCAL:
        with open(_LOG, "a") as handle:
            handle.write(json.dumps([os.getpid(), event, str(host), sys.argv[:2]]) + "\\n")


sys.addaudithook(_hook)
"""


@pytest.fixture
def network_log(tmp_path, monkeypatch):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "network.jsonl"
    log.touch()
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(hooks) + (os.pathsep + path if path else ""))
    monkeypatch.setenv("VATIO_TEST_NET_LOG", str(log))
    # The hook is live: a lookup of an outside name is caught (it fails offline; no matter).
    import subprocess

    probe = (
        "import socket\ntry:\n    socket.getaddrinfo('telemetry.flower.ai', 443)\n"
        "except OSError:\n    pass"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, env=os.environ.copy())
    assert "telemetry.flower.ai" in log.read_text()
    log.write_text("")
    return log


def _entries(ledger: Path) -> list[dict]:
    lines = (ledger / "entries.jsonl").read_text().splitlines()
    return [json.loads(line)["entry"] for line in lines]


def test_a_federated_run_with_a_crash_and_an_unlisted_client(tmp_path, network_log):
    from vatio.federated.provenance import trace_model
    from vatio.federated.report_section import fl_section
    from vatio.federated.run import FlOptions, execute

    options = FlOptions(
        clients=2, rounds=2, crash_client=1, crash_round=2, unlisted_client=1, quorum=1,
        round_timeout_s=10.0, root=tmp_path / "fl", store=True,
    )  # fmt: skip
    seen = []
    summary = execute(options, on_round=lambda done, total: seen.append((done, total)))

    assert summary["status"] == "completed" and seen[-1] == (2, 2)
    assert summary["final_accuracy"] > 0.85
    ok, bad = summary["clients"]
    assert ok["statuses"] == ["ok", "ok"] and ok["rounds_ok"] == 2
    assert bad["statuses"][0] == "rejected" and bad["statuses"][1] == "missing"
    assert [f["exit_code"] for f in bad["task_failures"]] == [-9]  # SIGKILL in round 2
    assert ok["bytes_down"] > 0 and ok["bytes_up"] > 0 and ok["samples"] > 0

    # The permissioned ledger: rejected updates and the crash are logged; it verifies.
    ledger = Path(summary["ledger"]["path"])
    entries = _entries(ledger)
    rejected = [e for e in entries if e.get("kind") == "fl/rejected"]
    assert [e["reason"] for e in rejected] == ["unlisted-key"]
    failures = [e for e in entries if e.get("kind") == "fl/failure"]
    assert [(e["round"], e["status"]) for e in failures] == [(2, "missing")]
    updates = [e for e in entries if e.get("kind") == "fl/update"]
    assert {e["client"] for e in updates} == {ok["client"]} and len(updates) == 2
    assert summary["ledger"]["verified"], summary["ledger"]["summary"]
    assert all(r["cosigners"] >= 1 for r in summary["ledger"]["report"]["rounds"])

    # Measured by vatio: every party a process tree; their sum within the launcher's tree.
    records = summary["records"]
    assert set(records) == {"run", "server", "client-0", "client-1"}
    parties = sum(records[k]["energy_j"] for k in ("server", "client-0", "client-1"))
    assert 0 < parties <= records["run"]["energy_j"] * 1.0001
    assert all(r["method"] for r in summary["rounds"])
    from vatio.store.location import resolve_url
    from vatio.store.runstore import RunStore

    store = RunStore(resolve_url(None))
    stored = {k: store.get(records[k]["run_id"])["summary"] for k in records}
    assert {s["kind"] for s in stored.values()} == {"fl", "fl-server", "fl-client"}
    assert stored["client-0"]["parent_id"] == summary["run_id"] == records["run"]["run_id"]
    run_record = store.get(summary["run_id"])
    assert run_record["extensions"]["federated"]["ledger"]["verified"]
    assert store.get(records["client-1"]["run_id"])["extensions"]["federated"]["unlisted"]

    # Provenance and the report section.
    model = Path(summary["folder"]) / "final_model.npz"
    from vatio.federated.modelfile import file_sha256

    assert [a["run_id"] for a in store.find_artifact(file_sha256(model))] == [summary["run_id"]]
    traced = trace_model(model, tmp_path / "fl")
    assert traced["run_id"] == summary["run_id"] and traced["ledger_verified"]
    assert traced["clients"] == [ok["client"]] and len(traced["rounds"]) == 2
    section = fl_section(summary["folder"])
    assert section["tables"][0]["rows"] and section["ledger"]["verified"]
    import io

    from rich.console import Console

    from vatio.federated import render

    out = io.StringIO()
    render.run_summary(Console(file=out, width=160), summary)
    assert "crashed (-9)" in out.getvalue() and "unlisted key" in out.getvalue()

    # Federated vs centralised, from this run and a baseline trained here.
    from vatio.federated.centralised import train_pooled
    from vatio.federated.compare import compare

    plan = summary["plan"]
    central = train_pooled({k: plan[k] for k in ("seed", "model", "rounds", "local_epochs",
                                                 "batch_size", "learning_rate")})  # fmt: skip
    central.update(wall_s=1.0, record={"energy_j": 3.0, "low_j": 1.5, "high_j": 3.2})
    result = compare(summary, central, link="4g")
    assert result["federated"]["bytes_moved"] == summary["bytes"]["down"] + summary["bytes"]["up"]
    assert result["centralised"]["bytes_moved"] > 0 and result["advisor"]["verdict"]
    comm = result["federated"]["communication_j"]
    assert comm["low"] <= comm["central"] <= comm["high"]

    # `vatio fl verify`: the run verifies; a copy with one byte changed does not.
    _cli_verify(Path(summary["folder"]), tmp_path)

    # Nothing but loopback, in any process of the run.
    assert network_log.read_text() == "", network_log.read_text()


def _cli_verify(folder: Path, tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from vatio.cli.app import app

    runner = CliRunner()
    result = runner.invoke(app, ["fl", "verify", str(folder), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"]
    copy = tmp_path / "copy"
    shutil.copytree(folder / "ledger", copy)
    data = bytearray((copy / "entries.jsonl").read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / "entries.jsonl").write_bytes(bytes(data))
    result = runner.invoke(app, ["fl", "verify", str(copy)])
    assert result.exit_code == 1 and "NOT verified" in result.stdout
