"""Cost per test of `pytest --vatio`, against plain pytest, side by side.

Per-test overhead = ((on_N - off_N) - (on_1 - off_1)) / (N - 1): the session's
fixed cost (sensor discovery, the final store write) cancels out.

Run: .venv/bin/python benchmarks/pytest_plugin.py [--tests 300] [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(folder: Path, count: int, vatio: bool) -> float:
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"test_{count}.py"]
    if vatio:
        args += ["--vatio", f"--vatio-store={folder / 'v.db'}"]
    start = time.perf_counter()
    subprocess.run(args, cwd=folder, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=300)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for count in (1, args.tests):
            body = "".join(f"def test_{i}():\n    assert {i} >= 0\n\n" for i in range(count))
            (folder / f"test_{count}.py").write_text(body)
        per_test = []
        for _ in range(args.reps):
            times = {
                (count, flag): run(folder, count, flag)
                for count in (1, args.tests)
                for flag in (False, True)
            }
            extra_many = times[(args.tests, True)] - times[(args.tests, False)]
            extra_one = times[(1, True)] - times[(1, False)]
            per_test.append((extra_many - extra_one) / (args.tests - 1))
    print(
        json.dumps(
            {
                "tests": args.tests,
                "reps": args.reps,
                "per_test_overhead_ms_median": round(1000 * statistics.median(per_test), 3),
                "per_test_overhead_ms_all": [round(1000 * x, 3) for x in per_test],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
