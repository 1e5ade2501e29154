"""Overhead of measuring: workload slowdown, fixed cost, start-up time, sampler memory.

Run: .venv/bin/python benchmarks/overhead.py [--pairs 5] [--seconds 10] [--skip-slowdown]
Prints a Markdown table; figures are medians of paired runs made side by side.
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
import tracemalloc
from pathlib import Path

PY = sys.executable
WORKLOAD = """
import sys, time
n = int(sys.argv[1])
t = time.perf_counter()
acc = 0
for i in range(n):
    acc += i * i
print(time.perf_counter() - t)
"""


def calibrate(seconds: float) -> int:
    n = 2_000_000
    took = float(subprocess.check_output([PY, "-c", WORKLOAD, str(n)], text=True))
    return int(n * seconds / took)


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(workload's own compute seconds, whole command wall seconds)."""
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    wall = time.perf_counter() - start
    return float(out.strip().splitlines()[-1]), wall


def slowdown(pairs: int, seconds: float, store: Path) -> dict[str, dict[str, float]]:
    n = calibrate(seconds)
    env = {**os.environ, "VATIO_STORE": str(store)}
    plain = [PY, "-c", WORKLOAD, str(n)]
    configs = {
        "alone": plain,
        "vatio run, 1 s sampling": [
            PY, "-m", "vatio", "run", "-q", "--interval", "1s", "--", *plain,
        ],
        "vatio run, 0.1 s sampling": [
            PY, "-m", "vatio", "run", "-q", "--interval", "100ms", "--", *plain,
        ],
    }  # fmt: skip
    names = list(configs)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for rep in range(pairs):
        order = names[rep % 3 :] + names[: rep % 3]  # rotate to spread drift
        for name in order:
            results[name].append(timed(configs[name], env))
    summary = {}
    for name in names[1:]:
        compute = [t[0] / a[0] for t, a in zip(results[name], results["alone"], strict=True)]
        wall = [t[1] - a[1] for t, a in zip(results[name], results["alone"], strict=True)]
        summary[name] = {
            "median_slowdown_pct": (statistics.median(compute) - 1) * 100,
            "min_pct": (min(compute) - 1) * 100,
            "max_pct": (max(compute) - 1) * 100,
            "median_extra_wall_s": statistics.median(wall),
        }
    summary["alone"] = {"median_compute_s": statistics.median(r[0] for r in results["alone"])}
    return summary


FIXED_COST = """
import json, sys, time
t0 = time.perf_counter()
import vatio
from vatio.api import Tracker
t1 = time.perf_counter()
tracker = Tracker(zone="ES", store=sys.argv[1])
t2 = time.perf_counter(); tracker.start(); t3 = time.perf_counter()
time.sleep(float(sys.argv[2]))
t4 = time.perf_counter(); tracker.stop(); t5 = time.perf_counter()
again = Tracker(zone="ES", store=sys.argv[1])
t6 = time.perf_counter(); again.start(); again.stop(); t7 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "init": t2 - t1, "start": t3 - t2, "stop": t5 - t4,
                  "first": (t3 - t2) + (t5 - t4) + (t2 - t1), "warm": t7 - t6}))
"""

CODECARBON = """
import json, logging, sys, time
logging.disable(logging.CRITICAL)
from codecarbon import OfflineEmissionsTracker
t0 = time.perf_counter()
tracker = OfflineEmissionsTracker(country_iso_code="ESP", save_to_file=False, log_level="error")
tracker.start(); t1 = time.perf_counter()
time.sleep(float(sys.argv[1]))
t2 = time.perf_counter(); tracker.stop(); t3 = time.perf_counter()
print(json.dumps({"start": t1 - t0, "stop": t3 - t2, "total": (t1 - t0) + (t3 - t2)}))
"""


def fixed_cost(reps: int, store: Path) -> dict[str, float]:
    """start + stop + store write, in fresh processes (first run) and warm (second run)."""
    rows = []
    for _ in range(reps):
        out = subprocess.check_output([PY, "-c", FIXED_COST, str(store), "1.0"], text=True)
        rows.append(json.loads(out))
    return {key: statistics.median(r[key] for r in rows) for key in rows[0]}


def codecarbon_cost(reps: int) -> dict[str, float] | None:
    try:
        import codecarbon  # noqa: F401
    except ImportError:
        return None
    rows = []
    for _ in range(reps):
        done = subprocess.run([PY, "-c", CODECARBON, "1.0"], capture_output=True, text=True)
        if done.returncode != 0:
            return None
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in rows) for key in rows[0]}


