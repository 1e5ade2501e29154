"""`vatio report`: HTML, Markdown or JSON reports of runs, and the EU AI Act Annex XI section."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

FORMATS = ("html", "md", "json")
SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".json": "json"}


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    run_ids: list[str] = typer.Argument(
        ..., help="Run ids or unique prefixes; with several, the first is the baseline."
    ),
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        help="File to write; its suffix (.html, .md, .json) sets the format.",
    ),
    fmt: str = typer.Option(None, "--format", "-f", help="html, md or json (default: html)."),
    aiact: bool = typer.Option(
        False, "--aiact", help="Write the EU AI Act Annex XI §1.2(d)(e) section (Markdown)."
    ),
    flops: float = typer.Option(
        None, "--flops", help="Training FLOPs of the run, when known and not recorded with it."
    ),
    store: str = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path."),
) -> None:
    """Report recorded runs: energy by device and phase, carbon, SCI, manifest, comparison."""
    from vatio.errors import InputError
    from vatio.report.build import build_report
    from vatio.report.load import load_records
    from vatio.report.settings import load_settings

    chosen = _format(fmt, output, aiact)
    if flops is not None and (flops < 0 or len(run_ids) > 1):
        raise InputError(
            "--flops takes one non-negative number for one run.",
            "Report runs one at a time, or record FLOPs on each run with add_work(flops=...).",
        )
    settings = load_settings(store)
    records, url = load_records(settings.store, run_ids)
    data = build_report(records, settings=settings.report, flops=flops, store_url=url)
    text = _render(data, chosen, aiact)
    if output is None and chosen == "html" and not aiact:
        output = Path(f"vatio-report-{records[0]['id']}.html")
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"Cannot write {output}: {error.strerror}.", "Choose a writable path with -o."
        ) from None
    what = "Annex XI section" if aiact else f"{chosen.upper()} report"
    sys.stderr.write(f"vatio: wrote the {what} of {len(records)} run(s) to {output}\n")


def _format(fmt: str | None, output: Path | None, aiact: bool) -> str:
    from vatio.errors import InputError

    if fmt is not None and fmt.lower() not in FORMATS:
        raise InputError(f"Unknown report format {fmt!r}.", "Use --format html, md or json.")
    chosen = fmt.lower() if fmt else SUFFIXES.get(output.suffix.lower(), "html") if output else None
    if aiact:
        if chosen not in (None, "md"):
            raise InputError(
                "The Annex XI section is Markdown only.",
                "Drop --format, or write it to a .md file.",
            )
        return "md"
    return chosen or "html"


def _render(data: dict, chosen: str, aiact: bool) -> str:
    if aiact:
        from vatio.report.aiact import render_aiact

        return render_aiact(data)
    if chosen == "json":
        import json

        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if chosen == "md":
        from vatio.report.markdown import render_markdown

        return render_markdown(data)
    from vatio.report.html import render_html

    return render_html(data)
