"""Does `vatio compare` cry wolf? False alarms on A/A and detection of a real +20 %.

Measures two pools of real runs on this machine, interleaved (A: a CPU-bound
Python workload; B: the same with 20 % more iterations), each under the vatio
tracker like `vatio compare --repeat` does, then replays many comparisons of 5
vs 5 runs drawn from the pools (disjoint draws, fixed seed) with the gate's
default threshold (5 %) and metric (job energy).

Run: .venv/bin/python benchmarks/compare.py [--pool 40] [--trials 2000]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time

import numpy as np

WORKLOAD = "import sys\nacc = 0\nfor i in range(int(sys.argv[1])):\n    acc += i * i\n"


def measure(iterations: int) -> dict[str, float]:
    from vatio.api import Tracker
    from vatio.cli.child import supervise

    tracker = Tracker(store=False, interval_s=0.5)
    tracker.start()
    outcome = supervise([sys.executable, "-c", WORKLOAD, str(iterations)])
    result = tracker.stop(outcome.status, exit_code=outcome.exit_code)
    assert outcome.status == "completed"
    return {
        "process_energy_j": result.process_energy_j,
        "energy_j": result.energy_j,
        "duration_s": result.duration_s,
        "method": result.method,
    }


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", type=int, default=40, help="runs per workload")
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--iterations", type=int, default=4_000_000)
    parser.add_argument("--n", default="5,10", help="runs a side in each comparison (list)")
    parser.add_argument("--pools", default=None, help="reuse pools saved by an earlier run (JSON)")
    parser.add_argument("--save-pools", default=None, help="save the measured pools (JSON)")
    args = parser.parse_args()
    from vatio.compare.gate import decide

    pools: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    started = time.perf_counter()
    if args.pools:
        with open(args.pools, encoding="utf-8") as handle:
            pools = json.load(handle)
    else:
        for _ in range(args.pool):
            pools["A"].append(measure(args.iterations))
            pools["B"].append(measure(int(args.iterations * 1.2)))
    if args.save_pools:
        with open(args.save_pools, "w", encoding="utf-8") as handle:
            json.dump(pools, handle)
    seconds = time.perf_counter() - started
    rng = np.random.default_rng(42)
    report: dict[str, object] = {
        "pool_size": args.pool,
        "measure_seconds": round(seconds, 1),
        "method": pools["A"][0]["method"],
    }
    sizes = [int(n) for n in str(args.n).split(",")]
    for metric in ("process_energy_j", "energy_j", "duration_s"):
        a = np.array([r[metric] for r in pools["A"]])
        b = np.array([r[metric] for r in pools["B"]])
        entry: dict[str, object] = {
            "cv_A_pct": round(100 * a.std(ddof=1) / a.mean(), 2),
            "cv_B_pct": round(100 * b.std(ddof=1) / b.mean(), 2),
            "true_ratio_B_over_A": round(statistics.median(b) / statistics.median(a), 3),
        }
        for n in sizes:
            false_alarms = detections = 0
            for _ in range(args.trials):
                draw = rng.permutation(len(a))
                base, cand = a[draw[:n]], a[draw[n : 2 * n]]
                false_alarms += decide(list(base), list(cand), 0.05).regression
                base = a[rng.permutation(len(a))[:n]]
                cand = b[rng.permutation(len(b))[:n]]
                detections += decide(list(base), list(cand), 0.05).regression
            entry[f"n={n}"] = {
                "false_alarm_rate": false_alarms / args.trials,
                "false_alarm_95ci": [round(x, 4) for x in wilson(false_alarms, args.trials)],
                "detection_rate": detections / args.trials,
                "detection_95ci": [round(x, 4) for x in wilson(detections, args.trials)],
            }
        report[metric] = entry
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
