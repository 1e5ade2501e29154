"""`--repeat auto`: repeat the candidate until the gate's answer is clear.

A group-sequential design with an alpha-spending function (Lan & DeMets, 1983)
and exact, distribution-free boundaries:

* The candidate is judged at a few looks (n = n_min, then about 25 % more runs
  each time, up to n_max) against the fixed baseline.
* At look j the gate calls a regression when the Hodges-Lehmann lower bound of
  order k_j lies above the threshold, i.e. when at most k_j of the pairwise
  log-ratios lie at or below log(1 + threshold) (the Mann-Whitney count of the
  candidate scaled down by 1 + threshold against the baseline).
* At a true change equal to the threshold, the scaled candidate and the
  baseline are identically distributed, so the joint law of those counts at all
  looks depends only on ranks: it is the same for every continuous
  distribution. The k_j are calibrated on simulated rank paths so that the
  probability of calling a regression at any look is at most the spent alpha
  alpha * t_j^2 (t_j, the information fraction (1/n_b + 1/n_max) / (1/n_b +
  1/n_j)), the power family with rho = 2 (between Pocock and O'Brien-Fleming:
  little spent on the first looks, most kept for the last). The Monte Carlo
  error is paid for by calibrating at alpha minus two standard errors.
* It also stops, without a regression, once the upper bound at the same level
  lies below the threshold (a non-binding futility stop: it can only lower the
  false-alarm rate).

So the false-alarm rate stays at or under 5 % however the looks fall, and the
answer comes as soon as it is clear; the n the decision needed is reported.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from vatio.compare.stats import Comparison, mann_whitney

ALPHA = 0.05
RHO = 2.0
GROWTH = 1.25
SIMULATIONS = 20000
SEED = 20261202


def look_sizes(n_min: int, n_max: int, growth: float = GROWTH) -> tuple[int, ...]:
    """n_min, then about `growth` times more runs each look, ending at n_max."""
    sizes = [n_min]
    while sizes[-1] < n_max:
        sizes.append(min(n_max, max(sizes[-1] + 1, math.ceil(sizes[-1] * growth))))
    return tuple(sizes)


@dataclass(frozen=True)
class Plan:
    """Looks and boundaries: reject at look j when the count is at most ks[j] (-1: cannot)."""

    n_baseline: int
    looks: tuple[int, ...]
    ks: tuple[int, ...]
    spent: tuple[float, ...]  # simulated probability of a false alarm by each look
    alpha: float

    def to_dict(self) -> dict:
        return asdict(self) | {
            "rule": f"alpha spending alpha*t^{RHO:g}, exact rank boundaries "
            f"({SIMULATIONS} simulated paths), non-binding futility stop"
        }


def spending(n_b: int, looks: tuple[int, ...], alpha: float = ALPHA) -> list[float]:
    """Cumulative alpha allowed by each look (power family, information fraction)."""
    n_max = looks[-1]
    fractions = [(1 / n_b + 1 / n_max) / (1 / n_b + 1 / n) for n in looks]
    return [alpha * t**RHO for t in fractions]


@lru_cache(maxsize=64)
def calibrate(
    n_b: int, looks: tuple[int, ...], alpha: float = ALPHA, simulations: int = SIMULATIONS
) -> Plan:
    """Boundaries k_j whose false-alarm probability, summed over looks, stays within budget."""
    rng = np.random.default_rng(SEED)
    margin = 2 * math.sqrt(alpha * (1 - alpha) / simulations)  # Monte Carlo error
    budget = [max(0.0, a - margin * a / alpha) for a in spending(n_b, looks, alpha)]
    rows = np.arange(simulations)[:, None]
    # one sorted array of every path's baseline (path index + uniform), searched at once
    base = np.sort(rng.random((simulations, n_b)), axis=1) + rows
    flat = base.ravel()
    count = np.zeros(simulations, dtype=np.int64)
    alive = np.ones(simulations, dtype=bool)
    done = 0
    rejected = 0
    ks: list[int] = []
    spent: list[float] = []
    for j, n in enumerate(looks):
        cand = rng.random((simulations, n - done)) + rows
        below = np.searchsorted(flat, cand) - rows * n_b  # baseline values under each one
        count += (n_b - below).sum(axis=1)
        done = n
        allowed = math.floor(budget[j] * simulations) - rejected
        k = _largest_k(count[alive], allowed)
        if k >= 0:
            hit = alive & (count <= k)
            rejected += int(hit.sum())
            alive &= ~hit
        ks.append(k)
        spent.append(rejected / simulations)
    return Plan(n_b, tuple(looks), tuple(ks), tuple(spent), alpha)


def _largest_k(counts: np.ndarray, allowed: int) -> int:
    """Largest k with #(counts <= k) <= allowed (-1 when even k = 0 is too many)."""
    if allowed <= 0 or len(counts) == 0:
        return -1
    ordered = np.sort(counts)
    if allowed >= len(ordered):
        return int(ordered[-1])
    # the largest value v with #(<= v) <= allowed is just under ordered[allowed]
    return int(ordered[allowed]) - 1


@dataclass
class Look:
    n: int
    index: int
    decision: str  # regression | improvement | no-regression | continue | undecided
    comparison: Comparison
    k: int

    def to_dict(self) -> dict:
        return {"n": self.n, "look": self.index + 1, "decision": self.decision, "k": self.k}


def judge(
    plan: Plan, index: int, baseline: list[float], candidate: list[float], threshold: float
) -> Look:
    """The gate's answer at look `index` (candidate has plan.looks[index] runs)."""
    b = np.log(np.asarray(baseline, dtype=float))
    c = np.log(np.asarray(candidate, dtype=float))
    diffs = np.sort((c[:, None] - b[None, :]).ravel())
    k = plan.ks[index]
    estimate = float(np.expm1(np.median(diffs)))
    if k < 0:
        low, high = -math.inf, math.inf
    else:
        low, high = float(np.expm1(diffs[k])), float(np.expm1(diffs[len(diffs) - 1 - k]))
    u, p = mann_whitney(np.exp(c), np.exp(b))
    level = plan.spent[index] - (plan.spent[index - 1] if index else 0.0)
    comparison = Comparison(
        len(b),
        len(c),
        float(np.median(np.exp(b))),
        float(np.median(np.exp(c))),
        estimate,
        low,
        high,
        1 - 2 * max(level, 0.0),
        p,
        u,
    )
    last = index == len(plan.looks) - 1
    if low > threshold:
        decision = "regression"
    elif high < -threshold:
        decision = "improvement"
    elif high < threshold:
        decision = "no-regression"
    else:
        decision = "undecided" if last else "continue"
    return Look(len(c), index, decision, comparison, k)


def enough_precision(values: list[float], threshold: float, detect: float) -> bool:
    """For recording a baseline with --repeat auto: the noise so far lets an equal-size
    comparison detect `detect` 95 % of the time."""
    from vatio.compare.power import log_sigma, min_detectable

    sigma = log_sigma(values)
    n = len(values)
    return min_detectable(n, n, sigma, sigma, threshold, 0.95) <= detect
