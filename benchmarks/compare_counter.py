"""Can the gate see a +20 % change on a noisy runner? Instruction proxy and --repeat auto.

Workload A: a pure-Python loop of N iterations; B: the same with 20 % more.

`counter`: counts the instructions of real runs of A and B (interleaved) with
the counter `vatio compare --counter instructions` uses on this machine (perf
events, else cachegrind), with the fixed hash seed vatio sets and, for
comparison, with a random one; times counted and plain runs (the counter's
slowdown); replays comparisons of n runs a side drawn from the pools (A/A:
disjoint draws from A; detection: A vs B) with the gate's decision; and runs
the real CLI end to end a few times (`--repeat 3`, baseline tagged, exit codes).

`energy`: measures pools of A and B under the tracker (job energy, as
benchmarks/compare.py), then replays the CI procedure with `--repeat auto` on
both sides: the baseline recorded until its noise allows detecting +20 % (or
the maximum), then the candidate judged at the sequential looks until the answer
is clear (or the maximum). Draws without replacement inside a trial.

Run: .venv/bin/python benchmarks/compare_counter.py counter [--pool 10]
     .venv/bin/python benchmarks/compare_counter.py energy [--pool-a 320 --pool-b 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from compare import WORKLOAD, measure, wilson


def _bench_file() -> str:
    path = Path(tempfile.gettempdir()) / "vatio_bench_loop.py"
    path.write_text(WORKLOAD, encoding="utf-8")
    return str(path)


def count_once(counter, command: list[str]) -> tuple[int, float]:
    from vatio.process import supervise

    with tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        outcome = supervise(counter.wrap(command, Path(workdir)), env=counter.env())
        wall = time.perf_counter() - started
        assert outcome.status == "completed", outcome
        return counter.read(Path(workdir)).value, wall


def plain_once(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def replay(a: np.ndarray, b: np.ndarray, n: int, trials: int, threshold: float, seed=42) -> dict:
    from vatio.compare.gate import decide

    rng = np.random.default_rng(seed)
    false_alarms = detections = 0
    for _ in range(trials):
        draw = rng.permutation(len(a))
        false_alarms += decide(list(a[draw[:n]]), list(a[draw[n : 2 * n]]), threshold).regression
        base = a[rng.permutation(len(a))[:n]]
        cand = b[rng.permutation(len(b))[:n]]
        detections += decide(list(base), list(cand), threshold).regression
    return {
        "n": n,
        "trials": trials,
        "false_alarm_rate": false_alarms / trials,
        "false_alarm_95ci": [round(x, 4) for x in wilson(false_alarms, trials)],
        "detection_rate": detections / trials,
        "detection_95ci": [round(x, 4) for x in wilson(detections, trials)],
    }


def cli_end_to_end(script: str, iterations: int, rounds: int) -> dict:
    """The real `vatio compare --counter instructions --repeat 3`, baseline then candidates."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VATIO_")}
    results = {"regression_exit_codes": [], "same_exit_codes": [], "wall_s_per_call": []}
    with tempfile.TemporaryDirectory() as folder:
        env["VATIO_STORE"] = str(Path(folder) / "v.db")
        vatio = [sys.executable, "-m", "vatio", "compare", "--counter", "instructions"]

        def call(*args: str) -> int:
            started = time.perf_counter()
            done = subprocess.run([*vatio, *args], env=env, capture_output=True, text=True)
            results["wall_s_per_call"].append(round(time.perf_counter() - started, 1))
            if done.returncode == 2:
                raise RuntimeError(done.stderr)
            return done.returncode

        base = ["--", sys.executable, script]
        call("--repeat", "3", "--tag-as", "main", *base, str(iterations))
        for _ in range(rounds):
            results["regression_exit_codes"].append(
                call("--repeat", "3", "--baseline", "main", *base, str(int(iterations * 1.2)))
            )
            results["same_exit_codes"].append(
                call("--repeat", "3", "--baseline", "main", *base, str(iterations))
            )
    return results


def run_counter(args) -> dict:
    from vatio.compare.counters import choose_counter

    counter = choose_counter("instructions")
    script = _bench_file()
    a_cmd = [sys.executable, script, str(args.iterations)]
    b_cmd = [sys.executable, script, str(int(args.iterations * 1.2))]
    report: dict = {"method": counter.method, "tool": counter.tool, "iterations": args.iterations}
    plain = [plain_once(a_cmd) for _ in range(3)]
    for seed in ("0", "random"):
        os.environ["PYTHONHASHSEED"] = seed
        pools: dict[str, list] = {"A": [], "B": []}
        walls = []
        for _ in range(args.pool):
            for name, cmd in (("A", a_cmd), ("B", b_cmd)):
                value, wall = count_once(counter, cmd)
                pools[name].append(value)
                if name == "A":
                    walls.append(wall)
        a, b = np.array(pools["A"], float), np.array(pools["B"], float)
        entry = {
            "pool_size": args.pool,
            "cv_A_pct": round(100 * a.std(ddof=1) / a.mean(), 4),
            "cv_B_pct": round(100 * b.std(ddof=1) / b.mean(), 4),
            "median_A": float(np.median(a)),
            "ratio_B_over_A": round(float(np.median(b) / np.median(a)), 4),
            "counted_wall_s_median": round(statistics.median(walls), 2),
        }
        for n in (3,):
            entry[f"n={n}"] = replay(a, b, n, args.trials, 0.05)
        report[f"hash_seed={seed}"] = entry
    os.environ.pop("PYTHONHASHSEED", None)
    report["plain_wall_s_median"] = round(statistics.median(plain), 2)
    report["slowdown_x"] = round(
        report["hash_seed=0"]["counted_wall_s_median"] / report["plain_wall_s_median"], 1
    )
    if args.cli_rounds:
        report["cli"] = cli_end_to_end(script, args.iterations, args.cli_rounds)
    return report


