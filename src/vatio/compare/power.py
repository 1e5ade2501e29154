"""How much noise a comparison had, and the smallest change it could have seen.

The gate calls a regression when the one-sided 95 % lower bound of the
Hodges-Lehmann ratio (the order statistic k of the pairwise log-ratios that
Mann-Whitney's null distribution gives, `stats._lower_count`) lies above the
threshold. Whether that happens for a true ratio rho depends on rho, the
noise of each side and n. This module answers, for the gate's own rule:

* power(rho): the probability that the gate calls a true change rho a regression;
* the minimal detectable change (MDE) at a power P: the smallest rho - 1 with
  power(rho) >= P;
* the n a side that brings the MDE down to a change the user cares about.

Model: log values are normal with each side's measured spread (lognormal runs;
`sigma = std(log x)`). Up to `EXACT_MAX_PAIRS` pairwise ratios, it is computed
by simulation with the gate's exact rule, and since a true shift only adds
log(rho) to every pairwise log-ratio, each simulated trial has one critical
ratio (1 + threshold) * exp(-kth) above which it detects: power(rho) is the
fraction of trials whose critical ratio is below rho, for every rho at once
(common random numbers, a fixed seed, so the answer is reproducible). Beyond,
the asymptotic normal law of the HL estimator is used: its variance is
(pi/3) * (sigma_b^2/n_b + sigma_c^2/n_c) for normal data (efficiency 3/pi
relative to the t-test), and the bound is estimate - z_(1-alpha) * SE.
The spread measured on a few runs is itself uncertain (on 5 runs, by about
+-35 %): the figures are a guide to n, not a guarantee.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from vatio.compare.stats import _lower_count

ALPHA = 0.05  # one-sided, as the gate's decision
EXACT_MAX_PAIRS = 900  # n_b * n_c up to which the rule is simulated exactly (30 a side)
TRIALS = 2000
SEED = 20261201
MAX_N = 1000


def cv(values: list[float]) -> float:
    """Coefficient of variation (sample standard deviation / mean)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2 or x.mean() == 0:
        return 0.0
    return float(x.std(ddof=1) / abs(x.mean()))


