"""`--repeat auto`, run by run: look at the planned sizes, stop when the answer is clear.

With a baseline, the looks follow the group-sequential plan of
`vatio.compare.sequential` (false alarms <= 5 % over all looks). Without one
(recording a baseline, e.g. `--repeat auto --tag-as main`), there is nothing to
test: it stops once the noise measured so far lets a comparison of the same size
detect the change worth detecting (`--detect`) 95 % of the time, or at the maximum.
"""

from __future__ import annotations

from typing import Any

from vatio.compare.gate import metric_value, usable_metric
from vatio.compare.sequential import Look, Plan, calibrate, enough_precision, judge, look_sizes

N_MIN_ENERGY = 5
N_MIN_COUNTER = 3


class AutoRepeat:
    """The callback that decides, after each repetition, whether to go on."""

    def __init__(
        self,
        metric: str,
        threshold: float,
        detect: float,
        n_min: int,
        n_max: int,
        baseline: list[dict[str, Any]] | None = None,
    ) -> None:
        self.metric = metric
        self.threshold = threshold
        self.detect = detect
        self.looks = look_sizes(min(n_min, n_max), n_max)
        self.baseline = baseline or []
        self.plan: Plan | None = calibrate(len(baseline), self.looks) if baseline else None
        self.last: Look | None = None
        self.stopped: str = "maximum"

    def __call__(self, records: list[dict[str, Any]]) -> tuple[bool, str | None]:
        n = len(records)
        if n not in self.looks:
            return False, None
        metric = usable_metric(self.metric, self.baseline + records)  # as the final decision
        values = _values(records, metric)
        if any(v <= 0 for v in values):
            return False, None  # the gate's own checks report it afterwards
        if self.plan is None:
            if enough_precision(values, self.threshold, self.detect):
                self.stopped = "precision"
                return True, f"noise low enough at n = {n}"
            return False, f"n = {n}: noise still too high"
        base = _values(self.baseline, metric)
        if any(v <= 0 for v in base):
            return False, None
        look = judge(self.plan, self.looks.index(n), base, values, self.threshold)
        self.last = look
        if look.decision not in ("continue", "undecided"):
            self.stopped = look.decision
            return True, f"n = {n}: {look.decision}"
        c = look.comparison
        return False, f"n = {n}: {c.effect:+.0%} [{c.ci_low:+.0%}, {c.ci_high:+.0%}]"

    def to_dict(self, n: int) -> dict[str, Any]:
        return {
            "n": n,
            "looks": list(self.looks),
            "stopped": self.stopped,
            "look": self.last.to_dict() if self.last else None,
            "plan": self.plan.to_dict() if self.plan else None,
            "detect": self.detect,
        }


def _values(records: list[dict[str, Any]], metric: str) -> list[float]:
    return [float(metric_value(r, metric) or 0.0) for r in records]