def sequential_trial(rng, a, b_pool, threshold, detect, max_b, max_c, same: bool) -> dict:
    from vatio.compare.auto import AutoRepeat

    order = rng.permutation(len(a))
    base_gate = AutoRepeat("duration", threshold, detect, 5, max_b)
    baseline: list[float] = []
    for value in a[order[:max_b]]:
        baseline.append(float(value))
        if base_gate(_records(baseline))[0]:
            break
    rest = a[order[len(baseline) :]] if same else b_pool[rng.permutation(len(b_pool))]
    gate = AutoRepeat("duration", threshold, detect, 5, max_c, baseline=_records(baseline))
    candidate: list[float] = []
    for value in rest[:max_c]:
        candidate.append(float(value))
        if gate(_records(candidate))[0]:
            break
    return {
        "n_baseline": len(baseline),
        "n_candidate": len(candidate),
        "regression": gate.stopped == "regression",
    }


def _records(values: list[float]) -> list[dict]:
    # the pools hold job energy; AutoRepeat reads it through the record's duration field
    return [{"status": "completed", "duration_s": v, "totals": {}} for v in values]


def run_energy(args) -> dict:
    if args.pools:
        pools = json.loads(Path(args.pools).read_text(encoding="utf-8"))
    else:
        pools = {"A": [], "B": []}
        started = time.perf_counter()
        for i in range(max(args.pool_a, args.pool_b)):
            if i < args.pool_a:
                pools["A"].append(measure(args.iterations))
            if i < args.pool_b:
                pools["B"].append(measure(int(args.iterations * 1.2)))
        pools["seconds"] = round(time.perf_counter() - started, 1)
        if args.save_pools:
            Path(args.save_pools).write_text(json.dumps(pools), encoding="utf-8")
    metric = "process_energy_j"
    a = np.array([r[metric] for r in pools["A"]])
    b = np.array([r[metric] for r in pools["B"]])
    report: dict = {
        "metric": "job energy (process_energy_j)",
        "method": pools["A"][0]["method"],
        "pool_A": len(a),
        "pool_B": len(b),
        "measure_seconds": pools.get("seconds"),
        "cv_A_pct": round(100 * a.std(ddof=1) / a.mean(), 1),
        "cv_B_pct": round(100 * b.std(ddof=1) / b.mean(), 1),
        "ratio_B_over_A": round(float(np.median(b) / np.median(a)), 3),
    }
    for threshold in [float(t) for t in args.thresholds.split(",")]:
        rng = np.random.default_rng(7)
        runs = {"same": [], "changed": []}
        for _ in range(args.trials):
            for key, same in (("same", True), ("changed", False)):
                runs[key].append(
                    sequential_trial(rng, a, b, threshold, 0.20, args.max_b, args.max_c, same)
                )
        entry = {}
        for key, label in (("same", "A/A"), ("changed", "A/B")):
            found = sum(r["regression"] for r in runs[key])
            nb = [r["n_baseline"] for r in runs[key]]
            nc = [r["n_candidate"] for r in runs[key]]
            entry[label] = {
                "regression_rate": found / args.trials,
                "regression_95ci": [round(x, 4) for x in wilson(found, args.trials)],
                "n_baseline_median": statistics.median(nb),
                "n_baseline_p90": float(np.percentile(nb, 90)),
                "n_candidate_median": statistics.median(nc),
                "n_candidate_p90": float(np.percentile(nc, 90)),
                "n_candidate_max_reached": sum(n == args.max_c for n in nc) / args.trials,
            }
        report[f"threshold={threshold:g}"] = entry
    report["trials"] = args.trials
    report["max_baseline"], report["max_candidate"] = args.max_b, args.max_c
    report["fixed_n_threshold=0.05"] = [
        replay(a, b, int(n), args.trials, 0.05) for n in args.fixed_n.split(",")
    ]
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    counter = sub.add_parser("counter")
    counter.add_argument("--pool", type=int, default=10)
    counter.add_argument("--iterations", type=int, default=1_000_000)
    counter.add_argument("--trials", type=int, default=2000)
    counter.add_argument("--cli-rounds", type=int, default=3)
    energy = sub.add_parser("energy")
    energy.add_argument("--pool-a", type=int, default=320)
    energy.add_argument("--pool-b", type=int, default=200)
    energy.add_argument("--iterations", type=int, default=1_500_000)
    energy.add_argument("--trials", type=int, default=1000)
    energy.add_argument("--max-b", type=int, default=160)
    energy.add_argument("--max-c", type=int, default=160)
    energy.add_argument("--thresholds", default="0.05,0")
    energy.add_argument("--fixed-n", default="5,40,75", help="fixed-n gates, for comparison")
    energy.add_argument("--pools", default=None, help="reuse pools saved earlier (JSON)")
    energy.add_argument("--save-pools", default=None)
    args = parser.parse_args()
    report = run_counter(args) if args.what == "counter" else run_energy(args)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
