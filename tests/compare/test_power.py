"""Noise and power of the gate: checked against the gate's own decision, run many times."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vatio.compare.gate import decide
from vatio.compare.power import (
    assess,
    critical_ratios,
    log_sigma,
    min_detectable,
    power,
    runs_needed,
)


def test_power_matches_the_gate_run_for_real():
    """The critical-ratio shortcut agrees with calling decide() on simulated runs."""
    rng = np.random.default_rng(7)
    sigma, n, ratio, trials = 0.15, 6, 1.3, 400
    hits = sum(
        decide(
            list(np.exp(rng.normal(0, sigma, n))),
            list(ratio * np.exp(rng.normal(0, sigma, n))),
            0.05,
        ).regression
        for _ in range(trials)
    )
    predicted = power(ratio, n, n, sigma, sigma, 0.05)
    assert abs(hits / trials - predicted) < 4 * math.sqrt(predicted * (1 - predicted) / trials)


def test_exact_and_asymptotic_agree_where_they_meet():
    sigma = 0.2
    exact = min_detectable(30, 30, sigma, sigma, 0.05, 0.8)  # 900 pairs: simulated
    asymptotic = min_detectable(31, 30, sigma, sigma, 0.05, 0.8)  # 930 pairs: normal law
    assert exact == pytest.approx(asymptotic, abs=0.02)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.01, 0.4), st.integers(3, 12), st.sampled_from([0.0, 0.05, 0.1]))
def test_more_runs_see_smaller_changes_and_noise_hides_them(sigma, n, threshold):
    now = min_detectable(n, n, sigma, sigma, threshold, 0.8)
    assert now > threshold  # nothing under the threshold is ever called
    assert min_detectable(n + 4, n + 4, sigma, sigma, threshold, 0.8) <= now + 0.01
    assert min_detectable(n, n, sigma * 1.5, sigma * 1.5, threshold, 0.8) >= now
    assert min_detectable(n, n, sigma, sigma, threshold, 0.95) >= now


def test_too_few_runs_can_never_decide():
    assert min_detectable(2, 2, 0.1, 0.1, 0.05) == math.inf
    assert np.isinf(critical_ratios(2, 3, 0.1, 0.1, 0.05)).all()
    noise = assess([1.0, 1.1], [1.2, 1.3], 0.05)
    assert "cannot call any change" in noise.lines()[0]
    assert noise.to_dict()["min_detectable_80"] is None


def test_no_noise_means_the_threshold_is_all():
    """Deterministic counts: every change above the threshold is seen at n = 3."""
    noise = assess([1e9] * 3, [1e9] * 3, 0.05)
    assert noise.min_detectable_95 == pytest.approx(0.05)
    assert noise.n_needed_95 == 3
    assert "every change above the +5 % threshold" in noise.lines()[0]


def test_runs_needed_is_the_smallest_that_suffices():
    sigma = log_sigma([100, 120, 90, 110, 105, 95])
    needed = runs_needed(sigma, sigma, 0.05, 0.20)
    assert needed is not None
    assert min_detectable(needed, needed, sigma, sigma, 0.05, 0.95) <= 0.20
    assert min_detectable(needed - 2, needed - 2, sigma, sigma, 0.05, 0.95) > 0.20
    assert runs_needed(sigma, sigma, 0.05, 0.04) is None  # under the threshold: never
    assert runs_needed(2.0, 2.0, 0.05, 0.06) is None  # would need more than 1000


def test_noise_line_reads_like_the_issue():
    rng = np.random.default_rng(3)
    base = list(100 * np.exp(rng.normal(0, 0.18, 5)))
    cand = list(100 * np.exp(rng.normal(0, 0.18, 5)))
    noise = assess(base, cand, 0.05)
    head, advice = noise.lines()
    assert head.startswith("noise: CV ") and "at n = 5 a side, changes under +" in head
    assert f"use n ≥ {noise.n_needed_95} a side" in advice
    assert noise.n_needed_95 > 5
