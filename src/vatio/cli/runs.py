"""`vatio runs list|show|export`: read the run store."""

from __future__ import annotations

from pathlib import Path

import typer

runs_app = typer.Typer(help="List, show and export recorded runs.", no_args_is_help=True)

STORE = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path.")


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")


def _open(store: str | None, *, readonly: bool = True):
    """The store for a reading command (read-only: works on a read-only mount, creates
    nothing); writing commands pass readonly=False."""
    from vatio.profile_cache import cached_profile
    from vatio.store.runstore import open_store

    profile, _ = cached_profile({"store": store})
    return open_store(profile.store, readonly=readonly)


STATUSES = ("running", "completed", "failed", "interrupted", "killed", "abandoned")
KINDS = ("run", "benchmark", "optimize", "scale", "scale-study", "test", "test-session",
         "compare", "power-sweep", "fl", "fl-client", "fl-server")  # fmt: skip


@runs_app.command("list")
def list_runs(
    store: str = STORE,
    limit: int = typer.Option(
        50, "--limit", min=0, max=10_000_000, help="Show at most this many runs (0: all)."
    ),
    status: str = typer.Option(None, "--status", help="Only runs with this status."),
    kind: str = typer.Option(
        None, "--kind", help="Only this kind: run, benchmark, optimize, scale, test, test-session."
    ),
    user: str = typer.Option(None, "--user", help="Only runs of this user (* and ? match)."),
    project: str = typer.Option(None, "--project", help="Only runs of this project (* and ?)."),
    host: str = typer.Option(None, "--host", help="Only runs on this host, e.g. 'gpu-*'."),
    since: str = typer.Option(
        None, "--since", help="Only runs started since: a length (7d, 12h) or a UTC date."
    ),
    group: str = typer.Option(None, "--group", help="Only the parts of this multi-node run."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recorded runs, newest first (per-test runs of `pytest --vatio` only with --kind test)."""
    from vatio.cli.output import fmt_duration, print_json
    from vatio.errors import InputError
    from vatio.quantities import carbon as fmt_carbon
    from vatio.quantities import energy as fmt_energy

    if status is not None and status not in STATUSES:
        raise InputError(f"Unknown status {status!r}.", f"Use one of: {', '.join(STATUSES)}.")
    if kind is not None and kind not in KINDS:
        raise InputError(f"Unknown kind {kind!r}.", f"Use one of: {', '.join(KINDS)}.")
    where = run_filter(user, project, host, since, group)
    rows = _open(store).list_runs(
        limit=limit or None, status=status, kind=kind, hide_kinds=("test",), where=where
    )
    if json_output:
        print_json(rows)
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    wide = console.width >= 100
    table = Table(
        title=f"{len(rows)} run(s)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    # numbers are never cut: the command column shrinks first, then the date goes
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
        table.add_row(*cells, *([_short_method(row["method"])] if wide else []))
    console.print(table)


@runs_app.command("show")
def show_run(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
    store: str = STORE,
    json_output: bool = typer.Option(False, "--json", help="Print the whole record as JSON."),
    part: bool = typer.Option(
        False, "--part", help="A part of a multi-node job alone, not the merged run."
    ),
) -> None:
    """One run in detail, with whether the signed log vouches for it; a multi-node job (its
    group id, or any of its parts) as one run with its nodes side by side."""
    from vatio.cli.groupview import combined_proof, logical_record, proof_line, render_nodes
    from vatio.profile_cache import cached_profile
    from vatio.record.audit import trusted_verifiers, verify_runs

    run_store = _open(store)
    record = run_store.get(run_id) if part else logical_record(run_store, run_id)
    profile, _ = cached_profile({"store": store})
    verifiers = trusted_verifiers(profile)
    if record.get("group"):
        proofs = verify_runs(run_store, record["group"]["parts"], verifiers)
        proof = combined_proof(record["id"], proofs)
    else:
        proof = verify_runs(run_store, [record["id"]], verifiers)[0].to_dict()
    record["verification"] = proof
    if json_output:
        from vatio.cli.output import print_json

        print_json(record)
        return
    from rich.console import Console
    from rich.markup import escape

    from vatio.cli.summary import render_summary

    console = Console()
    render_summary(record, console)
    if record.get("group"):
        render_nodes(record, console)
    console.print(escape(f"signed log: {proof_line(proof)}"), highlight=False)


@runs_app.command("export")
def export_runs(
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or json."),
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
    store: str = STORE,
) -> None:
    """All runs: CSV (one row per run) or JSON (full records)."""
    from vatio.cli.export import write_export
    from vatio.errors import InputError
    from vatio.profile_cache import cached_profile
    from vatio.store.location import resolve_url
    from vatio.userfiles import check_output_path

    if fmt not in ("csv", "json"):
        raise InputError(f"Unknown export format {fmt!r}.", "Use --format csv or --format json.")
    profile, _ = cached_profile({"store": store})
    check_output_path(output, "export file", protect=[resolve_url(profile.store, create=False)])
    skipped = write_export(_open(store), fmt, output)
    if skipped:
        raise typer.Exit(1)


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


def _short_method(method: str | None) -> str:
    """'estimated:memory+estimated:tdp' -> 'estimated'; mixed stays visible."""
    if not method:
        return "—"
    kinds = {part.split(":")[0] for part in method.split("+")}
    return "mixed" if len(kinds) > 1 else kinds.pop()


@runs_app.command("tag")
def tag_run(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
    tag: str = typer.Argument(..., help="Tag, e.g. main; a tag may name several runs."),
    store: str = STORE,
) -> None:
    """Tag a run (a tag names a baseline for `vatio compare --baseline TAG`)."""
    from vatio.errors import InputError

    if not tag.strip() or len(tag) > 128 or any(ord(c) < 32 for c in tag):
        raise InputError(
            f"The tag {tag!r} is empty, too long or has control characters.",
            "Use a short name such as main or v1.2.",
        )
    full_id = _open(store, readonly=False).tag(run_id, tag)
    typer.echo(f"tagged {full_id} as {tag}")


@runs_app.command("diff")
def diff(
    run_a: str = typer.Argument(..., help="First run id."),
    run_b: str = typer.Argument(..., help="Second run id."),
    store: str = STORE,
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What changed between two runs: packages, hardware, profile, git, energy and carbon."""
    from vatio.provenance.rundiff import diff_runs

    run_store = _open(store)
    result = diff_runs(run_store.get(run_a), run_store.get(run_b))
    if json_output:
        from vatio.cli.output import print_json

        print_json(result)
        return
    from vatio.cli.diffview import print_diff

    print_diff(result)


@runs_app.command("import")
def import_runs(
    files: list[Path] = typer.Argument(..., help="Unsaved records (.vatio/unsaved/*.json)."),
    store: str = STORE,
    keep: bool = typer.Option(False, "--keep", help="Keep the files after importing them."),
) -> None:
    """Bring runs saved as JSON (when the store could not be written) into the store."""
    from vatio.cli.importer import import_unsaved

    failed = import_unsaved(files, store, keep=keep)
    if failed:
        raise typer.Exit(1)
