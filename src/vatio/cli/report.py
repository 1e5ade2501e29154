"""`vatio report`: HTML, Markdown or JSON reports of runs, and the EU AI Act Annex XI section."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import typer

FORMATS = ("html", "md", "json")
SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".json": "json"}


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    run_ids: list[str] = typer.Argument(
        None,
        help="Run ids, unique prefixes or multi-node group ids; with several, the first is the "
        "baseline. Leave out for the fleet view (--since, --group-by).",
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
    since: str = typer.Option(
        None, "--since", help="Fleet view: runs started since (30d, 12h, a UTC date)."
    ),
    group_by: str = typer.Option(
        None, "--group-by", help="Fleet view: group by user, project, host or zone."
    ),
    top: int = typer.Option(
        10, "--top", min=1, max=1000, help="Fleet view: how many top consumers to list."
    ),
    user: str = typer.Option(None, "--user", help="Fleet view: only this user's runs (* ?)."),
    project: str = typer.Option(None, "--project", help="Fleet view: only this project (* ?)."),
    host: str = typer.Option(None, "--host", help="Fleet view: only these hosts, e.g. 'gpu-*'."),
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
    if since is not None or group_by is not None:
        if run_ids:
            raise InputError(
                "Give run ids, or --since/--group-by for the fleet view, not both.",
                "The fleet view covers every run of the window; drop the ids.",
            )
        if aiact or flops is not None:
            raise InputError("--aiact and --flops apply to run reports, not to the fleet view.")
        _fleet(FleetOptions(since, group_by, top, user, project, host), output, chosen, store,
               trust or [])  # fmt: skip
        return
    if user or project or host:
        raise InputError(
            "--user, --project and --host select runs for the fleet view.",
            "Add --since or --group-by, or give run ids without them.",
        )
    if not run_ids:
        raise InputError(
            "No run id given.",
            "Give run ids (`vatio runs list` shows them), or --since 30d --group-by user for "
            "the fleet view.",
        )
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


@dataclass(frozen=True)
class FleetOptions:
    """The fleet view's options, as given."""

    since: str | None
    group_by: str | None
    top: int
    user: str | None
    project: str | None
    host: str | None


def _fleet(
    options: FleetOptions, output: Path | None, chosen: str, store: str | None, trust: list[str]
) -> None:
    """`vatio report --since 30d --group-by user`: many runs, grouped, flagged if unverified."""
    from datetime import UTC, datetime

    from vatio.cli.runs_read import run_filter
    from vatio.errors import InputError, StoreError
    from vatio.profile_cache import cached_profile
    from vatio.record.audit import trusted_verifiers
    from vatio.report.fleet import GROUP_BY, fleet_report
    from vatio.report.load import open_run_store, store_exists
    from vatio.report.settings import load_settings
    from vatio.store.location import resolve_url
    from vatio.userfiles import check_output_path

    group_by = (options.group_by or "user").lower()
    if group_by not in GROUP_BY:
        raise InputError(
            f"Unknown --group-by {options.group_by!r}.", f"Use one of: {', '.join(GROUP_BY)}."
        )
    where = run_filter(options.user, options.project, options.host, options.since or "30d")
    settings = load_settings(store)
    check_output_path(output, "report file", protect=[resolve_url(settings.store, create=False)])
    if not store_exists(settings.store):
        raise StoreError(
            f"There is no run store at {settings.store or '.vatio/vatio.db'} (nothing recorded "
            "here yet).",
            "Record runs with `vatio run`, or point --store or VATIO_STORE at the team store.",
        )
    run_store = open_run_store(settings.store)
    profile, _ = cached_profile({"store": store})
    from rich.progress import Progress

    with Progress(transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("verifying the runs against the signed log", total=None)
        data = fleet_report(
            run_store,
            where,
            group_by,
            verifiers=trusted_verifiers(profile, trust),
            top=options.top,
            progress=lambda n: bar.advance(task, n),
        )
    text = _render(data, chosen, False)
    if output is None and chosen == "html":
        output = Path(f"vatio-fleet-{group_by}-{datetime.now(UTC):%Y%m%d}.html")
    if not data["verified"]:
        sys.stderr.write(
            f"vatio: WARNING: {data['verification']['unverified_runs']} run(s) are NOT verified "
            "against the signed log; they are counted and flagged in the report\n"
        )
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"Cannot write {output}: {error.strerror}.", "Choose a writable path with -o."
        ) from None
    sys.stderr.write(
        f"vatio: wrote the {chosen.upper()} fleet report of {data['totals']['runs']} run(s) "
        f"by {group_by} to {output}\n"
    )


def _verify(run_store, records: list, trust: list[str], allow: bool) -> list[dict]:
    from vatio.cli.groupview import combined_proof
    from vatio.errors import VatioError
    from vatio.profile_cache import cached_profile
    from vatio.record.audit import RunProof, trusted_verifiers, verify_runs

    profile, _ = cached_profile({})
    parts = {r["id"]: r["group"]["parts"] if r.get("group") else [r["id"]] for r in records}
    found = verify_runs(
        run_store, [i for ids in parts.values() for i in ids], trusted_verifiers(profile, trust)
    )
    by_id = {p.run_id: p for p in found}
    proofs = []
    for record in records:
        if not record.get("group"):
            proofs.append(by_id[record["id"]])
            continue
        merged = combined_proof(record["id"], [by_id[i] for i in parts[record["id"]]])
        proofs.append(RunProof(record["id"], merged["verified"], size=merged["checkpoint_size"],
                               reason=merged["reason"]))  # fmt: skip
        proofs[-1].parts = merged["parts"]  # type: ignore[attr-defined]
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
    return [p.to_dict() | ({"parts": p.parts} if hasattr(p, "parts") else {}) for p in proofs]


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
