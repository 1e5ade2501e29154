"""Wall and CPU time of whole `vatio schedule` processes, side by side with `python -c pass`.

Run: .venv/bin/python benchmarks/schedule_cli.py [--repeat 7] [--json] [--baseline SRC]
     .venv/bin/python benchmarks/schedule_cli.py --phases [--repeat 7]

`--baseline SRC` adds the same `vatio` commands run from another source tree
(e.g. `git archive OLD src | tar -x -C /tmp/base` then `--baseline /tmp/base/src`),
interleaved with the others, for a before/after measured side by side.

Each round runs every command once, in a rotated order (to spread the drift of a
shared machine over all of them); the figures are medians over the rounds, of
whole processes (interpreter start-up included), measured with perf_counter
(wall) and the children's rusage (CPU). "extra" is the median of the paired
differences with `python -c pass` of the same round. Also printed: the floor
that the CLI entry point alone costs (`import typer` and `vatio --help`), which
`vatio schedule` cannot go below.

`--phases` says where the time of one `vatio schedule --forecast F` goes: CPU
time of each phase of the process (medians over fresh processes), from the
import of the CLI to the printed table; each import is cold, in the order the
command meets it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PY = sys.executable


def forecast_file(folder: Path) -> Path:
    """48 hourly values from the current hour, as a user would write them."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rows = [
        f"{(start + timedelta(hours=h)).isoformat()},{200 + 50 * (h * 7 % 5)}" for h in range(48)
    ]
    path = folder / "forecast.csv"
    path.write_text("time,intensity\n" + "\n".join(rows) + "\n")
    return path


def commands(folder: Path, baseline: str | None = None) -> dict[str, tuple[list[str], dict]]:
    """name -> (argv, extra environment)."""
    vatio = [PY, "-m", "vatio"]
    fc = str(forecast_file(folder))
    runs = {
        "vatio --help": ["--help"],
        "vatio schedule (typical year)": ["schedule", "--zone", "ES", "--duration", "2h"],
        "vatio schedule --forecast F": [
            "schedule", "--zone", "ES", "--duration", "2h", "--forecast", fc,
        ],
        "vatio schedule --forecast F --json": [
            "schedule", "--zone", "ES", "--duration", "2h", "--forecast", fc, "--json",
        ],
        "vatio schedule --interruptible": [
            "schedule", "--zone", "ES", "--duration", "6h", "--interruptible",
        ],
    }  # fmt: skip
    out: dict[str, tuple[list[str], dict]] = {
        "python -c pass": ([PY, "-c", "pass"], {}),
        "python -c 'import typer'": ([PY, "-c", "import typer"], {}),
        # typer 0.29 coerces every parameter through a pydantic TypeAdapter at parse time
        "python -c 'import typer._adapters'": ([PY, "-c", "import typer._adapters"], {}),
        "python -c 'import numpy'": ([PY, "-c", "import numpy"], {}),
    }
    for name, args in runs.items():
        out[name] = ([*vatio, *args], {})
        if baseline:
            out[f"{name} [baseline]"] = ([*vatio, *args], {"PYTHONPATH": baseline})
    return out


def once(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(repeat: int, baseline: str | None = None) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {**os.environ, "VATIO_ZONE": "", "VATIO_ELECTRICITYMAPS_KEY": ""}
        env.pop("VATIO_STORE", None)
        cmds = commands(folder, baseline)
        names = list(cmds)
        for name in names:  # warm the file cache and the bytecode once
            once(cmds[name][0], env | cmds[name][1], folder)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        for rep in range(repeat):
            k = rep % len(names)
            for name in names[k:] + names[:k]:
                runs[name].append(once(cmds[name][0], env | cmds[name][1], folder))
    base = runs["python -c pass"]
    summary = {}
    for name in names:
        walls = [w for w, _ in runs[name]]
        cpus = [c for _, c in runs[name]]
        summary[name] = {
            "wall_s": statistics.median(walls),
            "cpu_s": statistics.median(cpus),
            "extra_wall_s": statistics.median(w - b[0] for w, b in zip(walls, base, strict=True)),
            "extra_cpu_s": statistics.median(c - b[1] for c, b in zip(cpus, base, strict=True)),
            "min_wall_s": min(walls),
        }
    return summary


PHASES = r"""
import contextlib, io, json, sys, time
T = time.process_time
marks = {"start": T()}
import vatio.cli.entry as entry
marks["import vatio and its entry point"] = T()
import vatio.cli.schedule as schedule
marks["the schedule module and its argparse parser (no typer)"] = T()
body = schedule._schedule
def timed_body(opts):
    marks["parse the options; numpy imported with one BLAS thread"] = T()
    from vatio.profile_cache import cached_profile
    cached_profile({})
    marks["the profile (cached: no pydantic)"] = T()
    import rich.console, rich.table
    marks["rich (table)"] = T()
    body(opts)
    marks["the command itself (zones, data, search, table)"] = T()
schedule._schedule = timed_body
sys.argv = ["vatio", *sys.argv[1:]]
with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
    entry.main()
names = list(marks)
print(json.dumps({b: marks[b] - marks[a] for a, b in zip(names, names[1:])}))
"""


def phases(repeat: int) -> dict[str, float]:
    """Median CPU seconds of each phase of `vatio schedule --forecast F`, cold imports."""
    with tempfile.TemporaryDirectory() as tmp:
        fc = str(forecast_file(Path(tmp)))
        args = ["schedule", "--zone", "ES", "--duration", "2h", "--forecast", fc]
        rows = [
            json.loads(subprocess.check_output([PY, "-c", PHASES, *args], text=True))
            for _ in range(repeat)
        ]
    return {name: statistics.median(row[name] for row in rows) for name in rows[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--baseline", help="another vatio source tree (its src folder)")
    parser.add_argument("--phases", action="store_true", help="where one call's time goes")
    args = parser.parse_args()
    if args.phases:
        split = phases(args.repeat)
        load = os.getloadavg()[0]
        print(f"CPU ms by phase, medians of {args.repeat} processes (load {load:.1f})")
        for name, seconds in split.items():
            print(f"| {name} | {seconds * 1e3:.0f} |")
        print(f"| total | {sum(split.values()) * 1e3:.0f} |")
        return
    summary = measure(args.repeat, args.baseline)
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    load = os.getloadavg()[0]
    print(
        f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"load {load:.1f}; medians of {args.repeat} whole processes\n"
    )
    print("| command | wall ms | CPU ms | extra wall ms vs `python -c pass` | min wall ms |")
    print("|---|---:|---:|---:|---:|")
    for name, row in summary.items():
        print(
            f"| `{name}` | {row['wall_s'] * 1e3:.0f} | {row['cpu_s'] * 1e3:.0f} | "
            f"{row['extra_wall_s'] * 1e3:.0f} | {row['min_wall_s'] * 1e3:.0f} |"
        )


if __name__ == "__main__":
    main()
