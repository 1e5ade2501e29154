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
    allow_unverified: bool = typer.Option(
        False,
        "--allow-unverified",
        help="Print runs the signed log does not vouch for, with a visible warning.",
    ),
    trust: list[str] = typer.Option(
        None, "--trust", help="A verifier key (text or file) to trust besides this machine's."
    ),
) -> None:
    """Report recorded runs: energy by device and phase, carbon, SCI, manifest, comparison.

    Runs are verified against the signed log first (each shows "verified: leaf N of
    checkpoint SIZE"); a run that does not verify is refused unless --allow-unverified.
    """
    import math

    from vatio.errors import InputError
    from vatio.report.build import build_report
    from vatio.report.load import load_records
    from vatio.report.settings import load_settings
    from vatio.store.location import resolve_url
    from vatio.userfiles import check_output_path

    chosen = _format(fmt, output, aiact)
    if flops is not None and (not math.isfinite(flops) or flops < 0 or len(run_ids) > 1):
        raise InputError(
            "--flops takes one finite, non-negative number for one run.",
            "Report runs one at a time, or record FLOPs on each run with add_work(flops=...).",
        )
    settings = load_settings(store)
    check_output_path(output, "report file", protect=[resolve_url(settings.store, create=False)])
    records, url, run_store = load_records(settings.store, run_ids, with_store=True)
    proofs = _verify(run_store, records, trust or [], allow_unverified)
    data = build_report(
        records, settings=settings.report, flops=flops, store_url=url, verification=proofs
    )
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


def _verify(run_store, records: list, trust: list[str], allow: bool) -> list[dict]:
    from vatio.errors import VatioError
    from vatio.profile_cache import cached_profile
    from vatio.record.audit import trusted_verifiers, verify_runs

    profile, _ = cached_profile({})
    proofs = verify_runs(run_store, [r["id"] for r in records], trusted_verifiers(profile, trust))
    failing = [p for p in proofs if not p.ok]
    if failing and not allow:
        error = VatioError(
            f"Run {failing[0].run_id} is not verified against the signed log: "
            f"{failing[0].reason.rstrip('.')}.",
            "`vatio ledger verify` shows what holds; --allow-unverified prints it with a warning.",
        )
        error.exit_code = 1
        raise error
    for proof in failing:
        sys.stderr.write(f"vatio: WARNING: run {proof.run_id} is NOT verified: {proof.reason}\n")
    return [p.to_dict() for p in proofs]


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
