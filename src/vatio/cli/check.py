"""`vatio check`: the guide's §5.1 checklist against this project and its recorded runs."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(
    json_output: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    store: str = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path."),
) -> None:
    """One line per checklist item: PASS, WARN, FAIL or N/A, with evidence and fix.

    Exits 1 when a required item fails. Severity per item: [tool.vatio.check] in the profile.
    """
    from vatio.report.checklist.context import gather
    from vatio.report.checklist.runner import exit_code, run_checklist, summary

    context = gather(store)
    results = run_checklist(context)
    code = exit_code(results)
    if json_output:
        from vatio.cli.output import print_json

        print_json(
            {
                "project": str(context.root),
                "store": context.store_label,
                "skipped_runs": context.skipped,
                "items": [r.to_dict() for r in results],
                "summary": summary(results),
                "exit_code": code,
            }
        )
        raise typer.Exit(code)
    _print(context, results)
    raise typer.Exit(code)


COLOURS = {"PASS": "green", "WARN": "yellow", "FAIL": "red", "N/A": "bright_black"}


def _print(context, results) -> None:
    from vatio.report.checklist.runner import summary

    typer.echo(f"vatio check · {context.root} · store {context.store_label}")
    width = max(len(r.id) for r in results)
    for r in results:
        status = typer.style(f"{r.status:<4}", fg=COLOURS[r.status], bold=r.status == "FAIL")
        typer.echo(f"{status}  {r.id:<{width}}  {r.evidence}")
        if r.fix:
            typer.echo(f"{'':4}  {'':<{width}}  fix: {r.fix}")
    for note in context.skipped:
        typer.echo(f"note: run {note} not checked (another record schema)")
    counts = summary(results)
    line = ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n)
    failed = [r.id for r in results if r.status == "FAIL"]
    tail = f"; required items failed: {', '.join(failed)}" if failed else ""
    typer.echo(f"{len(results)} items: {line}{tail}")
