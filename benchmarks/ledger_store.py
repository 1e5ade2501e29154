"""The signed log as vatio uses it: a real SQLite run store, records of a real run's size.

(a) append + sign + checkpoint per run through the recorder (`Recorder.write`: one
    record, its leaf, the new frontier and an Ed25519-signed checkpoint in one
    transaction), median over N runs;
(b) `verify_store` (what `vatio ledger verify` does) over a store of 100,000 runs,
    and the whole `vatio ledger verify` command as a process;
(c) 1,000 random tamperings of a stored record or of the log (single-field edits of
    the JSON record, edits of a summary column, deleted rows, swapped records,
    reordered or deleted leaves), each on a fresh copy: how many `verify_store` detects.

Records are copies of a real record (a 2 s `vatio.track` run here, manifest included),
with a new id and energy each. Run:
    .venv/bin/python benchmarks/ledger_store.py [--appends 300] [--runs 100000]
        [--tamper 1000] [--write FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vatio.canonical import canonical_json
from vatio.config import Profile
from vatio.record.audit import trusted_verifiers, verify_store
from vatio.record.context import RecordContext
from vatio.record.recorder import Entry, Recorder
from vatio.store.runstore import RunStore


def template() -> dict[str, Any]:
    """The record of a real 2-second run on this machine (what a store holds)."""
    import vatio

    with vatio.track(zone="ES", store=False) as tracker:
        time.sleep(2.0)
    from vatio.record.recorder import record_text

    return record_text(tracker.result)[0]


def entry(base: dict[str, Any], i: int) -> Entry:
    record = json.loads(json.dumps(base))
    record["id"] = f"{i:012x}"
    record["totals"]["energy_j"] = 100.0 + (i % 997)
    started = datetime(2026, 1, 1, tzinfo=UTC).timestamp() + 60.0 * i  # one a minute
    for key, at in (("started_at", started), ("ended_at", started + 2.0)):
        record[key] = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = canonical_json(record).decode("utf-8")
    return Entry(record, text, "run", None)


def appends(base: dict[str, Any], folder: Path, n: int, *, full_store: bool = False) -> list[float]:
    """Per-append seconds. A new recorder, as each `vatio run` process has, writes an
    existing current SQLite store with the standard library (store/sqlite_writer.py);
    `full_store` forces the SQLAlchemy path (PostgreSQL, or a store's very first run)."""
    name = "append-full.db" if full_store else "append.db"
    context = RecordContext.build(Profile(store=str(folder / name)))
    Recorder(context).write([entry(base, 10**9)])  # create the store and the key first
    recorder = Recorder(context)
    if full_store:
        recorder._writer = recorder.open_store()
    times = []
    for i in range(n):
        item = entry(base, i)
        began = time.perf_counter()
        outcome = recorder.write([item])
        times.append(time.perf_counter() - began)
        assert outcome.store_error is None and outcome.checkpoint
    return times


def big_store(base: dict[str, Any], path: Path, n: int, batch: int = 2000) -> float:
    recorder = Recorder(RecordContext.build(Profile(store=str(path))))
    began = time.perf_counter()
    for start in range(0, n, batch):
        outcome = recorder.write([entry(base, i) for i in range(start, min(n, start + batch))])
        assert outcome.store_error is None
    return time.perf_counter() - began


def verify_seconds(path: Path) -> tuple[float, Any]:
    store = RunStore(f"sqlite:///{path}", readonly=True)
    began = time.perf_counter()
    audit = verify_store(store, trusted_verifiers(Profile()))
    return time.perf_counter() - began, audit


def cli_verify_seconds(path: Path) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VATIO_")}
    env["VATIO_STORE"] = str(path)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vatio", "ledger", "verify"], env=env,
                          capture_output=True, text=True)  # fmt: skip
    return time.perf_counter() - began, done.returncode


