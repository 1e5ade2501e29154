"""What `vatio run` adds to the command people type, as whole processes, side by side.

For each job (an instant one, `python -c pass`, and `sleep 1`), the bare job and
`vatio run -- JOB` alternate, N times; wall time is the parent's clock, CPU time the
rusage of the reaped process tree (vatio, the job, git and every helper it starts).
The same is measured with the other core kept busy. Also: when the job starts
(vatio's work before the spawn), the reading commands (`vatio --help`,
`runs list`, `runs show`, `schedule`), and, for reference, the interpreter alone.
Medians; every figure measured. Python writes bytecode as a user's install does
(PYTHONDONTWRITEBYTECODE is removed), and one warm-up run fills the profile and
package caches, as the second run of a day does. `vatio run` is measured through the
resident recorder (its CPU and its worker's added to the run's) and in-process
(VATIO_RESIDENT=0); the recorder's start, memory and idle cost are reported apart.

Run: .venv/bin/python benchmarks/run_overhead.py [--reps 7] [--write FILE]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
VATIO = str(VENV_BIN / "vatio")
PY = sys.executable


def recorder_cpu() -> float:
    """CPU seconds of the resident recorder and of every worker it reaped (0 when none runs),
    read once its workers have all finished: a run's whole cost, wherever it was spent."""
    from vatio.cli import resident

    deadline = time.monotonic() + 5
    while True:
        answer = resident.ask("status")
        if answer is None:
            return 0.0
        if answer["workers"] == 0 or time.monotonic() > deadline:
            return answer["cpu_s"]
        time.sleep(0.005)


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall time of the process; CPU of its tree plus what the resident recorder spent."""
    resident = cmd[0] == VATIO and env.get("VATIO_RESIDENT") != "0"
    recorder_before = recorder_cpu() if resident else 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if resident:
        cpu += recorder_cpu() - recorder_before
    return wall, cpu


def recorder_costs(env: dict[str, str], cwd: Path) -> dict:
    """What the resident recorder costs apart from the runs: starting it, memory, idling."""
    from vatio.cli import resident

    subprocess.run([VATIO, "recorder", "stop"], env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([VATIO, "recorder", "start"], env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    answer = resident.ask("status") or {}
    started_cpu = answer.get("cpu_s", 0.0)
    rss_kb = 0
    with open(f"/proc/{answer.get('pid', 0)}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    time.sleep(10)
    idle = (resident.ask("status") or {}).get("cpu_s", 0.0) - started_cpu
    command_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {
        "start_wall_ms": wall * 1000,
        "start_cpu_ms": (command_cpu + started_cpu) * 1000,
        "rss_mib": rss_kb / 1024,
        "idle_cpu_ms_per_10s": idle * 1000,
    }


def pair(job: list[str], reps: int, env: dict[str, str], cwd: Path, quiet: bool) -> dict:
    wrapped = [VATIO, "run", *(["--quiet"] if quiet else []), "--", *job]
    timed(wrapped, env, cwd)  # warm-up: caches, page cache
    bare, under = [], []
    for _ in range(reps):
        bare.append(timed(job, env, cwd))
        under.append(timed(wrapped, env, cwd))
    b_wall, b_cpu = (statistics.median(x[i] for x in bare) for i in (0, 1))
    v_wall, v_cpu = (statistics.median(x[i] for x in under) for i in (0, 1))
    return {
        "bare_wall_ms": b_wall * 1000,
        "bare_cpu_ms": b_cpu * 1000,
        "added_wall_ms": (v_wall - b_wall) * 1000,
        "added_cpu_ms": (v_cpu - b_cpu) * 1000,
    }


def spawn_delay(reps: int, env: dict[str, str], cwd: Path) -> float:
    """How long after `vatio run` is launched the job starts (its own start subtracted)."""
    job = [PY, "-c", "import time; print(time.time())"]
    alone, under = [], []
    for _ in range(reps):
        t = time.time()
        out = subprocess.run(job, env=env, cwd=cwd, capture_output=True, text=True).stdout
        alone.append(float(out) - t)
        t = time.time()
        out = subprocess.run([VATIO, "run", "--quiet", "--", *job], env=env, cwd=cwd,
                             capture_output=True, text=True).stdout  # fmt: skip
        under.append(float(out.splitlines()[0]) - t)
    return (statistics.median(under) - statistics.median(alone)) * 1000


def busy_loop(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def commands(reps: int, env: dict[str, str], cwd: Path, run_id: str) -> dict[str, dict]:
    """The reading commands, through the resident recorder (its CPU added) and in-process."""
    reading = {
        "vatio runs list": [VATIO, "runs", "list"],
        "vatio runs show ID": [VATIO, "runs", "show", run_id],
        "vatio schedule --zone ES --duration 2h": [VATIO, "schedule", "--zone", "ES",
                                                   "--duration", "2h"],
    }  # fmt: skip
    cases = [("python -c pass", [PY, "-c", "pass"], env), ("vatio --help", [VATIO, "--help"], env)]
    cases += [(label, cmd, env) for label, cmd in reading.items()]
    in_process = env | {"VATIO_RESIDENT": "0"}
    cases += [(f"{label}, in-process", cmd, in_process) for label, cmd in reading.items()]
    out = {}
    for label, cmd, case_env in cases:
        timed(cmd, case_env, cwd)
        runs = [timed(cmd, case_env, cwd) for _ in range(reps)]
        out[label] = {
            "wall_ms": statistics.median(r[0] for r in runs) * 1000,
            "cpu_ms": statistics.median(r[1] for r in runs) * 1000,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vatio-run-overhead-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VATIO_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(XDG_CONFIG_HOME=str(folder / "config"), XDG_STATE_HOME=str(folder / "state"),
               VATIO_RESIDENT_DIR=str(folder / "recorder"))  # fmt: skip
    os.environ["VATIO_RESIDENT_DIR"] = env["VATIO_RESIDENT_DIR"]  # recorder_cpu() asks it
    in_process = env | {"VATIO_RESIDENT": "0"}
    subprocess.run([PY, "-m", "compileall", "-q", str(Path(__file__).parents[1] / "src")],
                   env=env, stdout=subprocess.DEVNULL)  # fmt: skip
    done = subprocess.run([VATIO, "run", "--json", "--", "true"], env=env, cwd=folder,
                          capture_output=True, text=True)  # fmt: skip
    run_id = json.loads(done.stdout)["id"]
    costs = recorder_costs(env, folder)
    for _ in range(3):  # the recorder learns the modules a run needs from its first workers
        subprocess.run([VATIO, "run", "-q", "--", "true"], env=env, cwd=folder)
    results: dict = {"spawn_delay_ms": spawn_delay(args.reps, env, folder)}
    for label, job in (("instant job (python -c pass)", [PY, "-c", "pass"]),
                       ("1 s job (sleep 1)", ["sleep", "1"])):  # fmt: skip
        results[label] = pair(job, args.reps, env, folder, quiet=True)
        results[label + ", with the summary"] = pair(job, args.reps, env, folder, quiet=False)
        results[label + ", in-process (VATIO_RESIDENT=0)"] = pair(job, args.reps, in_process,
                                                                  folder, quiet=True)  # fmt: skip
    stop = multiprocessing.Event()
    hog = multiprocessing.Process(target=busy_loop, args=(stop,), daemon=True)
    hog.start()
    results["1 s job, other core busy"] = pair(["sleep", "1"], args.reps, env, folder, True)
    results["instant job, other core busy"] = pair([PY, "-c", "pass"], args.reps, env, folder,
                                                   True)  # fmt: skip
    stop.set()
    hog.join()
    results["commands"] = commands(args.reps, env, folder, run_id)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Start-up: `vatio run` and the reading commands (`benchmarks/run_overhead.py`)",
        "",
        f"Date: {when}. Command: `.venv/bin/python benchmarks/run_overhead.py --reps "
        f"{args.reps}`. Medians of {args.reps} whole processes, bare job and `vatio run` "
        "alternating; CPU is the rusage of the whole process tree. All measured. Load "
        f"average at the end: {os.getloadavg()[0]:.1f} on 2 vCPUs.",
        "",
        f"The job starts {results['spawn_delay_ms']:.0f} ms after `vatio run` is launched "
        "(vatio's work before the spawn). `vatio run` goes through the resident recorder "
        "unless the row says in-process; its CPU then includes the recorder's and its "
        "worker's (rusage of the recorder, read once the worker was reaped). The recorder "
        f"itself: started in {costs['start_wall_ms']:.0f} ms wall, "
        f"{costs['start_cpu_ms']:.0f} ms CPU (once per {600 // 60} idle minutes), "
        f"{costs['rss_mib']:.0f} MiB resident, {costs['idle_cpu_ms_per_10s']:.1f} ms CPU "
        "per 10 s idle.",
        "",
        "| job | bare wall | added wall | added CPU | target |",
        "|---|---|---|---|---|",
    ]
    for label, r in results.items():
        if isinstance(r, dict) and "added_wall_ms" in r:
            met = r["added_wall_ms"] <= 100 and r["added_cpu_ms"] <= 150
            lines.append(
                f"| {label} | {r['bare_wall_ms']:.0f} ms | +{r['added_wall_ms']:.0f} ms | "
                f"+{r['added_cpu_ms']:.0f} ms | ≤ +100 ms wall, ≤ +150 ms CPU: "
                f"{'met' if met else 'NOT met'} |"
            )
    lines += ["", "| command | wall | CPU | target |", "|---|---|---|---|"]
    for label, r in results["commands"].items():
        target = (
            100 if label == "vatio --help"
            else 250 if label.startswith("vatio") and not label.endswith("in-process")
            else None
        )  # fmt: skip
        verdict = "" if target is None else (
            f"≤ {target} ms: {'met' if r['wall_ms'] <= target else 'NOT met'}"
        )  # fmt: skip
        lines.append(f"| `{label}` | {r['wall_ms']:.0f} ms | {r['cpu_ms']:.0f} ms | {verdict} |")
    text = "\n".join(lines) + "\n"
    print(text)
    subprocess.run([VATIO, "recorder", "stop"], env=env, cwd=folder, stdout=subprocess.DEVNULL)
    if args.write:
        with args.write.open("a", encoding="utf-8") as handle:
            handle.write("\n" + text)


if __name__ == "__main__":
    main()
