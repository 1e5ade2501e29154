"""Where the CPU time of `vatio run` goes: the modules it loads, against the work it does.

1. Runs `vatio run -q -- true` once in a probe that lists every module loaded by the end
   (the recording included).
2. Measures, as whole processes (CPU time from rusage, medians of N): the interpreter
   alone; importing every one of those modules and nothing else; importing only the
   standard-library and third-party ones (what vatio's own modules cannot do without);
   and a few of them alone; then the whole `vatio run -q -- sleep 0.3` against
   `sleep 0.3`. The difference between the import figures and the added CPU of the whole
   run is vatio's own work (sampling, manifest, record, signature, store).

Measured in-process (VATIO_RESIDENT=0): what the resident recorder avoids paying per run.

Run: .venv/bin/python benchmarks/run_imports.py [--reps 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PY = sys.executable
VATIO = str(Path(PY).parent / "vatio")
PROBE = r"""
import atexit, os, sys
os.environ["VATIO_NO_FAST_EXIT"] = "1"
listing = sys.argv[1]
atexit.register(lambda: open(listing, "w").write("\n".join(sorted(sys.modules))))
sys.argv = ["vatio", "run", "-q", "--", "true"]
from vatio.cli.entry import main
main()
"""
ALONE = {
    "psutil": "import psutil",
    "cryptography (Ed25519)": "from cryptography.hazmat.primitives.asymmetric import ed25519",
    "dataclasses (with inspect)": "import dataclasses",
    "typing": "import typing",
    "sqlite3": "import sqlite3",
    "subprocess, threading": "import subprocess, threading",
}


def cpu_of(command: list[str], env: dict[str, str], cwd: str) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["VATIO_RESIDENT"] = "0"  # the imports of one process that records in-process
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / "modules.txt"
        for _ in range(2):  # the first run of a new command line fills the package cache
            subprocess.run([PY, "-c", PROBE, str(listing)], env=env, cwd=folder, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
        modules = [m for m in listing.read_text().split() if m not in ("__main__",)]
        ours = [m for m in modules if m == "vatio" or m.startswith("vatio.")]
        others = [m for m in modules if m not in ours and not m.startswith("_")]
        commands = {
            "interpreter (`python -c pass`)": [PY, "-c", "pass"],
            f"import all {len(modules)} modules a run loads": [PY, "-c", "import " + ", ".join(
                m for m in modules if not m.startswith("_"))],
            f"import the {len(others)} standard-library and third-party ones only": [
                PY, "-c", "import " + ", ".join(others)],
            **{f"import {name} alone": [PY, "-c", code] for name, code in ALONE.items()},
            "`sleep 0.3`": ["sleep", "0.3"],
            "`vatio run -q -- sleep 0.3`": [VATIO, "run", "-q", "--", "sleep", "0.3"],
        }  # fmt: skip
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm-up: bytecode, caches
            cpu_of(command, env, folder)
        for _ in range(args.reps):
            for name, command in commands.items():
                times[name].append(cpu_of(command, env, folder))
    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    base = median["interpreter (`python -c pass`)"]
    print(f"{len(modules)} modules loaded by `vatio run` ({len(ours)} of them vatio's); "
          f"CPU ms, medians of {args.reps} whole processes, measured; load "
          f"{os.getloadavg()[0]:.1f}\n")  # fmt: skip
    print("| process | CPU | above the interpreter |")
    print("|---|---:|---:|")
    for name, value in median.items():
        above = value - (median["`sleep 0.3`"] if "sleep" in name else base)
        print(f"| {name} | {value:.0f} ms | {'' if name.startswith('interp') else f'+{above:.0f} ms'} |")  # fmt: skip  # noqa: E501


if __name__ == "__main__":
    main()