def log_sigma(values: list[float]) -> float:
    """Spread of the logarithms: the noise of a ratio comparison."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return 0.0
    return float(np.log(x).std(ddof=1))


def critical_ratios(
    n_b: int,
    n_c: int,
    sigma_b: float,
    sigma_c: float,
    threshold: float,
    alpha: float = ALPHA,
    trials: int = TRIALS,
    seed: int = SEED,
) -> np.ndarray:
    """Per simulated trial, the true ratio above which the gate calls a regression."""
    k = _lower_count(n_c, n_b, alpha)
    if k < 0:
        return np.full(trials, math.inf)
    if sigma_b == sigma_c:  # the k-th log-ratio scales with a common spread: reuse unit draws
        kth = sigma_b * _kth(n_b, n_c, k, 1.0, 1.0, trials, seed)
    else:
        kth = _kth(n_b, n_c, k, sigma_b, sigma_c, trials, seed)
    return (1 + threshold) * np.exp(-kth)


@lru_cache(maxsize=256)
def _kth_cached(n_b: int, n_c: int, k: int, trials: int, seed: int) -> np.ndarray:
    return _kth_draw(n_b, n_c, k, 1.0, 1.0, trials, seed)


def _kth(n_b, n_c, k, sigma_b, sigma_c, trials, seed) -> np.ndarray:
    if sigma_b == sigma_c == 1.0:
        return _kth_cached(n_b, n_c, k, trials, seed)
    return _kth_draw(n_b, n_c, k, sigma_b, sigma_c, trials, seed)


def _kth_draw(n_b, n_c, k, sigma_b, sigma_c, trials, seed) -> np.ndarray:
    """The k-th smallest pairwise log-ratio of each simulated trial (no true change)."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((trials, n_b)) * sigma_b
    cand = rng.standard_normal((trials, n_c)) * sigma_c
    kth = np.empty(trials)
    chunk = max(1, 2_000_000 // (n_b * n_c))
    for start in range(0, trials, chunk):
        block = slice(start, start + chunk)
        diffs = (cand[block, :, None] - base[block, None, :]).reshape(-1, n_b * n_c)
        kth[block] = np.partition(diffs, k, axis=1)[:, k]
    kth.setflags(write=False)
    return kth


def _asymptotic_se(n_b: int, n_c: int, sigma_b: float, sigma_c: float) -> float:
    return math.sqrt(math.pi / 3 * (sigma_b**2 / n_b + sigma_c**2 / n_c))


def power(
    ratio: float,
    n_b: int,
    n_c: int,
    sigma_b: float,
    sigma_c: float,
    threshold: float,
    alpha: float = ALPHA,
) -> float:
    """Probability that the gate calls a true `ratio` (e.g. 1.2) a regression."""
    if _lower_count(n_c, n_b, alpha) < 0:
        return 0.0
    if n_b * n_c <= EXACT_MAX_PAIRS:
        return float(np.mean(critical_ratios(n_b, n_c, sigma_b, sigma_c, threshold, alpha) < ratio))
    se = _asymptotic_se(n_b, n_c, sigma_b, sigma_c)
    margin = math.log(ratio) - math.log1p(threshold)
    if se == 0:
        return 1.0 if margin > 0 else 0.0
    return NormalDist().cdf(margin / se - NormalDist().inv_cdf(1 - alpha))


def min_detectable(
    n_b: int,
    n_c: int,
    sigma_b: float,
    sigma_c: float,
    threshold: float,
    level: float = 0.8,
    alpha: float = ALPHA,
) -> float:
    """Smallest change (ratio - 1) the gate detects with probability `level`; inf if none."""
    if _lower_count(n_c, n_b, alpha) < 0:
        return math.inf
    if n_b * n_c <= EXACT_MAX_PAIRS:
        ratios = critical_ratios(n_b, n_c, sigma_b, sigma_c, threshold, alpha)
        return float(np.quantile(ratios, level, method="higher") - 1)
    se = _asymptotic_se(n_b, n_c, sigma_b, sigma_c)
    z = NormalDist().inv_cdf(1 - alpha) + NormalDist().inv_cdf(level)
    return math.expm1(math.log1p(threshold) + z * se)


def runs_needed(
    sigma_b: float,
    sigma_c: float,
    threshold: float,
    change: float,
    level: float = 0.95,
    alpha: float = ALPHA,
    max_n: int = MAX_N,
) -> int | None:
    """Smallest n a side at which a true `change` is detected with probability `level`.

    None when no n up to `max_n` does (or the change is not above the threshold).
    """
    if change <= threshold:
        return None

    def enough(n: int) -> bool:
        return min_detectable(n, n, sigma_b, sigma_c, threshold, level, alpha) <= change

    exact_max = math.isqrt(EXACT_MAX_PAIRS)
    n = 3
    while n <= exact_max:  # the exact rule: few, cheap simulations
        if enough(n):
            return n
        n += 1 if n < 10 else 2
    z = NormalDist().inv_cdf(1 - alpha) + NormalDist().inv_cdf(level)
    gap = math.log1p(change) - math.log1p(threshold)
    estimate = math.ceil(z**2 * math.pi / 3 * (sigma_b**2 + sigma_c**2) / gap**2)
    n = max(estimate, exact_max)
    return n if n <= max_n else None


@dataclass
class Noise:
    """The noise of one comparison and what it could detect."""

    cv_baseline: float
    cv_candidate: float
    n_baseline: int
    n_candidate: int
    threshold: float
    min_detectable_80: float
    min_detectable_95: float
    detect: float
    n_needed_95: int | None
    model: str = "lognormal runs; the gate's HL/Mann-Whitney one-sided 95 % rule, simulated"

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("min_detectable_80", "min_detectable_95"):
            if not math.isfinite(data[key]):
                data[key] = None
        return data

    def lines(self, unit_label: str = "") -> list[str]:
        sides = (
            f"n = {self.n_baseline} a side"
            if self.n_baseline == self.n_candidate
            else f"n = {self.n_baseline} and {self.n_candidate}"
        )
        head = (
            f"noise{unit_label}: CV {percent(self.cv_baseline)} baseline, "
            f"{percent(self.cv_candidate)} candidate"
        )
        if not math.isfinite(self.min_detectable_80):
            sight = (
                f"at {sides} the gate cannot call any change at 95 % confidence "
                "(at least 3 runs a side are needed)"
            )
        elif self.min_detectable_95 - self.threshold < 0.001:
            sight = (
                f"at {sides}, every change above the {signed_percent(self.threshold)} threshold is "
                "detected (the noise is negligible)"
            )
        else:
            sight = (
                f"at {sides}, changes under {signed_percent(self.min_detectable_80)} are likely "
                f"invisible (detected < 80 % of the time; 95 % needs "
                f"{signed_percent(self.min_detectable_95)})"
            )
        if self.n_needed_95 is None:
            advice = (
                f"to detect {signed_percent(self.detect)} 95 % of the time would take more than "
                f"{MAX_N} runs a side: reduce the noise (a quieter runner, --counter "
                "instructions)"
            )
        elif self.min_detectable_95 <= self.detect:
            advice = f"{signed_percent(self.detect)} is detected ≥ 95 % of the time at this n"
        else:
            advice = (
                f"to detect {signed_percent(self.detect)} 95 % of the time, use n ≥ "
                f"{self.n_needed_95} a side"
            )
        return [f"{head}; {sight}.", f"  {advice[0].upper()}{advice[1:]}."]


def percent(value: float) -> str:
    """A percentage with 2 significant figures under 10 % (0.0031 %, 4.2 %), else whole."""
    if value == 0:
        return "0 %"
    return f"{100 * value:.2g} %" if value < 0.1 else f"{100 * value:.0f} %"


def signed_percent(value: float) -> str:
    return "+" + percent(value)


def default_detect(threshold: float) -> float:
    """The change worth detecting when none is given: 20 %, or twice a larger threshold."""
    return max(0.20, 2 * threshold)


def assess(
    baseline: list[float], candidate: list[float], threshold: float, detect: float | None = None
) -> Noise:
    """The noise report for one comparison."""
    sb, sc = log_sigma(baseline), log_sigma(candidate)
    nb, nc = len(baseline), len(candidate)
    target = default_detect(threshold) if detect is None else detect
    return Noise(
        cv_baseline=cv(baseline),
        cv_candidate=cv(candidate),
        n_baseline=nb,
        n_candidate=nc,
        threshold=threshold,
        min_detectable_80=min_detectable(nb, nc, sb, sc, threshold, 0.8),
        min_detectable_95=min_detectable(nb, nc, sb, sc, threshold, 0.95),
        detect=target,
        n_needed_95=runs_needed(sb, sc, threshold, target, 0.95),
    )
