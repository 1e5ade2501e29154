"""Team store targets of issue 14, measured on a real PostgreSQL server and on SQLite.

(a) insert of a finished run through the recorder (`Recorder.write`: the record, its leaf,
    the new frontier and an Ed25519-signed checkpoint in one transaction, plus the witness
    file), median and p95 over N runs, on PostgreSQL (default durability: fsync on,
    synchronous_commit on) and on SQLite (WAL, synchronous=NORMAL, vatio's settings);
(b) `runs list --limit 50` with filters over a store of 100,000 runs: in-process
    (`RunStore.list_runs` on an open store, and with the store opened for each call), and
    as a whole `vatio runs list ... --json` process (interpreter start included);
(c) a simulated 2 nodes × 2 local ranks job (real processes, distinct host names, fake
    devices): the merged run's energy against the exact sum of its node parts, and the
    devices counted twice.

Records are copies of a real record (a 2 s `vatio.track` run here, manifest included) with
a new id, user, project, host and start time each: 50 users, 10 projects, 64 hosts (48
gpu-*, 16 cpu-*), start times spread over the last 365 days, 5 % per-test runs (hidden
by `runs list`). Run:
    .venv/bin/python benchmarks/team_store.py [--inserts 300] [--runs 100000]
        [--repeat 15] [--processes 7] [--jobs 3] [--write FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.postgres import PostgresServer, missing_reason  # noqa: E402

from vatio.canonical import canonical_json  # noqa: E402
from vatio.config import Profile  # noqa: E402
from vatio.record.context import RecordContext  # noqa: E402
from vatio.record.recorder import Entry, Recorder  # noqa: E402
from vatio.store.filters import RunFilter, iso, parse_since  # noqa: E402
from vatio.store.runstore import RunStore  # noqa: E402

USERS = ["alice", *(f"user{i:02d}" for i in range(1, 50))]
PROJECTS = ["llm", *(f"project{i}" for i in range(1, 10))]
HOSTS = [*(f"gpu-{i:02d}" for i in range(48)), *(f"cpu-{i:02d}" for i in range(16))]
FILTERS = {
    "no filter": [],
    "--user alice": ["--user", "alice"],
    "--host 'gpu-1*' --since 30d": ["--host", "gpu-1*", "--since", "30d"],
    "--user alice --project llm --host 'gpu-*' --since 7d": [
        "--user", "alice", "--project", "llm", "--host", "gpu-*", "--since", "7d",
    ],
}  # fmt: skip


def template() -> dict[str, Any]:
    """The record of a real 2-second run on this machine (what a store holds)."""
    import vatio
    from vatio.record.recorder import record_text

    with vatio.track(zone="ES", store=False, group=None) as tracker:
        time.sleep(2.0)
    return record_text(tracker.result)[0]


def entry(base: dict[str, Any], i: int, rnd: random.Random, now: datetime) -> Entry:
    record = json.loads(json.dumps(base))
    record["id"] = f"{i:012x}"
    record["totals"]["energy_j"] = 100.0 + (i % 997)
    started = now - timedelta(seconds=rnd.uniform(0, 365 * 86400))
    record["started_at"] = iso(started)
    record["ended_at"] = iso(started + timedelta(seconds=2))
    record["owner"] = {
        "user": rnd.choice(USERS), "host": rnd.choice(HOSTS), "project": rnd.choice(PROJECTS),
    }  # fmt: skip
    kind = "test" if rnd.random() < 0.05 else "run"
    return Entry(record, canonical_json(record).decode("utf-8"), kind, None)


# -- (a) inserts -----------------------------------------------------------------------------
def inserts(base: dict[str, Any], url: str, n: int) -> list[float]:
    recorder = Recorder(RecordContext.build(Profile(store=url)))
    rnd, now = random.Random(1), datetime.now(UTC)
    recorder.write([entry(base, 10**9, rnd, now)])  # create the store and load the key first
    times = []
    for i in range(n):
        item = entry(base, i, rnd, now)
        began = time.perf_counter()
        outcome = recorder.write([item])
        times.append(time.perf_counter() - began)
        assert outcome.store_error is None and outcome.checkpoint, outcome.store_error
    return times


# -- (b) listing -------------------------------------------------------------------------------
def fill(base: dict[str, Any], url: str, n: int, batch: int = 2000) -> float:
    recorder = Recorder(RecordContext.build(Profile(store=url)))
    rnd, now = random.Random(2), datetime.now(UTC)
    began = time.perf_counter()
    for start in range(0, n, batch):
        items = [entry(base, i, rnd, now) for i in range(start, min(n, start + batch))]
        outcome = recorder.write(items)
        assert outcome.store_error is None, outcome.store_error
    return time.perf_counter() - began


def _where(args: list[str]) -> RunFilter:
    values = dict(zip(args[::2], args[1::2], strict=True))
    return RunFilter(
        user=values.get("--user"),
        project=values.get("--project"),
        host=values.get("--host"),
        since=parse_since(values.get("--since")),
    )


def list_in_process(url: str, args: list[str], repeat: int) -> dict[str, Any]:
    where = _where(args)
    store = RunStore(url, readonly=True)
    rows = store.list_runs(limit=50, hide_kinds=("test",), where=where)  # warm
    warm = []
    for _ in range(repeat):
        began = time.perf_counter()
        rows = store.list_runs(limit=50, hide_kinds=("test",), where=where)
        warm.append(time.perf_counter() - began)
    store.engine.dispose()
    opened = []
    for _ in range(repeat):
        began = time.perf_counter()
        fresh = RunStore(url, readonly=True)
        fresh.list_runs(limit=50, hide_kinds=("test",), where=where)
        opened.append(time.perf_counter() - began)
        fresh.engine.dispose()
    return {"rows": len(rows), "warm_ms": _ms(warm), "open_ms": _ms(opened)}


def list_process(url: str, args: list[str], repeat: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VATIO_")}
    command = [sys.executable, "-m", "vatio", "runs", "list", "--store", url, "--limit", "50",
               "--json", *args]  # fmt: skip
    times, rows = [], 0
    for _ in range(repeat):
        began = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - began)
        rows = len(json.loads(done.stdout))
    return {"rows": rows, "ms": _ms(times)}


def interpreter_floor(repeat: int) -> float:
    """`vatio --version` as a process: the cost of starting Python and vatio at all."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vatio", "--version"], capture_output=True,
                       check=True)  # fmt: skip
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def _ms(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median": statistics.median(times) * 1000,
        "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
        "max": ordered[-1] * 1000,
    }


