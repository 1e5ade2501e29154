"""`vatio compare`: fail CI on a significant energy regression, never on noise."""

from __future__ import annotations

import typer

#: more repetitions than this need --yes (a typo must not start hours of benchmarks)
REPEAT_ASK_ABOVE = 50


def register(app: typer.Typer) -> None:
    app.command("compare", context_settings={"allow_interspersed_args": False})(compare)


def compare(
    command: list[str] = typer.Argument(
        None, help="With --repeat: the benchmark command, after --."
    ),
    baseline: str = typer.Option(None, "--baseline", help="Baseline run id or tag (e.g. main)."),
    candidate: str = typer.Option(None, "--candidate", help="Candidate run id or tag."),
    repeat: int = typer.Option(
        0, "--repeat", min=0, max=1000, help="Run the command N times as the candidate (2-1000)."
    ),
    yes: bool = typer.Option(False, "--yes", help=f"Allow --repeat above {REPEAT_ASK_ABOVE}."),
    max_increase: str = typer.Option("5%", "--max-increase", help="Regression threshold."),
    metric: str = typer.Option(
        "process-energy", "--metric", help="process-energy, energy, co2e or duration."
    ),
    tag_as: str = typer.Option(None, "--tag-as", help="Tag the repeated runs (e.g. main)."),
    zone: str = typer.Option(None, "--zone", "-z", help="Grid zone (for --metric co2e)."),
    store: str = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Compare repeated energy measurements; exit 1 only when a regression is significant."""
    from vatio.cli.runs import _open
    from vatio.compare.gate import decide, samples
    from vatio.errors import InputError
    from vatio.units import parse_fraction

    threshold = parse_fraction(max_increase)
    if metric not in ("process-energy", "energy", "co2e", "duration"):
        raise InputError(
            f"Unknown metric {metric!r}.", "Use process-energy, energy, co2e or duration."
        )
    if command and repeat > REPEAT_ASK_ABOVE and not yes:
        raise InputError(
            f"--repeat {repeat} would run the command {repeat} times.",
            f"Add --yes to confirm more than {REPEAT_ASK_ABOVE} repetitions.",
        )
    if command and repeat < 2:
        raise InputError("Give --repeat N (N >= 2) with a command.", "e.g. --repeat 5 -- CMD")
    if command and candidate:
        raise InputError("Give either --candidate or a command to repeat, not both.")
    if not command and repeat:
        raise InputError("--repeat needs the command to run after --.")
    if command:
        from vatio.cli.repeat import repeat_command

        candidate_ids = repeat_command(command, repeat, store=store, zone=zone, tag=tag_as)
        run_store = _open(store)
    elif candidate:
        run_store = _open(store)
        candidate_ids = run_store.resolve_ref(candidate)
    else:
        raise InputError(
            "Nothing to compare.", "Give --candidate RUN_OR_TAG, or --repeat N -- CMD."
        )
    if baseline is None:
        typer.echo(f"recorded {len(candidate_ids)} runs; no --baseline given, nothing compared")
        return
    base_records = [run_store.get(i) for i in run_store.resolve_ref(baseline)]
    cand_records = [run_store.get(i) for i in candidate_ids]
    chosen = metric
    if metric == "process-energy" and any(
        (r.get("totals") or {}).get("process_energy_j") is None for r in base_records + cand_records
    ):
        chosen = "energy"
    verdict = decide(
        samples(base_records, chosen, "baseline"),
        samples(cand_records, chosen, "candidate"),
        threshold,
    )
    if json_output:
        from vatio.cli.output import print_json

        print_json(
            verdict.to_dict()
            | {
                "metric": chosen,
                "baseline_runs": [r["id"] for r in base_records],
                "candidate_runs": [r["id"] for r in cand_records],
                "methods": sorted(
                    {(r.get("totals") or {}).get("method") for r in base_records + cand_records}
                ),
            }
        )
    else:
        c = verdict.comparison
        methods = sorted(
            {(r.get("totals") or {}).get("method") or "?" for r in base_records + cand_records}
        )
        typer.echo(
            f"{chosen}: baseline median {c.median_baseline:.4g} (n={c.n_baseline}), "
            f"candidate median {c.median_candidate:.4g} (n={c.n_candidate}) [{', '.join(methods)}]"
        )
        typer.echo(f"Mann-Whitney p = {c.p_value:.3g}; {verdict.reason}")
    _record_decision(store, zone, verdict, chosen, base_records, cand_records, baseline)
    if verdict.regression:
        raise typer.Exit(1)


def _record_decision(store, zone, verdict, metric, base_records, cand_records, baseline) -> None:
    """The gate's decision is logged too: an auditor can see what was compared and why."""
    import sys
    import time

    from vatio.config import load_profile
    from vatio.measure.result import RunResult
    from vatio.measure.tracker import new_run_id, utc_iso
    from vatio.record import RecordContext, record_result

    profile, sources = load_profile(overrides={"store": store, "zone": zone})
    now = utc_iso(time.time())
    result = RunResult(
        id=new_run_id(),
        name=f"compare vs {baseline}",
        command=["vatio", *sys.argv[1:]],
        status="completed",
        started_at=now,
        ended_at=now,
        duration_s=0.0,
    )
    result.extensions["compare"] = verdict.to_dict() | {
        "metric": metric,
        "baseline": baseline,
        "baseline_runs": [r["id"] for r in base_records],
        "candidate_runs": [r["id"] for r in cand_records],
    }
    record_result(result, RecordContext.build(profile, sources, kind="compare"))
