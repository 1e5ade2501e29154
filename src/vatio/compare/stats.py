"""Two-sample statistics for small, noisy samples (5-30 measurements a side).

The effect is the ratio of medians minus one, with a percentile-bootstrap
confidence interval; the Mann-Whitney U test gives a rank-based p-value
(exact when there are no ties and the samples are small, normal otherwise).
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
    effect: float  # candidate / baseline - 1 (medians)
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    u_statistic: float

    def to_dict(self) -> dict:
        return asdict(self)


def bootstrap_ratio_ci(
    baseline: np.ndarray,
    candidate: np.ndarray,
    confidence: float = 0.95,
    resamples: int = 4000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap CI of median(candidate)/median(baseline) - 1."""
    rng = np.random.default_rng(seed)
    b = baseline[rng.integers(0, len(baseline), size=(resamples, len(baseline)))]
    c = candidate[rng.integers(0, len(candidate), size=(resamples, len(candidate)))]
    ratios = np.median(c, axis=1) / np.median(b, axis=1) - 1
    alpha = (1 - confidence) / 2
    low, high = np.quantile(ratios, [alpha, 1 - alpha])
    return float(low), float(high)


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
    baseline: list[float], candidate: list[float], confidence: float = 0.95, seed: int = 0
) -> Comparison:
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    low, high = bootstrap_ratio_ci(b, c, confidence, seed=seed)
    u, p = mann_whitney(c, b)
    median_b, median_c = float(np.median(b)), float(np.median(c))
    return Comparison(
        len(b), len(c), median_b, median_c, median_c / median_b - 1, low, high, confidence, p, u
    )