# -- (c) a simulated multi-node job -----------------------------------------------------------
def multinode_job(folder: Path) -> dict[str, Any]:
    """2 nodes × 2 local ranks launched like torchrun (node_worker: vatio.track + fake devices)."""
    from vatio.record.group import load_group

    root = folder / f"job-{uuid.uuid4().hex[:6]}"
    root.mkdir()
    store = root / "team.db"
    RunStore(f"sqlite:///{store}").engine.dispose()
    job = uuid.uuid4().hex[:8]
    processes = []
    for rank in range(4):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VATIO_", "SLURM_"))}
        env.update(
            PYTHONPATH=str(REPO), VATIO_HOSTNAME=f"node-{'ab'[rank // 2]}", VATIO_STORE=str(store),
            RANK=str(rank), LOCAL_RANK=str(rank % 2), WORLD_SIZE="4", LOCAL_WORLD_SIZE="2",
            GROUP_RANK=str(rank // 2), TORCHELASTIC_RUN_ID=job, MASTER_ADDR="node-a",
            MASTER_PORT="29500",
            VATIO_NODE_LOCK_DIR=str(root / "locks"),
        )  # fmt: skip
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.team.node_worker", "api", str(root), str(rank)],
                env=env,
                cwd=REPO,
            )
        )
    for process in processes:
        assert process.wait(timeout=300) == 0
    run_store = RunStore(f"sqlite:///{store}")
    merged = load_group(run_store, f"torchrun-{job}")
    parts = [run_store.get(p) for p in merged["group"]["parts"]]
    node_parts = [p for p in parts if p["extensions"]["multinode"]["measures_devices"]]
    node_sum = math.fsum(p["totals"]["energy_j"] for p in node_parts)
    measured = [(p["extensions"]["multinode"]["host"], d["name"]) for p in parts
                for d in p["devices"]]  # fmt: skip
    return {
        "parts": len(parts),
        "node_parts": len(node_parts),
        "merged_j": merged["totals"]["energy_j"],
        "node_sum_j": node_sum,
        "exact": merged["totals"]["energy_j"] == node_sum,
        "devices_in_parts": len(measured),
        "distinct_devices": len(set(measured)),
        "double_counted": merged["group"]["devices_double_counted"],
        "rank_parts_with_devices": sum(1 for p in parts if p["devices"]) - len(node_parts),
    }


# -- report ------------------------------------------------------------------------------------
def machine() -> str:
    load = os.getloadavg()[0]
    return (
        f"{datetime.now(UTC):%Y-%m-%d} on {os.uname().nodename} ({os.cpu_count()} CPUs, load "
        f"average {load:.1f}), Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"
    )


