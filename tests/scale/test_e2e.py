"""`vatio scale` end to end: real torchrun launches, a real store, real failures."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.scale import scripts
from vatio.cli.app import app
from vatio.errors import VatioError
from vatio.scale.options import build_spec
from vatio.store.runstore import open_store

pytestmark = pytest.mark.e2e


def scale(*args: str):
    result = CliRunner().invoke(app, ["scale", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def study_from(result) -> dict:
    return json.loads(result.stdout)


def test_one_and_two_ddp_workers_end_to_end(tmp_path):
    script = scripts.write(tmp_path, "train_ddp.py", scripts.DDP)
    store = tmp_path / "v.db"
    done = scale(
        "--workers",
        "1,2",
        "--script",
        str(script),
        "--store",
        str(store),
        "--json",
        "--",
        "--steps",
        "30",
    )
    assert done.exit_code == 0, done.output
    study = study_from(done)
    one, two = study["configs"]
    assert [one["status"], two["status"]] == ["completed", "completed"], (
        one.get("error"),
        two.get("error"),
        two.get("error_tail"),
    )
    assert one["samples"] == 29 * 8 and two["samples"] == 2 * 29 * 8  # first step is warm-up
    assert two["bytes_per_step"] == (16 * 4 + 4) * 4  # one bucket of float32 gradients
    assert two["comm_s"] > 0 and two["compute_s"] >= 0 and two["bandwidth_bps"] > 0
    assert len(two["per_rank"]) == 2 and two["cpu_cores_per_rank"] > 0
    for row in (one, two):
        assert row["throughput"] > 0
        assert ":" in row["method"]  # e.g. estimated:memory+estimated:tdp
        low, mid, high = (row[f"energy_per_sample{k}_j"] for k in ("_low", "", "_high"))
        assert 0 <= low <= mid <= high
    assert one["speedup"] == 1 and two["efficiency"] == pytest.approx(
        two["throughput"] / one["throughput"] / 2
    )
    assert study["advice"]["fastest"] in ("w1", "w2")
    runs = {r["id"]: r for r in open_store(str(store)).list_runs(limit=None)}
    assert runs[study["study_id"]]["kind"] == "scale-study"
    children = [r for r in runs.values() if r["parent_id"] == study["study_id"]]
    assert sorted(r["kind"] for r in children) == ["scale", "scale"]
    assert {r["id"] for r in children} == {one["run_id"], two["run_id"]}


def test_a_failing_rank_shows_its_error_and_keeps_the_other_configuration(tmp_path):
    script = scripts.write(tmp_path, "flaky.py", scripts.FAILS_IN_RANK_ONE)
    store = tmp_path / "v.db"
    done = scale("--workers", "1,2", "--script", str(script), "--store", str(store), "-q")
    assert done.exit_code == 0  # one configuration finished
    assert "2 workers: rank 1 failed; the end of its output:" in done.stderr
    assert "ValueError: bad shard on rank 1" in done.stderr
    assert "loading shard 1" not in done.stderr  # stdout of the rank is not the error output
    statuses = sorted(r["status"] for r in open_store(str(store)).list_runs(limit=None))
    assert statuses == ["completed", "completed", "failed"]  # study, 1 worker, 2 workers


def test_thread_sweep_sets_the_thread_variables(tmp_path):
    script = scripts.write(tmp_path, "train.py", scripts.THREADS)
    done = scale("--threads", "1,2", "--script", str(script), "--no-store", "--json")
    assert done.exit_code == 0, done.output
    study = study_from(done)
    assert study["mode"] == "threads"
    assert [r["config"]["label"] for r in study["configs"]] == ["1 thread", "2 threads"]
    for row, threads in zip(study["configs"], (1, 2), strict=True):
        assert row["status"] == "completed" and row["samples"] == 16
        log = (
            tmp_path / ".vatio" / "scale" / study["study_id"] / row["config"]["key"] / "output.log"
        )
        assert f"threads seen: {threads}" in log.read_text()
    assert study["configs"][1]["efficiency"] > 0


def test_batch_sweep(tmp_path):
    scripts.write(tmp_path, "models.py", scripts.MODELS)
    done = scale(
        "--batch-sizes",
        "1,16",
        "--model",
        "models:build",
        "--eval",
        "models:inputs",
        "--min-time",
        "0.2s",
        "--max-latency",
        "1s",
        "--no-store",
        "--json",
    )
    assert done.exit_code == 0, done.output
    study = study_from(done)
    small, big = study["configs"]
    assert small["config"]["batch_size"] == 1 and big["config"]["batch_size"] == 16
    for row in (small, big):
        assert row["status"] == "completed" and row["throughput"] > 0
        assert row["p50_latency_s"] <= row["p95_latency_s"]
        assert row["energy_per_sample_j"] is not None
    assert study["advice"]["best_under_limit"] in ("b1", "w1-b1", "w1-b16")


def test_bad_input_is_one_sentence_and_exit_code_2(tmp_path):
    from tests.cli.helpers import vatio

    done = vatio("scale", "--script", "nope.py", "--workers", "1")
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == "vatio: error: No script 'nope.py'."
    assert "Traceback" not in done.stderr


def test_bad_input_messages(tmp_path, monkeypatch):
    script = scripts.write(tmp_path, "t.py", "")
    with pytest.raises(VatioError, match="Nothing to sweep"):
        build_spec(options("--script", str(script)))
    with pytest.raises(VatioError, match="one limit"):
        build_spec(
            options(
                "--script",
                str(script),
                "--workers",
                "1",
                "--max-slowdown",
                "1.2",
                "--deadline",
                "1h",
            )
        )
    with pytest.raises(VatioError, match="--max-slowdown must be 1 or more"):
        build_spec(options("--script", str(script), "--workers", "1", "--max-slowdown", "0.5"))
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    with pytest.raises(VatioError) as caught:
        build_spec(options("--workers", "1,2", "--script", str(script)))
    assert "torch is not installed" in caught.value.message
    assert caught.value.hint == "Install it with: pip install torch==2.13.0 'vatio[ml]'"


def options(*args: str) -> dict:
    """The options dict the command builds, from command-line arguments."""
    import vatio.cli.scale as command

    captured = {}
    real = command.execute
    command.execute = lambda opts, console=None: captured.update(opts) or {"configs": []}
    try:
        CliRunner().invoke(app, ["scale", *args])
    finally:
        command.execute = real
    return captured
