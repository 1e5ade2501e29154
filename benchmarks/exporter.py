"""Cost of `vatio exporter`: scrape latency over loopback and the exporter's own CPU when idle.

Run: .venv/bin/python benchmarks/exporter.py [--runs 10000] [--window 30] [--repeats 3]

For each configuration a real `vatio exporter` process is started; after a warm-up
its CPU time is read (psutil) over a window with no scrape ("idle"), then over a
window scraped every 15 s like Prometheus' default, then it is scraped back to
back to time scrapes end to end (new connection each, as Prometheus does; parse
not included). Targets (issue 14): scrape <= 20 ms, idle CPU <= 0.5 % of a core.
Prints a Markdown table of medians over the repeats; all figures are measured.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psutil

PY = sys.executable
SCRAPE_EVERY_S = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fill_store(path: Path, count: int) -> None:
    """A store of `count` finished and a few open runs, written in bulk (not through a tracker:
    only the exporter's reading of it is measured here)."""
    import sqlalchemy as sa

    from vatio.store.runstore import open_store
    from vatio.store.schema import SCHEMA_VERSION, runs

    store = open_store(str(path))
    rng = random.Random(14)
    statuses = ["completed"] * 90 + ["failed"] * 6 + ["interrupted"] * 3 + ["killed"]
    kinds = ["run"] * 8 + ["optimize", "test"]
    methods = ["estimated:memory+estimated:tdp", "measured:nvml-counter+measured:rapl"]
    rows = []
    for i in range(count):
        energy = rng.lognormvariate(9, 1.5)
        rows.append(
            {
                "id": f"{i:012x}",
                "kind": rng.choice(kinds),
                "status": "running" if i % 2000 == 0 else rng.choice(statuses),
                "started_at": f"2026-{1 + i % 12:02d}-01T00:00:00Z",
                "schema_version": SCHEMA_VERSION,
                "energy_j": energy,
                "co2e_g": energy / 3.6e6 * 200,
                "method": rng.choice(methods),
                "zone": rng.choice(["ES", "FR", "DE"]),
                "host": f"node-{i % 8}",
                "pid": 1,
            }
        )
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(runs), rows[start : start + 5000])


def scrape(url: str) -> float:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=5) as response:
        response.read()
    return time.perf_counter() - began


def wait_ready(url: str, process: subprocess.Popen) -> None:
    end = time.monotonic() + 60
    while True:
        try:
            scrape(url)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"exporter did not start: {process.stderr.read()}") from None
            time.sleep(0.1)


def cpu_share(proc: psutil.Process, seconds: float, url: str | None) -> float:
    """Percent of one core the process used over `seconds` (scraped every 15 s if url)."""
    before = sum(proc.cpu_times()[:2])
    began = time.monotonic()
    next_scrape = began
    while (left := began + seconds - time.monotonic()) > 0:
        if url is not None and time.monotonic() >= next_scrape:
            scrape(url)
            next_scrape += SCRAPE_EVERY_S
        time.sleep(min(left, 0.5))
    used = sum(proc.cpu_times()[:2]) - before
    return 100.0 * used / (time.monotonic() - began)


def measure(args: list[str], window: float, scrapes: int) -> dict[str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VATIO_")}
    process = subprocess.Popen(
        [PY, "-m", "vatio", "exporter", "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        wait_ready(url, process)
        proc = psutil.Process(process.pid)
        time.sleep(5)  # warm-up: first store read, intensity data, imports done
        text = urllib.request.urlopen(url, timeout=5).read().decode()
        if "--store" in args and "vatio_store_up 1.0" not in text:
            raise RuntimeError("the exporter could not read the store: nothing to measure")
        idle = cpu_share(proc, window, None)
        scraped = cpu_share(proc, window, url)
        times = sorted(scrape(url) for _ in range(scrapes))
        size = len(urllib.request.urlopen(url, timeout=5).read())
        rss = proc.memory_info().rss
    finally:
        process.terminate()
        process.wait(timeout=20)
    return {
        "idle_cpu_pct": idle,
        "scraped_cpu_pct": scraped,
        "scrape_median_ms": 1000 * statistics.median(times),
        "scrape_p95_ms": 1000 * times[int(0.95 * (len(times) - 1))],
        "scrape_max_ms": 1000 * times[-1],
        "bytes": size,
        "rss_mb": rss / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the store")
    parser.add_argument("--window", type=float, default=30.0, help="seconds per CPU window")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scrapes", type=int, default=200)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "team.db"
        fill_store(store, options.runs)
        configs = {
            "sensors only, 1 s sampling": ["--interval", "1s"],
            f"+ zone ES + store of {options.runs:,} runs": [
                "--interval", "1s", "--zone", "ES", "--store", str(store),
            ],
            "same, 0.1 s sampling": [
                "--interval", "100ms", "--zone", "ES", "--store", str(store),
            ],
        }  # fmt: skip
        results: dict[str, list[dict[str, float]]] = {name: [] for name in configs}
        for _ in range(options.repeats):
            for name, args in configs.items():  # configurations side by side in each repeat
                results[name].append(measure(args, options.window, options.scrapes))
    print(
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.node()} "
        f"({psutil.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}), "
        f"medians of {options.repeats} repeats, {options.window:g} s CPU windows, "
        f"{options.scrapes} scrapes each. CPU time is counted in clock ticks of "
        f"{1000 / os.sysconf('SC_CLK_TCK'):g} ms, so a window resolves "
        f"{100 / os.sysconf('SC_CLK_TCK') / options.window:.2f} % of a core.\n"
    )
    print(
        "| configuration | idle CPU (% of a core) | CPU scraped every 15 s | "
        "scrape median | p95 | max | exposition | RSS |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, rows in results.items():

        def med(key: str, rows: list[dict[str, float]] = rows) -> float:
            return statistics.median(r[key] for r in rows)

        print(
            f"| {name} | {med('idle_cpu_pct'):.2f} % | {med('scraped_cpu_pct'):.2f} % | "
            f"{med('scrape_median_ms'):.1f} ms | {med('scrape_p95_ms'):.1f} ms | "
            f"{med('scrape_max_ms'):.1f} ms | {med('bytes') / 1024:.1f} KiB | "
            f"{med('rss_mb'):.0f} MiB |"
        )


if __name__ == "__main__":
    main()