def startup(reps: int) -> dict[str, float]:
    def median_of(cmd: list[str]) -> float:
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return {
        "python -c pass": median_of([PY, "-c", "pass"]),
        "python -c 'import vatio'": median_of([PY, "-c", "import vatio"]),
        "vatio --help": median_of([str(Path(PY).parent / "vatio"), "--help"]),
    }


def sampler_cpu(seconds: float = 10.0) -> dict[str, dict[str, float]]:
    """CPU time the sampling itself costs (real sensors, process tree), as % of the run."""
    from vatio.devices.discovery import discover
    from vatio.measure.sampler import Sampler

    report = {}
    for interval in (1.0, 0.1):
        sensors = discover().sensors
        sampler = Sampler(sensors, interval_s=interval, pid=os.getpid())
        sampler.start()
        time.sleep(seconds)
        sampler.stop()
        report[f"{interval:g} s"] = {
            "ticks": sampler.ticks,
            "per_tick_ms": 1000 * sampler.tick_cost_s / sampler.ticks,
            "cpu_pct_of_one_core": 100 * sampler.tick_cost_s / seconds,
        }
    return report


def sampler_memory() -> dict[str, float]:
    """A simulated 24-hour run at 1 s sampling: the timeline must stay bounded."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.measure.fakes import ConstantPowerSensor

    from vatio.measure.sampler import Sampler

    clock = [0.0]
    sampler = Sampler(
        [ConstantPowerSensor("cpu:a"), ConstantPowerSensor("dram:a", device="dram")],
        interval_s=1.0,
        wall_clock=lambda: 1.7e9 + clock[0],
        monotonic=lambda: clock[0],
    )
    sampler.start()
    sampler._stop.set()
    tracemalloc.start()
    for _ in range(86_400):
        clock[0] += 1.0
        sampler.tick()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    total = sum(sum(col) for col in sampler.timeline.joules)
    return {
        "ticks": 86_400,
        "timeline_points": len(sampler.timeline.t0),
        "hour_buckets": len(sampler.timeline.hours),
        "peak_traced_kib": peak / 1024,
        "energy_conserved_j": total,
        "expected_j": 2 * 10.0 * 86_400,
    }


def instant_job(reps: int) -> dict[str, dict[str, float]]:
    """What `vatio run` adds to a job that does nothing (one sample), as whole processes side
    by side with the bare job (`run_overhead.pair`: the recorder's CPU is added): through a
    warm resident recorder, in-process (VATIO_RESIDENT=0), and the first run of all, which
    finds no recorder, records in-process and starts one (its start is in the figure)."""
    import run_overhead

    folder = Path(tempfile.mkdtemp(prefix="vatio-overhead-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VATIO_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(XDG_CONFIG_HOME=str(folder / "config"), XDG_STATE_HOME=str(folder / "state"),
               VATIO_RESIDENT_DIR=str(folder / "recorder"))  # fmt: skip
    os.environ["VATIO_RESIDENT_DIR"] = env["VATIO_RESIDENT_DIR"]  # run_overhead asks it
    vatio, job = run_overhead.VATIO, [PY, "-c", "pass"]
    subprocess.run([vatio, "recorder", "start"], env=env, cwd=folder, capture_output=True)
    for _ in range(3):  # caches, and the modules the recorder learns from its first workers
        subprocess.run([vatio, "run", "-q", "--", *job], env=env, cwd=folder)
    out = {
        "resident recorder": run_overhead.pair(job, reps, env, folder, quiet=True),
        "in-process": run_overhead.pair(job, reps, env | {"VATIO_RESIDENT": "0"}, folder, True),
    }
    first = []
    for _ in range(reps):
        subprocess.run([vatio, "recorder", "stop"], env=env, cwd=folder, capture_output=True)
        bare = run_overhead.timed(job, env, folder)
        under = run_overhead.timed([vatio, "run", "-q", "--", *job], env, folder)
        first.append((under[0] - bare[0], under[1] - bare[1]))
        time.sleep(1)  # the recorder it started finishes starting (its CPU is not in `under`)
    out["first run (no recorder yet)"] = {
        "added_wall_ms": statistics.median(f[0] for f in first) * 1000,
        "added_cpu_ms": statistics.median(f[1] for f in first) * 1000,
    }
    subprocess.run([vatio, "recorder", "stop"], env=env, cwd=folder, capture_output=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--skip-slowdown", action="store_true", help="skip the paired runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "bench.db"
        report = {
            "startup_s": startup(args.reps),
            "instant_job_ms": instant_job(args.reps),
            "fixed_cost_s": fixed_cost(args.reps, store),
            "codecarbon_s": codecarbon_cost(3),
            "sampler_memory": sampler_memory(),
            "sampler_cpu": sampler_cpu(),
            "slowdown": None if args.skip_slowdown else slowdown(args.pairs, args.seconds, store),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
