"""vatio.scale.step(): a no-op outside `vatio scale`, a bounded per-rank record under it."""

from __future__ import annotations

import json
import time

import pytest

import vatio.scale
from vatio.scale import reporter
from vatio.scale.reporter import MAX_KEPT, Recorder, StepStats, _union_s


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv(reporter.ENV_DIR, raising=False)
    reporter.reset()
    yield
    reporter.reset()


def test_step_is_a_cheap_no_op_when_not_under_vatio_scale(tmp_path):
    assert not vatio.scale.enabled()
    calls = 200_000
    began = time.perf_counter()
    for _ in range(calls):
        vatio.scale.step(samples=32)
    per_call = (time.perf_counter() - began) / calls
    assert per_call < 2e-6  # well under 1 % of even a 1 ms step
    vatio.scale.flush()
    assert list(tmp_path.iterdir()) == []
    model = object()
    assert vatio.scale.instrument(model) is model


def test_step_records_steps_samples_and_writes_at_flush(tmp_path, monkeypatch):
    monkeypatch.setenv(reporter.ENV_DIR, str(tmp_path / "ranks"))
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert vatio.scale.enabled()
    for _ in range(6):
        vatio.scale.step(samples=8)
        time.sleep(0.002)
    vatio.scale.flush()
    data = json.loads((tmp_path / "ranks" / "rank-3.json").read_text())
    assert data["rank"] == 3 and data["world_size"] == 4
    train = data["kinds"]["train"]
    assert data["warmup_samples"] == 8  # the first call only starts the clock
    assert train["steps"] == 5 and train["samples"] == 40
    assert train["median_step_s"] >= 0.002
    assert train["last_end"] > train["first_start"] > 1e9  # wall-clock seconds
    assert data["kinds"]["no_sync"]["steps"] == 0
    assert data["cpu_s"] is not None and data["max_rss_bytes"] > 0


def test_steps_without_all_reduce_count_as_no_sync_once_instrumented(tmp_path):
    recorder = Recorder(str(tmp_path), environ={"RANK": "0"})
    recorder.instrumented = True
    recorder.step(4)  # start
    t = time.perf_counter()
    recorder.add_comm(t, t + 0.010, 1000)
    recorder.add_comm(t + 0.005, t + 0.020, 500)  # overlaps the first: counted once
    recorder.step(4)
    recorder.step(4)  # no all-reduce since the last call: a no_sync step
    data = recorder.to_dict()
    train, local = data["kinds"]["train"], data["kinds"]["no_sync"]
    assert train["steps"] == 1 and train["buckets"] == 2 and train["bytes"] == 1500
    assert train["comm_s"] == pytest.approx(0.020)
    assert local["steps"] == 1 and local["comm_s"] == 0


def test_union_of_intervals():
    assert _union_s([]) == 0
    assert _union_s([(0, 1), (2, 3)]) == 2
    assert _union_s([(0, 2), (1, 3), (1.5, 2.5)]) == 3
    assert _union_s([(0, 5), (1, 2)]) == 5


def test_kept_durations_stay_bounded_and_even():
    stats = StepStats()
    for i in range(10 * MAX_KEPT):
        stats.add(float(i), float(i) + 1.0, 1, 0.0, 0, 0)
    assert len(stats.kept) < MAX_KEPT
    assert stats.steps == 10 * MAX_KEPT and stats.time_s == 10 * MAX_KEPT
    assert stats.to_dict(0.0)["median_step_s"] == 1.0


def test_flush_never_breaks_the_script(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    recorder = Recorder(str(blocker / "sub"), environ={})
    recorder.flush()
    assert "could not write the rank report" in capsys.readouterr().err


def test_scaling_and_backend_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(reporter.ENV_SCALING, "weak")
    monkeypatch.setenv(reporter.ENV_BACKEND, "gloo")
    assert vatio.scale.scaling() == "weak"
    assert vatio.scale.backend() == "gloo"


def test_pause_keeps_evaluation_out_of_the_step_times(tmp_path, monkeypatch):
    monkeypatch.setenv(reporter.ENV_DIR, str(tmp_path))
    vatio.scale.step(samples=1)
    vatio.scale.step(samples=1)
    with vatio.scale.pause():
        time.sleep(0.05)  # "evaluation"
    vatio.scale.step(samples=1)
    train = reporter.current().to_dict()["kinds"]["train"]
    assert train["steps"] == 2
    assert train["time_s"] < 0.04
    assert train["last_end"] - train["first_start"] >= 0.05  # still in the window


class FakeEvent:
    """Stands in for torch.cuda.Event: elapsed_time in milliseconds, as CUDA reports it."""

    def __init__(self, ms: float = 0.0) -> None:
        self.ms = ms
        self.synchronized = False

    def synchronize(self) -> None:
        self.synchronized = True

    def elapsed_time(self, end: FakeEvent) -> float:
        return end.ms - self.ms


def test_gpu_all_reduce_is_resolved_from_events_at_flush(tmp_path):
    recorder = Recorder(str(tmp_path), environ={})
    recorder.instrumented = True
    recorder.comm_timing = "cuda-events"
    recorder.add_gpu_comm(FakeEvent(0), FakeEvent(7), 100)  # warm-up step: dropped
    recorder.step(2)
    end = FakeEvent(3.0)
    recorder.add_gpu_comm(FakeEvent(1.0), end, 100)
    recorder.step(2)
    data = recorder.to_dict()
    assert end.synchronized
    assert data["gpu_comm_s"] == pytest.approx(0.002)
    assert data["kinds"]["train"]["buckets"] == 1 and data["kinds"]["train"]["bytes"] == 100
