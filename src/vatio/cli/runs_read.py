"""`vatio runs list` and `vatio runs show`: read the store quickly (argparse, sqlite3).

Both answer in a fraction of a second on a SQLite store: no typer (`vatio.cli.lean`),
no SQLAlchemy (`vatio.store.sqlite_reader`), no pydantic (`vatio.profile_cache`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vatio.cli.lean import LeanParser, bounded_int
from vatio.errors import InputError

STATUSES = ("running", "completed", "failed", "interrupted", "killed", "abandoned")
KINDS = ("run", "benchmark", "optimize", "scale", "scale-study", "test", "test-session",
         "compare", "power-sweep", "fl", "fl-client", "fl-server")  # fmt: skip
STORE_HELP = "Run store: SQLAlchemy URL or SQLite path."
LIST_HELP = "Recorded runs, newest first (per-test runs of `pytest --vatio` only with --kind test)."
SHOW_HELP = (
    "One run in detail, with whether the signed log vouches for it; a multi-node job (its "
    "group id, or any of its parts) as one run with its nodes side by side."
)


def list_parser() -> argparse.ArgumentParser:
    p = LeanParser(prog="vatio runs list", description=LIST_HELP, allow_abbrev=False)
    add = p.add_argument
    add("--store", help=STORE_HELP)
    add(
        "--limit",
        type=bounded_int("--limit", 0, 10_000_000),
        default=50,
        help="Show at most this many runs (0: all; default 50).",
    )
    add("--status", help=f"Only runs with this status: {', '.join(STATUSES)}.")
    add("--kind", help="Only this kind: run, benchmark, optimize, scale, test, test-session.")
    add("--user", help="Only runs of this user (* and ? match).")
    add("--project", help="Only runs of this project (* and ?).")
    add("--host", help="Only runs on this host, e.g. 'gpu-*'.")
    add("--since", help="Only runs started since: a length (7d, 12h) or a UTC date.")
    add("--group", help="Only the parts of this multi-node run.")
    add("--json", action="store_true", dest="json_output", help="Print JSON.")
    return p  # fmt: skip


def show_parser() -> argparse.ArgumentParser:
    p = LeanParser(prog="vatio runs show", description=SHOW_HELP, allow_abbrev=False)
    add = p.add_argument
    add("run_id", metavar="RUN_ID", help="Run id (or a unique prefix), or a multi-node group id.")
    add("--store", help=STORE_HELP)
    add("--json", action="store_true", dest="json_output", help="Print the whole record as JSON.")
    add("--part", action="store_true", help="A part of a multi-node job alone, not the merged run.")
    return p  # fmt: skip


def open_reader(store: str | None) -> Any:
    """The quickest reader of the store (the standard library's sqlite3 for a current SQLite
    store), after the profile (cached) says which store."""
    from vatio.profile_cache import cached_profile
    from vatio.store.sqlite_reader import open_reader as reader_for

    profile, _ = cached_profile({"store": store})
    return reader_for(profile.store)


def main_list(argv: list[str]) -> int:
    args = list_parser().parse_args(argv)
    if args.status is not None and args.status not in STATUSES:
        raise InputError(f"Unknown status {args.status!r}.", f"Use one of: {', '.join(STATUSES)}.")
    if args.kind is not None and args.kind not in KINDS:
        raise InputError(f"Unknown kind {args.kind!r}.", f"Use one of: {', '.join(KINDS)}.")
    where = run_filter(args.user, args.project, args.host, args.since, args.group)
    rows = open_reader(args.store).list_runs(
        limit=args.limit or None,
        status=args.status,
        kind=args.kind,
        hide_kinds=("test",),
        where=where,
    )
    if args.json_output:
        from vatio.cli.output import print_json

        print_json(rows)
    else:
        print_table(rows)
    return 0


def print_table(rows: list[dict[str, Any]]) -> None:
    """The runs as a table that fits the terminal: numbers are never cut (the command column
    shrinks first, then the date and the method go)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from vatio.cli.output import fmt_duration
    from vatio.quantities import carbon as fmt_carbon
    from vatio.quantities import energy as fmt_energy

    console = Console()
    wide = console.width >= 100
    table = Table(
        title=f"{len(rows)} run(s)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    show_date = console.width >= 12 + 11 + 9 + 5 + 8 + 7 + 8 + 3 * 7 + 4
    table.add_column("id", no_wrap=True, min_width=12)
    if show_date:
        table.add_column("UTC", no_wrap=True, min_width=11)
    columns = (8 if wide else 7) - (0 if show_date else 1)
    fixed = 12 + (11 if show_date else 0) + 9 + 5 + 8 + 7 + (9 if wide else 0) + 3 * columns + 4
    table.add_column(
        "command / name",
        max_width=max(8, min(40, console.width - fixed)),
        overflow="ellipsis",
        no_wrap=True,
    )
    for column, width in (("status", 9), ("time", 5), ("energy", 8), ("CO2e", 7)):
        table.add_column(column, no_wrap=True, min_width=width)
    if wide:
        table.add_column("method", no_wrap=True, min_width=9)
    for row in rows:
        command = row["command"]
        what = " ".join([Path(command[0]).name, *command[1:]]) if command else (row["name"] or "")
        cells = [
            row["id"],
            *([row["started_at"][5:16].replace("T", " ")] if show_date else []),
            what,
            row["status"],
            fmt_duration(row["duration_s"]),
            fmt_energy(row["energy_j"]),
            fmt_carbon(row["co2e_g"]).removesuffix(" CO2e"),
        ]
        table.add_row(*cells, *([short_method(row["method"])] if wide else []))
    console.print(table)


def main_show(argv: list[str]) -> int:
    args = show_parser().parse_args(argv)
    from vatio.cli.groupview import combined_proof, logical_record, proof_line, render_nodes
    from vatio.profile_cache import cached_profile
    from vatio.record.audit import trusted_verifiers, verify_runs

    run_store = open_reader(args.store)
    record = run_store.get(args.run_id) if args.part else logical_record(run_store, args.run_id)
    profile, _ = cached_profile({"store": args.store})
    verifiers = trusted_verifiers(profile)
    if record.get("group"):
        proofs = verify_runs(run_store, record["group"]["parts"], verifiers)
        proof = combined_proof(record["id"], proofs)
    else:
        proof = verify_runs(run_store, [record["id"]], verifiers)[0].to_dict()
    record["verification"] = proof
    if args.json_output:
        from vatio.cli.output import print_json

        print_json(record)
        return 0
    from rich.console import Console
    from rich.markup import escape

    from vatio.cli.summary import render_summary

    console = Console()
    render_summary(record, console)
    if record.get("group"):
        render_nodes(record, console)
    console.print(escape(f"signed log: {proof_line(proof)}"), highlight=False)
    return 0


def run_filter(
    user: str | None,
    project: str | None,
    host: str | None,
    since: str | None,
    group: str | None = None,
):
    """The checked filters of the command line (an InputError names a bad one)."""
    from vatio.store.filters import RunFilter, check_name, parse_since

    return RunFilter(
        user=check_name(user, "--user", "user"),
        project=check_name(project, "--project", "project"),
        host=check_name(host, "--host", "host"),
        group=check_name(group, "--group", "group"),
        since=parse_since(since),
    )


def short_method(method: str | None) -> str:
    """'estimated:memory+estimated:tdp' -> 'estimated'; mixed stays visible."""
    if not method:
        return "—"
    kinds = {part.split(":")[0] for part in method.split("+")}
    return "mixed" if len(kinds) > 1 else kinds.pop()
