"""`vatio optimize --example digits`, timed end to end, against the issue's targets.

Runs the real command (a subprocess, as a user would) `--runs` times with
`--json --no-store` and the default settings: every variant, batch sizes
1, 32, 256, 5 repetitions per measurement (the median is reported), then the
thread sweep. Each run is one side-by-side study, so its ratios compare
variants measured in the same minute. Machine load (the 1-minute load
average) is recorded before and after each run, because on a shared VM the
eager PyTorch baseline (two OpenMP threads) suffers most from other work.

Targets: the recommended variant spends >= 2.5x less energy per inference
than FP32 eager at batch 256 with <= 0.5 points of accuracy lost; the whole
command takes <= 2 minutes.

    .venv/bin/python benchmarks/optimize.py --write docs/benchmarks-optimize.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

COMMAND = ".venv/bin/python benchmarks/optimize.py --write docs/benchmarks-optimize.md"
VATIO = [sys.executable, "-m", "vatio", "optimize", "--example", "digits", "--json", "--no-store"]
BATCH = 256
ENERGY_TARGET = 2.5
DROP_TARGET = 0.5
TIME_TARGET_S = 120.0


def run_once(workdir: Path) -> dict:
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    done = subprocess.run(VATIO, capture_output=True, text=True, cwd=workdir, timeout=900)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"vatio optimize failed ({done.returncode}):\n{done.stderr}")
    data = json.loads(done.stdout)
    data["bench"] = {"wall_s": wall, "load_before": load_before, "load_after": os.getloadavg()[0]}
    return data


def stats(row: dict, batch: int = BATCH) -> dict:
    return row["batches"].get(str(batch)) or {}


def headline(data: dict) -> dict:
    """The numbers the targets are about, for one run."""
    rows = {r["name"]: r for r in data["variants"]}
    base, rec = rows[data["baseline"]], rows[data["recommended"]["name"]]
    b, r = stats(base), stats(rec)
    eager_1t = stats(rows.get(f"{data['baseline']}@1t", {"batches": {}}))
    core = rows.get((rec.get("base") or rec["name"]), rec)
    return {
        "recommended": rec["name"],
        "drop_pts": rec["delta_pts"],
        "energy_ratio": b["energy_per_1k_j"] / r["energy_per_1k_j"],
        "machine_ratio": b["machine_energy_per_1k_j"] / r["machine_energy_per_1k_j"],
        "latency_ratio": b["p50_ms"] / r["p50_ms"],
        "throughput_ratio": r["throughput_per_s"] / b["throughput_per_s"],
        "vs_eager_1t": (eager_1t["energy_per_1k_j"] / r["energy_per_1k_j"])
        if eager_1t.get("energy_per_1k_j")
        else None,
        "default_threads_ratio": b["energy_per_1k_j"] / stats(core)["energy_per_1k_j"],
        "baseline_tail": b["p95_ms"] / b["p50_ms"],
        "wall_s": data["bench"]["wall_s"],
        "load": (data["bench"]["load_before"], data["bench"]["load_after"]),
    }


def fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def variant_table(data: dict) -> list[str]:
    lines = [
        f"| Variant | Status | Accuracy % | Δ pts | Size KiB | J/1k inf @{BATCH} (low–high) "
        "| machine J/1k | p50 ms | p95 ms | inf/s | front |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in data["variants"]:
        s = stats(row)
        if row["status"] != "ok":
            lines.append(f"| {row['name']} | {row['status']}: {row['reason']} |" + " — |" * 9)
            continue
        acc = row["metric"] * 100
        lines.append(
            f"| {row['name']} | ok | {acc:.2f} | {-row['delta_pts'] + 0.0:+.2f} "
            f"| {row['size_bytes'] / 1024:.1f} | {fmt(s.get('energy_per_1k_j'))} "
            f"({fmt(s.get('energy_per_1k_low_j'), 2)}–{fmt(s.get('energy_per_1k_high_j'), 2)}) "
            f"| {fmt(s.get('machine_energy_per_1k_j'))} | {fmt(s.get('p50_ms'))} "
            f"| {fmt(s.get('p95_ms'))} | {fmt(s.get('throughput_per_s'))} "
            f"| {'yes' if row['on_front'] else ''} |"
        )
    return lines


def batch_table(data: dict) -> list[str]:
    sizes = data["batch_sizes"]
    head = " | ".join(f"batch {b}: p50 ms · J/1k" for b in sizes)
    lines = [f"| Variant | {head} |", "|---|" + "---|" * len(sizes)]
    for row in data["variants"]:
        if row["status"] != "ok":
            continue
        cells = []
        for b in sizes:
            s = stats(row, b)
            cells.append(f"{fmt(s.get('p50_ms'))} · {fmt(s.get('energy_per_1k_j'))}")
        lines.append(f"| {row['name']} | " + " | ".join(cells) + " |")
    return lines


def report(runs: list[dict]) -> str:
    import numpy
    import onnxruntime
    import torch

    heads = [headline(d) for d in runs]
    last = runs[-1]
    ratio = median(h["energy_ratio"] for h in heads)
    ok_energy = all(h["energy_ratio"] >= ENERGY_TARGET for h in heads)
    ok_drop = all(h["drop_pts"] <= DROP_TARGET + 1e-9 for h in heads)
    ok_time = all(h["wall_s"] <= TIME_TARGET_S for h in heads)
    fair = [h["vs_eager_1t"] for h in heads if h["vs_eager_1t"] is not None]
    ok_fair = bool(fair) and all(f >= ENERGY_TARGET for f in fair) and ok_drop
    met = "met" if ok_energy and ok_drop else "not met"
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    from vatio.devices.estimate import cpu_model_name

    cpu = cpu_model_name()
    out = [
        "# Model optimisation: `vatio optimize --example digits`",
        "",
        f"Date: {date}. Command: `{COMMAND}` ({len(runs)} runs of "
        f"`vatio optimize --example digits --json --no-store`).",
        f"Machine: {cpu}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, "
        f"numpy {numpy.__version__}.",
        "",
        f"**Energy is estimated, not measured** (`{last['energy_method']}`): this VM has no "
        "RAPL or other energy counter, so vatio integrates TDP x CPU utilisation (plus "
        "0.3725 W/GB of memory). The J/1k column is the share of that estimate attributed to "
        "the vatio process by its CPU time (`energy_basis: "
        f"{last['energy_basis']}`); the machine column is the whole-VM estimate, which also "
        "counts other jobs running at the same time. Because the estimate follows CPU time, "
        "an energy ratio here is essentially a CPU-time ratio; the latency ratio is given "
        "next to it. The low–high range is the estimate model's (0.5x TDP to a 30 % idle floor).",
        "",
        "## Targets",
        "",
        "| Run | Recommended | Δ accuracy (pts) | Energy ratio vs fp32-eager @256 (estimated) "
        "| Machine-energy ratio | p50 latency ratio | Throughput ratio | Ratio vs fp32-eager@1t "
        "| Same variant, default threads | Baseline p95/p50 | Wall s | Load avg before/after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, h in enumerate(heads, 1):
        vs_1t = "—" if h["vs_eager_1t"] is None else f"{h['vs_eager_1t']:.1f}x"
        out.append(
            f"| {i} | {h['recommended']} | {-h['drop_pts'] + 0.0:+.2f} | {h['energy_ratio']:.1f}x "
            f"| {h['machine_ratio']:.1f}x | {h['latency_ratio']:.1f}x "
            f"| {h['throughput_ratio']:.1f}x "
            f"| {vs_1t} "
            f"| {h['default_threads_ratio']:.1f}x | {h['baseline_tail']:.0f} | {h['wall_s']:.0f} "
            f"| {h['load'][0]:.1f} / {h['load'][1]:.1f} |"
        )
    out += [
        "",
        f"- Energy per inference, recommended vs FP32 eager at batch {BATCH}, >= "
        f"{ENERGY_TARGET}x with <= {DROP_TARGET} points lost: **{met}** "
        f"(median ratio over runs {ratio:.1f}x; every run is one side-by-side study, medians of "
        f"{last['repeats']} repetitions).",
        f"- The same target against the baseline on one thread (fp32-eager@1t, measured in the "
        f"same run; conservative, see below): **{'met' if ok_fair else 'not met'}** (median "
        f"{median(fair) if fair else float('nan'):.1f}x).",
        f"- Whole command <= {TIME_TARGET_S:.0f} s: **{'met' if ok_time else 'not met'}** "
        f"(max {max(h['wall_s'] for h in heads):.0f} s, including training the example model).",
        "- *Ratio vs fp32-eager@1t* compares with the baseline run on one thread, to show how "
        "much of the saving the thread setting alone gives; *same variant, default threads* is "
        "the recommended technique before the thread sweep.",
        "- **Why the default-thread ratio is so large and varies so much.** The development VM "
        "has 2 vCPUs shared with other jobs (see the load averages). Eager PyTorch uses 2 OpenMP "
        "threads by default; when another process holds one vCPU, each parallel region waits "
        "for the descheduled thread, so the baseline's median call stays fast but its tail "
        "explodes (*baseline p95/p50*) and its threads burn CPU time waiting, which the "
        "estimate counts as energy. That is a real cost on a shared machine, but it depends on "
        "the neighbours, so the ratio against `fp32-eager@1t` is the figure to quote for a "
        "quiet machine; on a dedicated machine expect the default-thread ratio to fall towards "
        "it.",
        "",
        f"## Last run: every variant at batch {BATCH}",
        "",
        *variant_table(last),
        "",
        f"Recommendation: **{last['recommended']['name']}** — {last['recommended']['reason']}.",
        "",
        "## Last run: every batch size",
        "",
        *batch_table(last),
        "",
    ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Whole-command runs (default 3).")
    parser.add_argument("--write", type=Path, help="Write the Markdown report here.")
    args = parser.parse_args()
    import tempfile

    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.runs):
            data = run_once(Path(folder))
            h = headline(data)
            print(
                f"run {i + 1}: {h['recommended']} {h['energy_ratio']:.1f}x energy, "
                f"{h['latency_ratio']:.1f}x latency, Δ {-h['drop_pts'] + 0.0:+.2f} pts, "
                f"{h['wall_s']:.0f} s, load {h['load'][0]:.1f}",
                file=sys.stderr,
            )
            runs.append(data)
    text = report(runs)
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
