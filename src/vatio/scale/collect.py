"""From rank reports and the node's energy record to one configuration's figures.

One tracker measures each node once, around torchrun, so the node's devices
are counted once however many ranks share them. The energy per sample uses
the node's energy over the training window (first to last reported step of
any local rank), cut from the tracker's timeline; process launch, imports and
rendezvous are reported apart as the launch overhead. Nodes are merged by
summing energy and samples; each node's throughput is its own samples over
its own window, so clocks need not agree between nodes.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from vatio.measure.result import RunResult


def read_rank_reports(directory: Path) -> list[dict[str, Any]]:
    reports = []
    for path in sorted(directory.glob("rank-*.json")):
        try:
            reports.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(reports, key=lambda r: r.get("rank", 0))


def window_energy(result: RunResult, start: float, end: float) -> dict[str, Any] | None:
    """Machine energy between two wall times, from the timeline, with its range and method.

    Timeline intervals that straddle an edge count in proportion to their
    overlap. Low and high scale with each device's whole-run ratio, since the
    timeline keeps central values only.
    """
    timeline = result.timeline or {}
    t0s, t1s = timeline.get("t0") or [], timeline.get("t1") or []
    powers = timeline.get("power_w") or {}
    if not t0s or end <= start or not result.devices:
        return None
    central = low = high = 0.0
    for device in result.devices:
        series = powers.get(device.name)
        if series is None:
            return None
        joules = 0.0
        for a, b, watts in zip(t0s, t1s, series, strict=False):
            overlap = min(b, end) - max(a, start)
            if overlap > 0:
                joules += watts * overlap
        central += joules
        if device.energy_j > 0:
            low += joules * device.low_j / device.energy_j
            high += joules * device.high_j / device.energy_j
        else:
            low += joules
            high += joules
    process = None
    if timeline.get("process_power_w"):
        process = sum(
            watts * max(min(b, end) - max(a, start), 0.0)
            for a, b, watts in zip(t0s, t1s, timeline["process_power_w"], strict=False)
        )
    covered = min(end, t1s[-1]) - max(start, t0s[0])
    return {
        "energy_j": central,
        "low_j": low,
        "high_j": high,
        "process_j": process,
        "method": result.method,
        "window_s": end - start,
        "covered_s": max(covered, 0.0),
    }


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def _rank_comm_s(report: dict[str, Any], kind: dict[str, Any]) -> float:
    """A rank's all-reduce seconds: CUDA-event totals on GPU, host-clock unions on CPU."""
    if report.get("comm_timing") == "cuda-events" and report.get("gpu_comm_s") is not None:
        return report["gpu_comm_s"]
    return kind.get("comm_s", 0.0)


def node_figures(reports: list[dict[str, Any]], kind: str = "train") -> dict[str, Any]:
    """One node's ranks of one configuration: work, timing split, traffic, resources."""
    kinds = [r.get("kinds", {}).get(kind, {}) for r in reports]
    active = [k for k in kinds if k.get("steps")]
    figures: dict[str, Any] = {"ranks": len(reports), "kind": kind}
    if not active:
        return figures
    start = min(k["first_start"] for k in active)
    end = max(k["last_end"] for k in active)
    samples = sum(k["samples"] for k in active)
    steps = max(k["steps"] for k in active)
    pairs = [(r, k) for r, k in zip(reports, kinds, strict=True) if k.get("steps")]
    comm = [_rank_comm_s(r, k) for r, k in pairs]
    comm_per_step = [
        c / k["steps"] for c, (_, k) in zip(comm, pairs, strict=True) if k["comm_steps"]
    ]
    bytes_per_step = [k["bytes"] / k["comm_steps"] for k in active if k.get("comm_steps")]
    comm_total = sum(comm)
    figures.update(
        start=start,
        end=end,
        window_s=end - start,
        samples=samples,
        steps=steps,
        throughput=samples / (end - start) if end > start else None,
        step_s=_mean([k["time_s"] / k["steps"] for k in active]),
        median_step_s=_mean([k.get("median_step_s") for k in active]),
        p95_step_s=_mean([k.get("p95_step_s") for k in active]),
        comm_s=_mean(comm_per_step) if comm_per_step else None,
        bytes_per_step=_mean(bytes_per_step) if bytes_per_step else None,
        bandwidth_bps=(sum(k["bytes"] for k in active) / comm_total) if comm_total > 0 else None,
        instrumented=all(r.get("instrumented") for r in reports),
        comm_timing=next((r.get("comm_timing") for r in reports if r.get("comm_timing")), None),
    )
    per_rank = []
    for report, k in zip(reports, kinds, strict=True):
        wall = report.get("cpu_wall_s") or 0.0
        cpu = report.get("cpu_s")
        per_rank.append(
            {
                "rank": report.get("rank"),
                "host": report.get("host"),
                "steps": k.get("steps", 0),
                "samples": k.get("samples", 0.0),
                "step_s": k["time_s"] / k["steps"] if k.get("steps") else None,
                "median_step_s": k.get("median_step_s"),
                "comm_s_per_step": _rank_comm_s(report, k) / k["steps"] if k.get("steps") else None,
                "cpu_cores": cpu / wall if cpu is not None and wall > 0 else None,
                "max_rss_bytes": report.get("max_rss_bytes"),
                "gpu_max_memory_bytes": report.get("gpu_max_memory_bytes"),
            }
        )
    figures["per_rank"] = per_rank
    figures["cpu_cores_per_rank"] = _mean([r["cpu_cores"] for r in per_rank])
    figures["max_rss_bytes_per_rank"] = _mean([r["max_rss_bytes"] for r in per_rank])
    no_sync = [r.get("kinds", {}).get("no_sync", {}) for r in reports]
    if kind == "train" and any(k.get("steps") for k in no_sync):
        figures["no_sync_step_s"] = _mean(
            [k["time_s"] / k["steps"] for k in no_sync if k.get("steps")]
        )
    return figures


