"""The regression decision, and how runs become samples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vatio.compare.stats import Comparison, compare_samples
from vatio.errors import InputError

METRICS = {
    "energy": ("machine energy", "J"),
    "process-energy": ("job energy", "J"),
    "co2e": ("carbon", "gCO2e"),
    "duration": ("duration", "s"),
    "instructions": ("instruction count (a proxy, not energy)", "instructions"),
}
#: the most a threshold or a change to detect may be (x11)
MAX_FRACTION = 10.0


def counter_section(record: dict[str, Any]) -> dict[str, Any] | None:
    """The instruction count a counted repetition recorded (extensions.compare.counter)."""
    section = ((record.get("extensions") or {}).get("compare") or {}).get("counter")
    return section if isinstance(section, dict) else None


def metric_value(record: dict[str, Any], metric: str) -> float | None:
    totals = record.get("totals") or {}
    if metric == "energy":
        return totals.get("energy_j")
    if metric == "process-energy":
        return totals.get("process_energy_j")
    if metric == "co2e":
        return (record.get("carbon") or {}).get("co2e_g")
    if metric == "duration":
        return record.get("duration_s")
    if metric == "instructions":
        section = counter_section(record)
        return None if section is None else section.get("value")
    raise InputError(f"Unknown metric {metric!r}.", f"Use one of: {', '.join(METRICS)}.")


def samples(records: list[dict[str, Any]], metric: str, side: str) -> list[float]:
    values = []
    for record in records:
        value = metric_value(record, metric)
        if value is None:
            raise InputError(
                f"Run {record.get('id')} ({side}) has no {METRICS[metric][0]} figure.",
                "Record it with vatio compare --counter instructions --repeat N -- CMD."
                if metric == "instructions"
                else "Compare runs that recorded it (co2e needs a grid zone).",
            )
        if record.get("status") != "completed":
            raise InputError(
                f"Run {record.get('id')} ({side}) did not complete ({record.get('status')}).",
                "Compare completed runs only.",
            )
        if value <= 0:
            raise InputError(
                f"Run {record.get('id')} ({side}) has a {METRICS[metric][0]} of {value:g}.",
                "Only positive figures can be compared as ratios; pick another --metric.",
            )
        values.append(float(value))
    return values


def usable_metric(metric: str, records: list[dict[str, Any]]) -> str:
    """process-energy falls back to machine energy when a run has no job share (or a zero
    one: a job shorter than the sampling interval can end before its CPU time is read)."""
    if metric == "process-energy" and any(
        not (r.get("totals") or {}).get("process_energy_j") for r in records
    ):
        return "energy"
    return metric


def methods(records: list[dict[str, Any]], metric: str) -> list[str]:
    """How the figures were obtained (energy methods, or the instruction counter)."""
    if metric == "instructions":
        found = {(counter_section(r) or {}).get("method") or "?" for r in records}
    else:
        found = {(r.get("totals") or {}).get("method") or "?" for r in records}
    return sorted(found)


def check_same_counter(base: list[dict[str, Any]], cand: list[dict[str, Any]]) -> None:
    """Counts from perf and from cachegrind differ by a few percent: never mix them."""
    b, c = methods(base, "instructions"), methods(cand, "instructions")
    if len(set(b) | set(c)) > 1:
        raise InputError(
            f"The baseline was counted by {', '.join(b)} and the candidate by {', '.join(c)}; "
            "counts from different counters are not comparable.",
            "Record both sides with the same --counter-tool.",
        )


def parse_change(text: str, what: str, *, allow_zero: bool = True) -> float:
    """A relative change such as '5%' or '0.05', bounded and finite."""
    import math

    from vatio.units import parse_fraction

    try:
        value = parse_fraction(text)
    except InputError:
        raise InputError(f"Cannot read the {what} {text!r}.", "Use e.g. 5% or 0.05.") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise InputError(
            f"The {what} {text!r} must be a finite, positive change.", "Use e.g. 5% or 0.05."
        )
    if value > MAX_FRACTION:
        raise InputError(
            f"The {what} {text!r} is above {MAX_FRACTION:.0%}.", "Use e.g. 5% or 0.05."
        )
    return value


@dataclass
class Verdict:
    comparison: Comparison
    threshold: float
    regression: bool
    improvement: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.comparison.to_dict(),
            "threshold": self.threshold,
            "regression": self.regression,
            "improvement": self.improvement,
            "reason": self.reason,
        }


#: two-sided 90 % interval = one-sided 95 % bounds: a regression is called when the
#: lower bound is above the threshold, so a true change at the threshold fails <= 5 %.
CONFIDENCE = 0.90


def decide(
    baseline: list[float], candidate: list[float], threshold: float, confidence: float = CONFIDENCE
) -> Verdict:
    """A regression only when the one-sided lower confidence bound lies above the threshold."""
    if len(baseline) < 2 or len(candidate) < 2:
        raise InputError(
            "Need at least 2 runs a side to judge noise "
            f"(got {len(baseline)} and {len(candidate)}).",
            "Repeat the measurement: vatio compare --repeat 5 -- CMD.",
        )
    result = compare_samples(baseline, candidate, confidence)
    pct = 100 * result.confidence
    interval = (
        f"{result.effect:+.1%} [{result.ci_low:+.1%}, {result.ci_high:+.1%}] "
        f"({pct:.0f}% CI; each bound one-sided {50 + pct / 2:.0f}%)"
    )
    if result.ci_low > threshold:
        return Verdict(result, threshold, True, False, f"regression: {interval} > {threshold:+.0%}")
    if result.ci_high < -threshold:
        return Verdict(result, threshold, False, True, f"improvement: {interval}")
    return Verdict(
        result,
        threshold,
        False,
        False,
        f"no significant change beyond {threshold:.0%}: {interval}",
    )
