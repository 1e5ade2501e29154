import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vatio.compare.gate import decide
from vatio.compare.stats import compare_samples, mann_whitney


def brute_force_p(x, y):
    """Exact two-sided Mann-Whitney p by enumerating every split of the pooled values."""
    pooled = np.concatenate([x, y])
    m = len(x)
    observed = sum(1.0 for a in x for b in y if a > b)
    extreme = min(observed, m * len(y) - observed)
    count = total = 0
    for chosen in itertools.combinations(range(len(pooled)), m):
        xs = pooled[list(chosen)]
        ys = np.delete(pooled, list(chosen))
        u = sum(1.0 for a in xs for b in ys if a > b)
        total += 1
        count += min(u, m * len(ys) - u) <= extreme
    return count / total


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 100), min_size=2, max_size=5, unique=True),
    st.lists(st.floats(0, 100), min_size=2, max_size=5, unique=True),
)
def test_exact_p_matches_enumeration(x, y):
    x, y = np.array(x), np.array(y)
    if set(x) & set(y):
        return
    _, p = mann_whitney(x, y)
    assert p == pytest.approx(min(1.0, brute_force_p(x, y)), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(1, 1000), min_size=3, max_size=12), st.floats(0.5, 2.0))
def test_interval_contains_the_point_estimate(values, scale):
    result = compare_samples(values, [v * scale for v in values])
    assert result.ci_low - 1e-9 <= result.effect <= result.ci_high + 1e-9
    assert result.effect == pytest.approx(scale - 1)


def test_decisions():
    base = [100.0, 101.0, 99.0, 100.5, 99.5]
    assert decide(base, [v * 1.3 for v in base], 0.05).regression
    same = decide(base, [100.2, 99.8, 100.9, 99.1, 100.0], 0.05)
    assert not same.regression and not same.improvement
    assert decide(base, [v * 0.7 for v in base], 0.05).improvement