def reading_commands(path: Path, repeat: int = 7) -> dict[str, float]:
    """Median wall seconds of the reading commands on the big store, as whole processes
    (the installed `vatio` command; the first call of each builds the profile cache),
    answered by a resident recorder of their own, and in-process (VATIO_RESIDENT=0)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VATIO_")}
    env["VATIO_STORE"] = str(path)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["VATIO_RESIDENT_DIR"] = tempfile.mkdtemp(prefix="vatio-bench-recorder-")
    out = _reading_commands(path, env | {"VATIO_RESIDENT": "0"}, repeat, ", in-process")
    vatio = str(Path(sys.executable).parent / "vatio")
    subprocess.run([vatio, "recorder", "start"], env=env, capture_output=True)
    try:
        out |= _reading_commands(path, env, repeat, ", resident recorder")
    finally:
        subprocess.run([vatio, "recorder", "stop"], env=env, capture_output=True)
    return out


def _reading_commands(path: Path, env: dict[str, str], repeat: int, label: str
                      ) -> dict[str, float]:  # fmt: skip
    vatio = str(Path(sys.executable).parent / "vatio")
    newest = json.loads(
        subprocess.run(
            [vatio, "runs", "list", "--limit", "1", "--json"],
            env=env,
            capture_output=True,
            text=True,
        ).stdout
    )[0]["id"]
    oldest = f"{0:012x}"
    commands = {
        "`vatio runs list` (newest 50)": [vatio, "runs", "list"],
        "`vatio runs list --json`": [vatio, "runs", "list", "--json"],
        "`vatio runs show` (the newest run)": [vatio, "runs", "show", newest],
        "`vatio runs show` (the oldest run)": [vatio, "runs", "show", oldest],
    }  # fmt: skip
    out: dict[str, float] = {}
    for name, command in commands.items():
        subprocess.run(command, env=env, capture_output=True)
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            times.append(time.perf_counter() - began)
            assert done.returncode == 0, done.stderr
        out[name + label] = statistics.median(times)
    return out


# -- (c) tampering -------------------------------------------------------------------------
def _paths(value: Any, prefix: str = "$") -> list[tuple[str, Any]]:
    out = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.isidentifier():
                out += _paths(item, f"{prefix}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value[:5]):
            out += _paths(item, f"{prefix}[{index}]")
    else:
        out.append((prefix, value))
    return out


def tamper(db: Path, rnd: random.Random) -> str:
    """One random change behind vatio's back; returns what it was."""
    conn = sqlite3.connect(db)
    ids = [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY id")]
    target = rnd.choice(ids)
    kind = rnd.choice(["field", "field", "field", "column", "delete", "swap", "leaf-swap",
                       "leaf-delete"])  # fmt: skip
    if kind == "field":
        (text,) = conn.execute("SELECT record FROM runs WHERE id=?", (target,)).fetchone()
        path, value = rnd.choice(_paths(json.loads(text)))
        new: Any = value * 1.01 + 1 if isinstance(value, int | float) and not isinstance(
            value, bool) else (not value if isinstance(value, bool) else f"{value}x")  # fmt: skip
        conn.execute(
            "UPDATE runs SET record=json_set(record, ?, json(?)) WHERE id=?",
            (path, json.dumps(new), target),
        )
        what = f"field {path}"
    elif kind == "column":
        column = rnd.choice(["energy_j", "co2e_g", "status", "name", "duration_s", "method"])
        (current,) = conn.execute(f"SELECT {column} FROM runs WHERE id=?", (target,)).fetchone()
        choices = [v for v in (0.001, "edited", None, 42) if v != current]
        if column == "status":  # NOT NULL: the schema itself refuses that edit
            choices = [v for v in choices if v is not None]
        value = rnd.choice(choices)  # an edit that changes nothing is no tampering
        conn.execute(f"UPDATE runs SET {column}=? WHERE id=?", (value, target))
        what = f"column {column}={value!r}"
    elif kind == "delete":
        conn.execute("DELETE FROM runs WHERE id=?", (target,))
        what = "row deleted"
    elif kind == "swap":
        other = rnd.choice([i for i in ids if i != target])
        a = conn.execute("SELECT record, digest FROM runs WHERE id=?", (target,)).fetchone()
        b = conn.execute("SELECT record, digest FROM runs WHERE id=?", (other,)).fetchone()
        conn.execute("UPDATE runs SET record=?, digest=? WHERE id=?", (*b, target))
        conn.execute("UPDATE runs SET record=?, digest=? WHERE id=?", (*a, other))
        what = "records swapped"
    elif kind == "leaf-swap":
        n = conn.execute("SELECT count(*) FROM ledger_leaves").fetchone()[0]
        i, j = rnd.sample(range(n), 2)
        hi = conn.execute("SELECT leaf_hash FROM ledger_leaves WHERE idx=?", (i,)).fetchone()[0]
        hj = conn.execute("SELECT leaf_hash FROM ledger_leaves WHERE idx=?", (j,)).fetchone()[0]
        conn.execute("UPDATE ledger_leaves SET leaf_hash=? WHERE idx=?", (hj, i))
        conn.execute("UPDATE ledger_leaves SET leaf_hash=? WHERE idx=?", (hi, j))
        what = "leaves reordered"
    else:
        n = conn.execute("SELECT count(*) FROM ledger_leaves").fetchone()[0]
        conn.execute("DELETE FROM ledger_leaves WHERE idx=?", (rnd.randrange(n),))
        what = "leaf deleted"
    conn.commit()
    conn.close()
    return what


def _copy_database(source: Path, target: Path) -> None:
    """A whole copy, write-ahead log included (a file copy can miss the WAL's pages)."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def tamper_trials(base: dict[str, Any], folder: Path, trials: int, runs: int = 60) -> dict:
    clean = folder / "clean.db"
    big_store(base, clean, runs, batch=20)
    _, audit = verify_seconds(clean)
    assert audit.report.ok, audit.report.summary()
    rnd = random.Random(20261201)
    missed: list[str] = []
    kinds: dict[str, int] = {}
    for _ in range(trials):
        copy = folder / "t.db"
        _copy_database(clean, copy)
        what = tamper(copy, rnd)
        kinds[what.split()[0]] = kinds.get(what.split()[0], 0) + 1
        _, audit = verify_seconds(copy)
        if audit.report.ok:
            missed.append(what)
        for leftover in (copy, copy.with_name("t.db-wal"), copy.with_name("t.db-shm")):
            leftover.unlink(missing_ok=True)
    return {"trials": trials, "missed": missed, "kinds": kinds, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--tamper", type=int, default=1000)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vatio-ledger-store-"))
    os.environ.setdefault("XDG_CONFIG_HOME", str(folder / "config"))
    os.environ.setdefault("XDG_STATE_HOME", str(folder / "state"))
    base = template()
    size = len(canonical_json(base))
    times = appends(base, folder, args.appends)
    median_ms = statistics.median(times) * 1000
    p95_ms = sorted(times)[int(0.95 * len(times))] * 1000
    full_ms = statistics.median(appends(base, folder, args.appends, full_store=True)) * 1000
    built = big_store(base, folder / "big.db", args.runs)
    seconds, audit = verify_seconds(folder / "big.db")
    cli_s, cli_code = cli_verify_seconds(folder / "big.db")
    reading = reading_commands(folder / "big.db")
    trials = tamper_trials(base, folder, args.tamper)
    db_mb = (folder / "big.db").stat().st_size / 1e6
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Signed log in the run store (`benchmarks/ledger_store.py`)",
        "",
        f"Date: {when}. Command: `.venv/bin/python benchmarks/ledger_store.py "
        f"--appends {args.appends} --runs {args.runs} --tamper {args.tamper}`. "
        f"Load average at the end: {os.getloadavg()[0]:.1f} (2 vCPUs). All figures **measured**. "
        f"Records: copies of a real 2 s run's record, {size:,} B of canonical JSON each "
        "(the manifest is most of it).",
        "",
        "| What | Target | Measured | |",
        "|---|---|---|---|",
        f"| append + sign + checkpoint of one run (record, leaf, frontier, Ed25519 checkpoint, "
        f"one SQLite transaction; {args.appends} runs) | ≤ 2 ms | median {median_ms:.2f} ms, "
        f"p95 {p95_ms:.2f} ms | {'met' if median_ms <= 2 else 'NOT met'} |",
        f"| the same through SQLAlchemy (PostgreSQL's path; SQLite only for a store's first "
        f"run) | | median {full_ms:.2f} ms | |",
        f"| `verify_store` of {args.runs:,} runs ({db_mb:,.0f} MB store): every record hashed "
        f"and parsed, columns checked, root vs signed checkpoint | ≤ 10 s | {seconds:.2f} s "
        f"({audit.report.summary()}) | {'met' if seconds <= 10 else 'NOT met'} |",
        f"| `vatio ledger verify` as a whole process, same store | ≤ 10 s | {cli_s:.2f} s "
        f"(exit {cli_code}) | {'met' if cli_s <= 10 else 'NOT met'} |",
        f"| random tamperings detected ({trials['trials']} trials on a {trials['runs']}-run "
        f"store: {', '.join(f'{k} {v}' for k, v in sorted(trials['kinds'].items()))}) | all | "
        f"{trials['trials'] - len(trials['missed'])} of {trials['trials']} | "
        f"{'met' if not trials['missed'] else 'NOT met: ' + '; '.join(trials['missed'][:5])} |",
    ]
    lines += [
        f"| {name} on the same store, whole process, median of 7 | ≤ 250 ms | "
        f"{seconds * 1000:.0f} ms | {'met' if seconds <= 0.25 else 'NOT met'} |"
        for name, seconds in reading.items()
    ]
    lines += [
        "",
        f"Building the {args.runs:,}-run store took {built:.0f} s (batches of 2,000 runs, one "
        "checkpoint each).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        with args.write.open("a", encoding="utf-8") as handle:
            handle.write("\n" + text)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
