"""Speed-up, efficiency, energy ratio and advice against hand calculations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vatio.scale import analysis
from vatio.scale.configs import Config


def row(workers, throughput, per_sample_j, status="completed", **extra):
    config = Config("workers", workers=workers).to_dict()
    return {
        "config": config,
        "status": status,
        "throughput": throughput,
        "energy_per_sample_j": per_sample_j,
        "energy_per_sample_low_j": per_sample_j / 2 if per_sample_j else None,
        "energy_per_sample_high_j": per_sample_j * 1.5 if per_sample_j else None,
        "method": "estimated:tdp",
        **extra,
    }


def test_strong_scaling_by_hand():
    # 1 worker: 1000 samples/s; 2 workers: 1600 samples/s; 4 workers: 2000 samples/s.
    # For 8000 samples: T1 = 8 s, T2 = 5 s, T4 = 4 s.
    rows = [row(1, 1000, 0.010), row(2, 1600, 0.011), row(4, 2000, 0.009)]
    base = analysis.compare(rows, "strong")
    assert base is rows[0]
    assert rows[1]["speedup"] == pytest.approx(1.6)
    assert rows[1]["efficiency"] == pytest.approx(8 / (2 * 5))  # 0.8
    assert rows[2]["efficiency"] == pytest.approx(8 / (4 * 4))  # 0.5
    assert rows[1]["energy_ratio"] == pytest.approx(1.1)
    assert rows[1]["inefficient"] is True
    assert rows[2]["inefficient"] is False
    assert rows[0]["inefficient"] is False  # the baseline is never flagged


def test_weak_scaling_uses_throughput_per_resource():
    rows = [row(1, 1000, 0.01), row(2, 1500, 0.01)]
    analysis.compare(rows, "weak")
    assert rows[1]["efficiency"] == pytest.approx((1500 / 2) / 1000)  # 0.75


def test_failed_baseline_falls_back_to_the_smallest_finished_configuration():
    rows = [row(1, None, None, status="failed"), row(2, 1000, 0.01), row(4, 1500, 0.012)]
    base = analysis.compare(rows, "strong")
    assert base is rows[1]
    assert rows[2]["relative_resources"] == 2
    assert rows[2]["efficiency"] == pytest.approx(0.75)
    assert "speedup" not in rows[0]


def test_without_step_reports_run_times_are_used():
    rows = [
        row(1, None, None, run_duration_s=10.0, run_energy_j=100.0),
        row(2, None, None, run_duration_s=6.0, run_energy_j=120.0),
    ]
    analysis.compare(rows, "strong")
    assert rows[1]["efficiency"] == pytest.approx(10 / (2 * 6))
    assert rows[1]["energy_ratio"] == pytest.approx(1.2)
    assert rows[1]["energy_ratio_basis"].startswith("whole runs")


def test_advice_names_least_energy_fastest_and_best_under_the_limit():
    rows = [row(1, 1000, 0.010), row(2, 1800, 0.012), row(4, 2000, 0.016)]
    analysis.compare(rows, "strong")
    advice = analysis.advise(rows, max_slowdown=1.2)
    assert advice["least_energy"] == "w1"
    assert advice["fastest"] == "w4"
    # within 1.2x of 2000 samples/s means >= 1666.7: 2 and 4 workers; 2 costs less.
    assert advice["best_under_limit"] == "w2"
    assert advice["inefficient"] == ["w2", "w4"]
    text = " ".join(advice["lines"])
    assert (
        "Least energy per sample: 1 worker (10 mJ/sample, range 5 mJ–15 mJ, estimated:tdp)" in text
    )
    assert "Inefficient scaling: with 4 workers each sample costs 1.60×" in text


def test_deadline_with_job_samples():
    rows = [row(1, 1000, 0.010), row(2, 1800, 0.012)]
    analysis.compare(rows, "strong")
    # 3.6 million samples: 1 worker 3600 s, 2 workers 2000 s; the deadline is 2500 s.
    advice = analysis.advise(rows, deadline_s=2500, job_samples=3.6e6)
    assert advice["best_under_limit"] == "w2"
    assert rows[0]["predicted_time_s"] == pytest.approx(3600)
    none_fit = analysis.advise(rows, deadline_s=100, job_samples=3.6e6)
    assert "best_under_limit" not in none_fit
    assert "No configuration meets your limit" in " ".join(none_fit["lines"])


def test_latency_limit_for_batch_sweeps():
    rows = [row(1, 100, 0.02, p95_latency_s=0.001), row(1, 900, 0.005, p95_latency_s=0.080)]
    rows[1]["config"] = Config("batch", batch_size=64).to_dict()
    advice = analysis.advise(rows, max_latency_s=0.050)
    assert advice["best_under_limit"] == rows[0]["config"]["key"]
    assert advice["least_energy"] == "w1-b64"


def test_nothing_finished():
    advice = analysis.advise([row(1, None, None, status="failed")])
    assert advice["lines"] == ["No configuration finished, so there is nothing to compare."]


@given(
    x1=st.floats(1, 1e6),
    n=st.integers(1, 64),
    eff=st.floats(0.01, 1.5),
)
def test_strong_and_weak_definitions_agree_on_throughput(x1, n, eff):
    """T = W / X for the same work W, so T1/(N×TN) equals (XN/N)/X1."""
    xn = x1 * n * eff
    work = 1e6
    assert analysis.efficiency_strong(work / x1, work / xn, n) == pytest.approx(eff)
    assert analysis.efficiency_weak(xn, x1, n) == pytest.approx(eff)
    assert analysis.speedup(xn, x1) == pytest.approx(n * eff)


@given(
    st.lists(
        st.tuples(st.floats(1, 1e5), st.floats(1e-6, 1.0)),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[0],
    )
)
def test_advice_picks_the_extremes(points):
    rows = [row(i + 1, x, e) for i, (x, e) in enumerate(points)]
    analysis.compare(rows, "strong")
    advice = analysis.advise(rows)
    fastest = max(rows, key=lambda r: r["throughput"])
    cheapest = min(rows, key=lambda r: r["energy_per_sample_j"])
    assert advice["fastest"] == fastest["config"]["key"]
    assert (
        rows[[r["config"]["key"] for r in rows].index(advice["least_energy"])][
            "energy_per_sample_j"
        ]
        == cheapest["energy_per_sample_j"]
    )
    for r in rows:
        assert r["inefficient"] == (r["config"]["resources"] > 1 and r["energy_ratio"] > 1)


def test_fmt_energy():
    assert analysis.fmt_energy(0.0012) == "1.2 mJ"
    assert analysis.fmt_energy(2500) == "2.5 kJ"
    assert analysis.fmt_energy(3e-7) == "300 nJ"
    assert analysis.fmt_energy(None) == "—"
