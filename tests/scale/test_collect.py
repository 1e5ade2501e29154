"""From rank reports and the node's timeline to a configuration's figures, by hand."""

from __future__ import annotations

import json

import pytest

from vatio.measure.result import DeviceEnergy, RunResult
from vatio.scale import collect


def result_with_timeline() -> RunResult:
    # Two sensors, three 1-second intervals from t=100 to t=103.
    # cpu: 10 W, 20 W, 10 W  -> 40 J (low 20 J, high 60 J); memory: 1 W flat -> 3 J.
    devices = [
        DeviceEnergy("cpu:estimated", "cpu", "estimated:tdp", 40.0, 20.0, 60.0, None),
        DeviceEnergy("memory:estimated", "memory", "estimated:memory", 3.0, 1.5, 4.5, None),
    ]
    result = RunResult(id="r", name=None, command=None, status="completed", started_at="x")
    result.devices = devices
    result.duration_s = 3.0
    result.timeline = {
        "t0": [100.0, 101.0, 102.0],
        "t1": [101.0, 102.0, 103.0],
        "power_w": {"cpu:estimated": [10.0, 20.0, 10.0], "memory:estimated": [1.0, 1.0, 1.0]},
        "process_power_w": [4.0, 8.0, 4.0],
    }
    return result


def test_window_energy_cuts_the_timeline_proportionally():
    energy = collect.window_energy(result_with_timeline(), 100.5, 102.0)
    # cpu: half of the first interval (5 J) + the second (20 J) = 25 J; memory 1.5 J.
    assert energy["energy_j"] == pytest.approx(26.5)
    # low/high follow each device's whole-run ratio: cpu 0.5/1.5, memory 0.5/1.5.
    assert energy["low_j"] == pytest.approx(12.5 + 0.75)
    assert energy["high_j"] == pytest.approx(37.5 + 2.25)
    assert energy["method"] == "estimated:memory+estimated:tdp"
    assert energy["process_j"] == pytest.approx(2 + 8)  # this job's share of the window
    assert collect.window_energy(result_with_timeline(), 5.0, 5.0) is None


def rank_report(rank, start, end, steps, samples, comm_s=0.0, nbytes=0, cpu_s=None):
    return {
        "rank": rank,
        "host": "h",
        "instrumented": True,
        "cpu_s": cpu_s,
        "cpu_wall_s": end - start,
        "max_rss_bytes": 100e6 * (rank + 1),
        "kinds": {
            "train": {
                "steps": steps,
                "samples": samples,
                "comm_s": comm_s,
                "comm_steps": steps if comm_s else 0,
                "bytes": nbytes,
                "first_start": start,
                "last_end": end,
                "time_s": end - start,
                "median_step_s": (end - start) / steps,
                "p95_step_s": None,
            },
            "no_sync": {"steps": 2, "samples": 8, "time_s": 0.02, "median_step_s": 0.01},
        },
    }


def test_node_figures_and_energy_per_sample(tmp_path):
    reports = [
        rank_report(0, 100.5, 102.0, 10, 300, comm_s=0.5, nbytes=10_000, cpu_s=1.5),
        rank_report(1, 100.6, 101.9, 10, 300, comm_s=0.3, nbytes=10_000, cpu_s=0.65),
    ]
    for report in reports:
        (tmp_path / f"rank-{report['rank']}.json").write_text(json.dumps(report))
    figures = collect.node_figures(collect.read_rank_reports(tmp_path))
    assert figures["samples"] == 600
    assert figures["window_s"] == pytest.approx(1.5)
    assert figures["step_s"] == pytest.approx((0.15 + 0.13) / 2)
    assert figures["throughput"] == pytest.approx(400)
    assert figures["comm_s"] == pytest.approx((0.05 + 0.03) / 2)
    assert figures["bytes_per_step"] == pytest.approx(1000)
    assert figures["bandwidth_bps"] == pytest.approx(20_000 / 0.8)
    assert figures["cpu_cores_per_rank"] == pytest.approx((1.5 / 1.5 + 0.65 / 1.3) / 2)
    assert figures["max_rss_bytes_per_rank"] == pytest.approx(150e6)
    assert figures["no_sync_step_s"] == pytest.approx(0.01)
    collect.add_energy(figures, result_with_timeline())
    collect.per_sample(figures)
    assert figures["energy_j"] == pytest.approx(26.5)
    assert figures["launch_overhead_j"] == pytest.approx(43 - 26.5)
    assert figures["energy_per_sample_j"] == pytest.approx(26.5 / 600)
    assert figures["process_energy_per_sample_j"] == pytest.approx(10 / 600)
    assert figures["energy_window"] == "training steps"


def test_no_step_reports_fall_back_to_the_whole_run():
    figures = collect.node_figures([])
    collect.add_energy(figures, result_with_timeline())
    collect.per_sample(figures)
    assert figures["energy_j"] == 43.0
    assert figures["energy_window"].startswith("whole run")
    assert "energy_per_sample_j" not in figures


def test_merging_nodes_sums_work_and_energy_once_per_node():
    a = {
        "ranks": 2,
        "samples": 600,
        "throughput": 400.0,
        "energy_j": 20.0,
        "energy_low_j": 10.0,
        "energy_high_j": 30.0,
        "step_s": 0.1,
        "window_s": 1.5,
        "method": "estimated:tdp",
    }
    b = dict(a, samples=500, throughput=350.0, energy_j=30.0, step_s=0.2, window_s=1.6)
    merged = collect.merge_nodes([a, b])
    collect.per_sample(merged)
    assert merged["nodes"] == 2 and merged["ranks"] == 4
    assert merged["samples"] == 1100 and merged["throughput"] == 750.0
    assert merged["energy_j"] == 50.0
    assert merged["step_s"] == pytest.approx(0.15)
    assert merged["window_s"] == 1.6
    assert merged["energy_per_sample_j"] == pytest.approx(50 / 1100)
