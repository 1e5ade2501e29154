"""Speed-up, parallel efficiency, energy ratio and the advice, from measured figures.

Pure arithmetic on dictionaries (one per configuration), so it is tested
against hand calculations. The baseline is the finished configuration with
the fewest resources (normally one worker or one thread); N below is a
configuration's resources divided by the baseline's.

Strong scaling (fixed total work): E = T1 / (N × TN), with T the time to do
the same work, T = work / throughput. Weak scaling (fixed work per worker):
the work grows with N, so E is the per-sample throughput per unit of
resources relative to the baseline, E = (XN / N) / X1; both say "1.0 means
perfectly linear".
"""

from __future__ import annotations

from typing import Any

DEFINITIONS = {
    "strong": "E = T1 / (N × TN): T is the time for the same total work, N the resources "
    "relative to the baseline (strong scaling: global work fixed).",
    "weak": "E = (XN / N) / X1: per-sample throughput per unit of resources relative to the "
    "baseline (weak scaling: work per worker fixed, so T1/(N×TN) does not apply).",
}
INEFFICIENT_TOLERANCE = 0.0  # any rise in energy per sample counts: the same work costs more


def speedup(x_n: float, x_1: float) -> float:
    return x_n / x_1


def efficiency_strong(t_1: float, t_n: float, n: float) -> float:
    """E = T1 / (N × TN)."""
    return t_1 / (n * t_n)


def efficiency_weak(x_n: float, x_1: float, n: float) -> float:
    """E = (XN / N) / X1, from throughputs (samples/s)."""
    return (x_n / n) / x_1


def _finished(row: dict[str, Any]) -> bool:
    return row.get("status") == "completed" and not row.get("config", {}).get("no_sync")


def _speed(row: dict[str, Any]) -> float | None:
    """Throughput, or 1/run time when the script reported no steps."""
    if row.get("throughput"):
        return row["throughput"]
    duration = row.get("run_duration_s")
    return 1.0 / duration if duration else None


def _per_sample(row: dict[str, Any]) -> float | None:
    return row.get("energy_per_sample_j")


