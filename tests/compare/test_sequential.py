"""`--repeat auto`: the sequential rule keeps false alarms at 5 % and stops early when clear."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vatio.compare.auto import AutoRepeat
from vatio.compare.sequential import calibrate, judge, look_sizes


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 50), st.integers(0, 200))
def test_looks_grow_from_the_minimum_to_the_maximum(n_min, extra):
    looks = look_sizes(n_min, n_min + extra)
    assert looks[0] == n_min and looks[-1] == n_min + extra
    assert all(b > a for a, b in itertools.pairwise(looks))


def test_boundaries_spend_at_most_alpha():
    plan = calibrate(10, look_sizes(5, 30))
    assert plan.spent[-1] <= 0.05
    assert list(plan.spent) == sorted(plan.spent)
    assert all(k >= -1 for k in plan.ks)


def _sequential(rng, plan, ratio, draw, threshold=0.05):
    base = list(draw(rng, plan.n_baseline))
    cand = list(ratio * draw(rng, plan.looks[-1]))
    for index, n in enumerate(plan.looks):
        look = judge(plan, index, base, cand[:n], threshold)
        if look.decision not in ("continue", "undecided"):
            return look
    return look


def test_false_alarms_stay_under_five_percent_for_a_skewed_distribution():
    """Worst case: a true change exactly at the threshold, heavy-tailed noise (lognormal 0.5
    plus exponential outliers); judged with the real rule at every look."""

    def draw(rng, n):
        return np.exp(rng.normal(0, 0.5, n)) + rng.exponential(0.3, n)

    rng = np.random.default_rng(11)
    plan = calibrate(8, look_sizes(5, 15))
    trials = 800
    alarms = sum(_sequential(rng, plan, 1.05, draw).decision == "regression" for _ in range(trials))
    assert alarms / trials <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / trials)


def test_a_clear_regression_stops_at_the_first_looks():
    def draw(rng, n):
        return np.exp(rng.normal(0, 0.05, n))

    rng = np.random.default_rng(5)
    plan = calibrate(10, look_sizes(5, 30))
    looks = [_sequential(rng, plan, 1.3, draw) for _ in range(50)]
    assert all(look.decision == "regression" for look in looks)
    assert max(look.n for look in looks) <= 9


def _records(values):
    return [{"status": "completed", "duration_s": v, "totals": {}} for v in values]


def test_auto_repeat_callback_stops_when_clear():
    gate = AutoRepeat("duration", 0.05, 0.2, 5, 30, baseline=_records([1.0, 1.01, 0.99, 1.0, 1.02]))
    values = [1.5, 1.49, 1.52, 1.51, 1.5, 1.48, 1.5]
    decisions = [gate(_records(values[:n])) for n in range(1, len(values) + 1)]
    stop_at = next(i + 1 for i, (stop, _) in enumerate(decisions) if stop)
    assert stop_at in gate.looks and gate.stopped == "regression"
    assert gate.to_dict(stop_at)["look"]["decision"] == "regression"


def test_recording_a_baseline_stops_once_precise_enough():
    gate = AutoRepeat("duration", 0.05, 0.2, 5, 30)
    stop, note = gate(_records([1.0, 1.001, 0.999, 1.0, 1.002]))
    assert stop and gate.stopped == "precision" and "n = 5" in note
    noisy = AutoRepeat("duration", 0.05, 0.2, 5, 30)
    assert noisy(_records([1.0, 1.6, 0.7, 1.3, 0.9])) == (False, "n = 5: noise still too high")


def test_zero_job_energy_falls_back_to_machine_energy_like_the_final_decision():
    """A job shorter than the sampling interval can record a job energy of 0."""

    def records(values, job):
        return [
            {"status": "completed", "totals": {"energy_j": v, "process_energy_j": job}}
            for v in values
        ]

    gate = AutoRepeat("process-energy", 0.05, 0.2, 5, 30, records([10, 10.1, 9.9, 10, 10.2], 0.0))
    stop, _ = gate(records([15, 15.1, 14.9, 15.2, 15], 0.0))
    assert stop and gate.stopped == "regression"