def merge_nodes(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Several nodes' figures of one configuration: sums of work and energy, means of timings."""
    if len(nodes) == 1:
        return dict(nodes[0])
    merged: dict[str, Any] = {"nodes": len(nodes)}
    for key in ("ranks", "samples", "throughput", "energy_j", "energy_low_j", "energy_high_j"):
        values = [n.get(key) for n in nodes]
        merged[key] = None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]
    for key in (
        "step_s",
        "median_step_s",
        "p95_step_s",
        "comm_s",
        "bytes_per_step",
        "bandwidth_bps",
        "cpu_cores_per_rank",
        "max_rss_bytes_per_rank",
        "no_sync_step_s",
    ):
        merged[key] = _mean([n.get(key) for n in nodes])
    merged["window_s"] = max((n.get("window_s") or 0.0) for n in nodes)
    merged["steps"] = max((n.get("steps") or 0) for n in nodes)
    merged["per_rank"] = [r for n in nodes for r in n.get("per_rank", [])]
    merged["method"] = "+".join(sorted({n["method"] for n in nodes if n.get("method")}))
    merged["instrumented"] = all(n.get("instrumented") for n in nodes)
    merged["comm_timing"] = nodes[0].get("comm_timing")
    return merged


def add_energy(figures: dict[str, Any], result: RunResult) -> None:
    """The node's energy over the training window and per sample; the rest is launch overhead."""
    figures["run_energy_j"] = result.energy_j
    figures["run_duration_s"] = result.duration_s
    figures["method"] = result.method
    if result.energy_j is None:
        return
    energy = None
    if figures.get("window_s"):
        energy = window_energy(result, figures["start"], figures["end"])
    if energy is None:  # no step reports: the whole run is the only window there is
        energy = {
            "energy_j": result.energy_j,
            "low_j": result.energy_low_j,
            "high_j": result.energy_high_j,
            "window_s": result.duration_s,
            "process_j": result.process_energy_j,
        }
        figures["energy_window"] = "whole run (no step reports)"
    else:
        figures["energy_window"] = "training steps"
    figures["energy_j"] = energy["energy_j"]
    figures["energy_low_j"] = energy["low_j"]
    figures["energy_high_j"] = energy["high_j"]
    figures["process_energy_j"] = energy.get("process_j", result.process_energy_j)
    if figures["energy_window"] == "training steps":
        figures["launch_overhead_j"] = max(result.energy_j - energy["energy_j"], 0.0)


def per_sample(figures: dict[str, Any]) -> None:
    """Energy per sample (central, low, high) where both energy and samples are known."""
    samples = figures.get("samples")
    if not samples or figures.get("energy_j") is None:
        return
    figures["energy_per_sample_j"] = figures["energy_j"] / samples
    figures["energy_per_sample_low_j"] = figures["energy_low_j"] / samples
    figures["energy_per_sample_high_j"] = figures["energy_high_j"] / samples
    if figures.get("process_energy_j") is not None:  # this job's share, by CPU time and memory
        figures["process_energy_per_sample_j"] = figures["process_energy_j"] / samples