def markdown(results: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        "## Team store (benchmarks/team_store.py)",
        "",
        f"Measured {machine()}, PostgreSQL {results.get('pg_version', 'absent')} (a local "
        "throwaway cluster, default durability), psycopg 3 (binary). Command: "
        f"`python benchmarks/team_store.py --inserts {args.inserts} --runs {args.runs} "
        f"--repeat {args.repeat} --processes {args.processes} --jobs {args.jobs}`. Records are "
        f"copies of a real record of this machine ({results['record_bytes'] / 1024:.1f} KiB "
        "of canonical JSON, manifest included). All figures measured.",
        "",
        "### Insert of a finished run (`Recorder.write`: record, leaf, signed checkpoint)",
        "",
        "| store | runs | median | p95 | max | target |",
        "|---|---|---|---|---|---|",
    ]
    for name, times in results["inserts"].items():
        stats = _ms(times)
        lines.append(
            f"| {name} | {len(times)} | {stats['median']:.2f} ms | {stats['p95']:.2f} ms | "
            f"{stats['max']:.1f} ms | ≤ 10 ms median: "
            f"{'met' if stats['median'] <= 10 else 'NOT met'} |"
        )
    lines += [
        "",
        f"### `runs list --limit 50` over {args.runs:,} runs",
        "",
        f"Store filled in {', '.join(f'{k}: {v:.0f} s' for k, v in results['fill_s'].items())}. "
        "In-process: `RunStore.list_runs` on an open store (warm), and opening the store for "
        "each call (what one CLI call does after start-up); process: the whole `vatio runs "
        f"list ... --json` command, median of {args.processes}. `vatio --version` as a "
        f"process takes {results['floor_ms']:.0f} ms here (interpreter and vatio start-up).",
        "",
        "| store | filters | rows | in-process warm (median / p95) | in-process, store opened "
        "| whole process | target ≤ 300 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for (name, label), found in results["lists"].items():
        warm, opened, process = found["in"]["warm_ms"], found["in"]["open_ms"], found["process"]
        met_in = opened["median"] <= 300
        met_process = process["ms"]["median"] <= 300
        lines.append(
            f"| {name} | `{label}` | {found['in']['rows']} | {warm['median']:.1f} / "
            f"{warm['p95']:.1f} ms | {opened['median']:.1f} ms | {process['ms']['median']:.0f} ms"
            f" | in-process {'met' if met_in else 'NOT met'}; process "
            f"{'met' if met_process else 'NOT met'} |"
        )
    lines += [
        "",
        "### Multi-node merge (2 nodes × 2 local ranks, real processes, fake devices)",
        "",
        "| job | parts | node parts | merged energy | Σ node parts | exactly equal | devices "
        "in parts (distinct) | counted twice | rank parts with devices |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for index, job in enumerate(results["jobs"], start=1):
        lines.append(
            f"| {index} | {job['parts']} | {job['node_parts']} | {job['merged_j']!r} J | "
            f"{job['node_sum_j']!r} J | {'yes' if job['exact'] else 'NO'} | "
            f"{job['devices_in_parts']} ({job['distinct_devices']}) | {job['double_counted']} | "
            f"{job['rank_parts_with_devices']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inserts", type=int, default=300)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--processes", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vatio-team-bench-"))
    os.environ.setdefault("XDG_CONFIG_HOME", str(folder / "config"))
    os.environ.setdefault("XDG_STATE_HOME", str(folder / "state"))
    base = template()
    results: dict[str, Any] = {"record_bytes": len(canonical_json(base))}
    stores = {"SQLite": f"sqlite:///{folder / 'list.db'}"}
    server = None
    reason = missing_reason()
    if reason is None:
        server = PostgresServer(durable=True).start()
        stores = {"PostgreSQL": server.new_database("list"), **stores}
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres") as conn:
            results["pg_version"] = conn.execute("SHOW server_version").fetchone()[0]
    else:
        print(f"PostgreSQL skipped: {reason}", file=sys.stderr)
    try:
        results["inserts"] = {}
        for name in stores:
            url = (
                server.new_database("insert")
                if name == "PostgreSQL" and server
                else f"sqlite:///{folder / 'insert.db'}"
            )
            results["inserts"][name] = inserts(base, url, args.inserts)
            print(f"{name} insert median {_ms(results['inserts'][name])['median']:.2f} ms",
                  file=sys.stderr)  # fmt: skip
        results["fill_s"] = {name: fill(base, url, args.runs) for name, url in stores.items()}
        results["floor_ms"] = interpreter_floor(args.processes)
        results["lists"] = {}
        for name, url in stores.items():
            for label, filter_args in FILTERS.items():
                found = {
                    "in": list_in_process(url, filter_args, args.repeat),
                    "process": list_process(url, filter_args, args.processes),
                }
                results["lists"][(name, label)] = found
                print(f"{name} {label}: {found['in']['rows']} rows, warm "
                      f"{found['in']['warm_ms']['median']:.1f} ms, process "
                      f"{found['process']['ms']['median']:.0f} ms", file=sys.stderr)  # fmt: skip
        results["jobs"] = [multinode_job(folder) for _ in range(args.jobs)]
    finally:
        if server is not None:
            server.stop()
    text = markdown(results, args)
    print(text)
    if args.write:
        args.write.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