def baseline(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    usable = [r for r in rows if _finished(r) and _speed(r)]
    return min(usable, key=lambda r: r["config"]["resources"]) if usable else None


def base_label(rows: list[dict[str, Any]]) -> str:
    base = baseline(rows)
    return base["config"]["label"] if base else "baseline"


def compare(rows: list[dict[str, Any]], scaling: str) -> dict[str, Any] | None:
    """Add speed-up, efficiency, energy ratio and the inefficiency flag to each row."""
    base = baseline(rows)
    if base is None:
        return None
    x_1 = _speed(base)
    assert x_1 is not None
    n_1 = base["config"]["resources"]
    by_throughput = all(r.get("throughput") for r in rows if _finished(r))
    for row in rows:
        x_n = _speed(row)
        if not _finished(row) or x_n is None:
            continue
        n = row["config"]["resources"] / n_1
        row["relative_resources"] = n
        row["speedup"] = speedup(x_n, x_1)
        if scaling == "weak" and by_throughput:
            row["efficiency"] = efficiency_weak(x_n, x_1, n)
        else:  # T for the same work is work / throughput, or the run time itself
            row["efficiency"] = efficiency_strong(1.0 / x_1, 1.0 / x_n, n)
        e_n, e_1 = _per_sample(row), _per_sample(base)
        if e_n is None or e_1 is None:
            e_n, e_1 = row.get("run_energy_j"), base.get("run_energy_j")
            row["energy_ratio_basis"] = "whole runs (no step reports)"
        if e_n is not None and e_1:
            row["energy_ratio"] = e_n / e_1
            row["inefficient"] = n > 1 and row["energy_ratio"] > 1 + INEFFICIENT_TOLERANCE
    return base


def advise(
    rows: list[dict[str, Any]],
    *,
    max_slowdown: float | None = None,
    deadline_s: float | None = None,
    job_samples: float | None = None,
    max_latency_s: float | None = None,
) -> dict[str, Any]:
    """The least-energy, fastest and best-under-limit configurations, in plain words."""
    done = [r for r in rows if _finished(r) and _speed(r)]
    advice: dict[str, Any] = {"lines": [], "inefficient": []}
    if not done:
        advice["lines"].append("No configuration finished, so there is nothing to compare.")
        return advice
    fastest = max(done, key=lambda r: _speed(r) or 0.0)
    priced = [r for r in done if _per_sample(r) is not None]
    least = min(priced, key=lambda r: _per_sample(r) or 0.0) if priced else None
    advice["fastest"] = fastest["config"]["key"]
    advice["lines"].append(f"Fastest: {fastest['config']['label']} ({_speed_text(fastest)}).")
    if least is not None:
        advice["least_energy"] = least["config"]["key"]
        advice["lines"].append(
            f"Least energy per sample: {least['config']['label']} ({energy_text(least)})."
        )
    limit, fits = _limit(done, fastest, max_slowdown, deadline_s, job_samples, max_latency_s)
    if limit:
        advice["limit"] = limit
        if fits:
            best = min(fits, key=lambda r: (_per_sample(r) or float("inf"), -(_speed(r) or 0)))
            advice["best_under_limit"] = best["config"]["key"]
            advice["lines"].append(
                f"Best under your limit ({limit}): {best['config']['label']} ({energy_text(best)})."
            )
        else:
            advice["lines"].append(
                f"No configuration meets your limit ({limit}); the fastest is "
                f"{fastest['config']['label']}."
            )
    for row in done:
        if row.get("inefficient"):
            advice["inefficient"].append(row["config"]["key"])
            advice["lines"].append(
                f"Inefficient scaling: with {row['config']['label']} each sample costs "
                f"{row['energy_ratio']:.2f}× the energy of the baseline "
                f"({base_label(rows)}), at {row['speedup']:.2f}× its speed."
            )
    return advice


def _limit(
    done: list[dict[str, Any]],
    fastest: dict[str, Any],
    max_slowdown: float | None,
    deadline_s: float | None,
    job_samples: float | None,
    max_latency_s: float | None,
) -> tuple[str | None, list[dict[str, Any]]]:
    if max_slowdown is not None:
        top = _speed(fastest) or 0.0
        fits = [r for r in done if (_speed(r) or 0.0) * max_slowdown >= top * (1 - 1e-9)]
        return f"at most {max_slowdown:g}× slower than the fastest", fits
    if deadline_s is not None:
        fits = []
        for row in done:
            seconds = predicted_time_s(row, job_samples)
            row["predicted_time_s"] = seconds
            if seconds is not None and seconds <= deadline_s:
                fits.append(row)
        work = f"{job_samples:g} samples" if job_samples else "the measured work"
        return f"{work} within {_duration(deadline_s)}", fits
    if max_latency_s is not None:
        fits = [r for r in done if (r.get("p95_latency_s") or float("inf")) <= max_latency_s]
        return f"p95 latency at most {max_latency_s * 1000:g} ms", fits
    return None, []


def predicted_time_s(row: dict[str, Any], job_samples: float | None) -> float | None:
    """Time for the job at this configuration's throughput (or the measured run time)."""
    if job_samples and row.get("throughput"):
        return job_samples / row["throughput"]
    return row.get("window_s") or row.get("run_duration_s")


def _speed_text(row: dict[str, Any]) -> str:
    text = f"{row['throughput']:,.0f} samples/s" if row.get("throughput") else "by run time"
    if row.get("speedup") is not None and row.get("relative_resources", 1) != 1:
        text += f", {row['speedup']:.2f}× the baseline, efficiency {row['efficiency']:.2f}"
    return text


def energy_text(row: dict[str, Any]) -> str:
    """Energy per sample with its range and method: every printed figure carries both."""
    if row.get("energy_per_sample_j") is None:
        return "energy per sample unknown"
    return (
        f"{fmt_energy(row['energy_per_sample_j'])}/sample, range "
        f"{fmt_energy(row['energy_per_sample_low_j'])}–{fmt_energy(row['energy_per_sample_high_j'])}"
        f", {row.get('method') or 'unknown method'}"
    )


def fmt_energy(joules: float | None) -> str:
    if joules is None:
        return "—"
    for unit, factor in (("kJ", 1e3), ("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6)):
        if abs(joules) >= factor:
            return f"{joules / factor:.3g} {unit}"
    return f"{joules / 1e-9:.3g} nJ"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
