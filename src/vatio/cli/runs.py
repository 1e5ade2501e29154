"""`vatio runs ...`: list, show, export, tag, diff and import recorded runs."""

from __future__ import annotations

from pathlib import Path

import typer

from vatio.cli.lean import register_passthrough
from vatio.cli.runs_read import LIST_HELP, SHOW_HELP, main_list, main_show

runs_app = typer.Typer(help="List, show and export recorded runs.", no_args_is_help=True)

STORE = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path.")


# `runs list` and `runs show` are lean commands (argparse): typed in a shell they never reach
# typer (see vatio.cli.lean); here they pass through for programs that drive the app object.
register_passthrough(runs_app, "list", main_list, LIST_HELP)
register_passthrough(runs_app, "show", main_show, SHOW_HELP)


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")


def _open(store: str | None, *, readonly: bool = True):
    """The store for a reading command (read-only: works on a read-only mount, creates
    nothing); writing commands pass readonly=False."""
    from vatio.profile_cache import cached_profile
    from vatio.store.runstore import open_store

    profile, _ = cached_profile({"store": store})
    return open_store(profile.store, readonly=readonly)


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
