"""Two-sample statistics for small, noisy samples (5-30 measurements a side).

The effect is a ratio: the Hodges-Lehmann estimate of the shift between the
logarithms of the two samples (the median of all pairwise log-ratios), with
its distribution-free confidence interval from the order statistics of those
pairwise ratios (Bauer, 1972) — the interval that goes with the Mann-Whitney
test, which also gives the p-value (exact when there are no ties and the
samples are small, normal otherwise). It is more efficient than bootstrapping
medians when there are only a few runs a side, and as robust to outliers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Comparison:
    n_baseline: int
    n_candidate: int
    median_baseline: float
    median_candidate: float
    effect: float  # candidate / baseline - 1 (Hodges-Lehmann, on log values)
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    u_statistic: float

    def to_dict(self) -> dict:
        return asdict(self)


def _lower_count(m: int, n: int, alpha: float) -> int:
    """Largest k with P(U <= k) <= alpha under the null (-1 when even k = 0 exceeds it)."""
    if m + n <= 40:
        counts = np.array(_u_counts(m, n), dtype=float)
        cumulative = np.cumsum(counts) / counts.sum()
        below = np.nonzero(cumulative <= alpha + 1e-12)[0]
        return int(below[-1]) if len(below) else -1
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - alpha)
    return math.floor(m * n / 2 - z * math.sqrt(m * n * (m + n + 1) / 12))


def hodges_lehmann_ratio(
    baseline: np.ndarray, candidate: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """(ratio - 1, lower, upper): shift of log values and its distribution-free interval."""
    diffs = np.sort((np.log(candidate)[:, None] - np.log(baseline)[None, :]).ravel())
    k = _lower_count(len(candidate), len(baseline), (1 - confidence) / 2)
    estimate = float(np.exp(np.median(diffs)) - 1)
    if k < 0:  # too few runs for this confidence: the interval is unbounded
        return estimate, -math.inf, math.inf
    return estimate, float(np.exp(diffs[k]) - 1), float(np.exp(diffs[len(diffs) - 1 - k]) - 1)


@lru_cache(maxsize=256)
def _u_counts(m: int, n: int) -> tuple[int, ...]:
    """Number of arrangements giving each U for sizes m, n (no ties)."""
    if m == 0 or n == 0:
        return (1,)
    with_last_in_x = _u_counts(m - 1, n)  # the largest value belongs to x: adds n to U
    with_last_in_y = _u_counts(m, n - 1)
    counts = [0] * (m * n + 1)
    for u, ways in enumerate(with_last_in_x):
        counts[u + n] += ways
    for u, ways in enumerate(with_last_in_y):
        counts[u] += ways
    return tuple(counts)


def mann_whitney(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(U of x, two-sided p-value)."""
    m, n = len(x), len(y)
    combined = np.concatenate([x, y])
    order = combined.argsort(kind="mergesort")
    ranks = np.empty(len(combined))
    sorted_values = combined[order]
    i = 0
    while i < len(combined):  # average ranks over ties
        j = i
        while j + 1 < len(combined) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    u = float(ranks[:m].sum() - m * (m + 1) / 2)
    has_ties = len(np.unique(combined)) < len(combined)
    if not has_ties and m + n <= 40:
        counts = np.array(_u_counts(m, n), dtype=float)
        probs = counts / counts.sum()
        lower = probs[: math.floor(min(u, m * n - u)) + 1].sum()
        return u, float(min(1.0, 2 * lower))
    _, tie_counts = np.unique(combined, return_counts=True)
    total = m + n
    variance = (
        m * n / 12 * ((total + 1) - (tie_counts**3 - tie_counts).sum() / (total * (total - 1)))
    )
    if variance <= 0:
        return u, 1.0
    z = (abs(u - m * n / 2) - 0.5) / math.sqrt(variance)
    return u, float(math.erfc(max(z, 0) / math.sqrt(2)))


def compare_samples(
    baseline: list[float], candidate: list[float], confidence: float = 0.95
) -> Comparison:
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    if (b <= 0).any() or (c <= 0).any():
        raise ValueError("energy samples must be positive to compare them as ratios")
    effect, low, high = hodges_lehmann_ratio(b, c, confidence)
    u, p = mann_whitney(c, b)
    median_b, median_c = float(np.median(b)), float(np.median(c))
    return Comparison(len(b), len(c), median_b, median_c, effect, low, high, confidence, p, u)
