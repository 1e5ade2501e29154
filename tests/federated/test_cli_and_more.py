"""CLI of `vatio fl` (advise, errors), green hours, the centralised baseline, provenance misses."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from vatio.cli.app import app

runner = CliRunner()


def test_advise_json_from_the_issue_example():
    result = runner.invoke(app, [
        "fl", "advise", "--model-params", "2.4M", "--clients", "50", "--data-per-client", "3GB",
        "--rounds", "100", "--link", "4g", "--sensitive", "--heterogeneous", "--json",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == "recommended" and len(data["criteria"]) == 8


def test_advise_table_names_every_criterion():
    result = runner.invoke(app, [
        "fl", "advise", "--model-params", "200M", "--clients", "5", "--data-per-client", "100MB",
        "--rounds", "100",
    ])  # fmt: skip
    assert result.exit_code == 0 and "not recommended" in result.stdout
    assert "large model" in result.stdout and "kWh/GB" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["advise", "--model-params", "lots", "--clients", "5", "--data-per-client", "1GB",
         "--rounds", "3"],
        ["advise", "--model-params", "1M", "--clients", "5", "--data-per-client", "1GB",
         "--rounds", "3", "--link", "pigeon"],
        ["run", "--clients", "2", "--crash-client", "5"],
        ["run", "--clients", "2", "--client-zones", "ES"],
        ["run", "--within", "6h"],
        ["run", "--quorum", "9", "--clients", "2"],
        ["verify", "/nonexistent"],
    ],
)  # fmt: skip
def test_user_mistakes_are_vatio_errors(args):
    from vatio.errors import VatioError

    result = runner.invoke(app, ["fl", *args])
    assert isinstance(result.exception, VatioError), result.output
    assert result.exception.message.endswith(".")


def test_the_command_line_prints_one_sentence_and_exits_2():
    import subprocess
    import sys

    code = "from vatio.cli.app import main; main()"
    out = subprocess.run(
        [sys.executable, "-c", code, "fl", "run", "--clients", "2", "--crash-client", "5"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 2 and out.stderr.startswith("vatio: error: --crash-client")
    assert "Traceback" not in out.stderr


def test_green_plan_for_several_zones():
    from vatio.federated.schedule import green_plan, wait_for_slot

    plan = green_plan("ES", duration_s=3600, within_s=24 * 3600, client_zones=["FR", "PL"])
    record = plan.record
    assert record["mode"] == "window" and record["zones"] == ["ES", "FR", "PL"]
    assert set(record["per_zone"]) == {"ES", "FR", "PL"}
    assert record["mean_intensity_gco2e_per_kwh"] <= record["now_intensity_gco2e_per_kwh"]
    slots = green_plan("ES", duration_s=3 * 3600, within_s=24 * 3600, interruptible=True)
    assert slots.slots and slots.record["mode"] == "interruptible"
    sleeps = []
    assert wait_for_slot([(10.0, 20.0)], clock=lambda: 5.0, sleep=sleeps.append) == 5.0
    assert sleeps == [5.0] and wait_for_slot(None) == 0.0


def test_centralised_baseline_uses_the_same_sample_budget():
    from vatio.federated.centralised import train_pooled

    result = train_pooled({"seed": 0, "model": "logreg", "rounds": 2, "local_epochs": 3,
                           "batch_size": 16, "learning_rate": 2.0})  # fmt: skip
    assert result["epochs"] == 6 and result["samples"] == 6 * 456
    assert result["accuracy"] > 0.9 and result["train"]["method"]
    assert result["train"]["energy_j"] >= 0 and result["params"] == 31


def test_provenance_of_an_unknown_file_is_none(tmp_path):
    from vatio.federated.provenance import trace_model

    model = tmp_path / "m.npz"
    model.write_bytes(b"not a model")
    assert trace_model(model, tmp_path / "nothing") is None
    (tmp_path / "fl").mkdir()
    assert trace_model(model, tmp_path / "fl") is None


def test_ledger_cost_against_proof_of_work():
    from vatio.federated.ledger_cost import ledger_cost, proof_of_work, round_ledger_cost

    row = {
        "round": 1, "ledger_cpu_s": 0.01, "server": {"energy_j": 2.0, "cpu_s": 0.1},
        "per_client": [{"status": "ok", "measure": {"energy_j": 1.0, "cpu_s": 0.1}}],
    }  # fmt: skip
    cost = round_ledger_cost(row, processes_j=100.0)
    assert cost["ledger_j"] == pytest.approx(0.01 * 3.0 / 0.2)
    assert cost["ledger_pct"] == pytest.approx(100 * cost["ledger_j"] / 100.0)
    total = ledger_cost([{"ledger": cost}], ledger_entries=10)
    assert total["proof_of_work"]["low_j"] == 10 * 222 * 3.6e6
    assert total["pow_over_ledger"] > 1e9
    assert proof_of_work(1)["high_j"] == 705 * 3.6e6
