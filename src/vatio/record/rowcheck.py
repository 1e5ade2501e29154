"""Every stored record against the signed log: its leaf, its digest, its summary columns.

A record of a real run is ~11 KB of canonical JSON (the manifest is most of it), and
checking one — two SHA-256 hashes and a full JSON parse, to compare the columns that
`runs list` shows with the signed values — costs ~0.3 ms of one core here: 100,000
records are half a minute. On a SQLite store the rows are therefore split by id among
processes, one per usable CPU, each reading with its own read-only connection; the
problems found come back in id order, exactly as one process would find them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from collections.abc import Callable
from typing import Any

from vatio.ledger.verify import Problem

#: summary columns that must equal the signed record's values
COLUMNS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "status": lambda r: r.get("status"),
    "name": lambda r: r.get("name"),
    "exit_code": lambda r: r.get("exit_code"),
    "started_at": lambda r: r.get("started_at"),
    "ended_at": lambda r: r.get("ended_at"),
    "duration_s": lambda r: r.get("duration_s"),
    "energy_j": lambda r: (r.get("totals") or {}).get("energy_j"),
    "energy_low_j": lambda r: (r.get("totals") or {}).get("energy_low_j"),
    "energy_high_j": lambda r: (r.get("totals") or {}).get("energy_high_j"),
    "process_energy_j": lambda r: (r.get("totals") or {}).get("process_energy_j"),
    "co2e_g": lambda r: (r.get("carbon") or {}).get("co2e_g"),
    "method": lambda r: (r.get("totals") or {}).get("method"),
    "command": lambda r: json.dumps(r["command"]) if r.get("command") else None,
    "group_id": lambda r: ((r.get("extensions") or {}).get("multinode") or {}).get("group_id"),
}
#: columns checked against the record's `owner` section (records written since it exists)
OWNER_COLUMNS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "username": lambda r: r["owner"].get("user"),
    "project": lambda r: r["owner"].get("project"),
    "host": lambda r: r["owner"].get("host"),
}
#: below this many records one process is quicker than starting others
PARALLEL_FROM = 5_000
#: ids handed to a worker at a time
CHUNK = 1_000


def check_record(
    row: dict[str, Any],
    index_of: dict[str, int],
    leaves: list[bytes],
    problems: list[Problem],
    loads: Callable[[str], Any] = json.loads,
) -> int | None:
    """The run's leaf index when its stored record is what the log signed (and its columns
    say what the record says); None, with the problem added, when not. `loads` parses the
    record (`orjson_loads` where thousands are checked: a difference is confirmed by json)."""
    run_id = row["id"]
    where = f"run {run_id}"
    text = row.get("record")
    index = index_of.get(run_id)
    if index is None:
        if text and not _parses(text):
            problems.append(Problem("malformed", where, "the stored record is not valid JSON"))
        elif text and row.get("status") != "running":
            problems.append(
                Problem(
                    "missing-leaf",
                    where,
                    "a finished record that is not in the signed log (added behind vatio's "
                    "back, or stored while signing failed)",
                )
            )
        return None
    if not text:
        problems.append(Problem("digest-mismatch", where, "its signed record was emptied"))
        return None
    from vatio.ledger.merkle import leaf_hash

    data = text.encode("utf-8")
    if leaf_hash(data) != leaves[index]:
        problems.append(
            Problem(
                "digest-mismatch",
                where,
                f"the stored record no longer hashes to leaf {index}: it was edited",
            )
        )
        return None
    if row.get("digest") != hashlib.sha256(data).hexdigest():
        problems.append(
            Problem("digest-mismatch", where, "the digest column does not match the record")
        )
        return None
    record = loads(text)
    detail = _column_mismatch(row, record)
    if loads is not json.loads and (detail is not None or _maybe_wide_integer(record)):
        detail = _column_mismatch(row, json.loads(text))
    if detail is not None:
        problems.append(Problem("digest-mismatch", where, detail))
        return None
    return index


def _column_mismatch(row: dict[str, Any], record: Any) -> str | None:
    """What the first summary column that differs from the signed record says, or None."""
    checks = COLUMNS | (OWNER_COLUMNS if isinstance(record.get("owner"), dict) else {})
    expected = [value_of(record) for value_of in checks.values()]
    found = [row.get(column) for column in checks]
    if expected == found:  # the rule: the columns were written from these very values
        return None
    for column, want, have in zip(checks, expected, found, strict=True):
        if not _same(want, have):
            return f"the {column} column ({have!r}) differs from the signed record ({want!r})"
    return None


def check_all(
    store: Any,
    index_of: dict[str, int],
    leaves: list[bytes],
    problems: list[Problem],
    progress: Callable[[int], None] | None = None,
) -> tuple[int, set[str]]:
    """Check every stored row: (records that verify, ids of the rows seen)."""
    path = getattr(store, "sqlite_file", None)
    workers = _usable_cpus()
    # fork shares the log with the workers as it is; only Linux forks safely (macOS has no
    # fork-safe system libraries, Windows no fork)
    parallel = sys.platform.startswith("linux") and workers > 1
    if path is not None and parallel and len(index_of) >= PARALLEL_FROM:
        return _check_in_processes(path, index_of, leaves, problems, progress, workers)
    checked = 0
    seen: set[str] = set()
    for row in store.iter_logged_records():
        seen.add(row["id"])
        if check_record(row, index_of, leaves, problems, orjson_loads) is not None:
            checked += 1
        if progress is not None:
            progress(1)
    return checked, seen


def _check_in_processes(
    path: Any,
    index_of: dict[str, int],
    leaves: list[bytes],
    problems: list[Problem],
    progress: Callable[[int], None] | None,
    workers: int,
) -> tuple[int, set[str]]:
    import contextlib
    import multiprocessing

    from vatio.store.sqlite_reader import read_only_connection

    checked = 0
    seen: set[str] = set()
    _WORKER.update(path=path, index_of=index_of, leaves=leaves, conn=None)
    try:
        with contextlib.closing(read_only_connection(path)) as conn:
            ids = [row[0] for row in conn.execute("SELECT id FROM runs ORDER BY id")]
        chunks = [(ids[i], ids[min(i + CHUNK, len(ids)) - 1]) for i in range(0, len(ids), CHUNK)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for count, ok, read, found in pool.imap(_check_chunk, chunks):  # in id order
                checked += ok
                seen.update(read)
                problems.extend(found)
                if progress is not None:
                    progress(count)
    except sqlite3.Error as error:
        from vatio.errors import StoreError

        raise StoreError(f"Cannot read the run store {path}: {error}.") from None
    finally:
        _WORKER.clear()
    return checked, seen


#: what a forked worker inherits: the store's path, the log; its own connection, opened at
#: its first chunk (an error there comes back through the pool, not as a restart loop)
_WORKER: dict[str, Any] = {}


def _check_chunk(bounds: tuple[str, str]) -> tuple[int, int, list[str], list[Problem]]:
    from vatio.store.sqlite_reader import FULL_SELECT, read_only_connection

    if _WORKER.get("conn") is None:
        _WORKER["conn"] = read_only_connection(_WORKER["path"])
    cursor = _WORKER["conn"].execute(
        f"SELECT {FULL_SELECT} FROM runs WHERE id >= ? AND id <= ? ORDER BY id", bounds
    )
    names = [d[0] for d in cursor.description]
    problems: list[Problem] = []
    read: list[str] = []
    ok = 0
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        read.append(row["id"])
        found = check_record(row, _WORKER["index_of"], _WORKER["leaves"], problems, orjson_loads)
        if found is not None:
            ok += 1
    return len(read), ok, read, problems


def _usable_cpus() -> int:
    try:
        return min(len(os.sched_getaffinity(0)), 8)
    except (AttributeError, OSError):
        return min(os.cpu_count() or 1, 8)


def _maybe_wide_integer(record: Any) -> bool:
    """A value orjson may have read from an integer beyond 64 bits (as a float) in what the
    checked columns are made of (the command's words included)."""
    if not isinstance(record, dict):
        return False
    values = [value_of(record) for name, value_of in COLUMNS.items() if name != "command"]
    if isinstance(record.get("owner"), dict):
        values += [value_of(record) for value_of in OWNER_COLUMNS.values()]
    return _has_wide_float([*values, record.get("command")])  # the command: before json.dumps


def _has_wide_float(value: Any) -> bool:
    if isinstance(value, float):
        return abs(value) >= 2.0**63
    if isinstance(value, dict):
        return any(_has_wide_float(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_wide_float(item) for item in value)
    return False


def orjson_loads(text: str) -> Any:
    """orjson's parse: 2.4x json's here, and the parse is most of a record's check. It reads
    integers beyond 64 bits as floats and refuses lone surrogates, so a mismatch it shows is
    checked again with json, and what it refuses is read by json."""
    import orjson  # here, not above: `runs show` checks one record and need not load it

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _parses(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return (
                a is not None
                and b is not None
                and abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
            )
        except (TypeError, ValueError):
            return False
    return a == b
