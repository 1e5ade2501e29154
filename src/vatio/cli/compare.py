"""`vatio compare`: fail CI on a significant energy regression, never on noise."""

from __future__ import annotations

from typing import Any

import typer

#: more repetitions than this need --yes (a typo must not start hours of benchmarks)
REPEAT_ASK_ABOVE = 50
REPEAT_MAX = 1000
AUTO_MAX_DEFAULT = 30


def register(app: typer.Typer) -> None:
    app.command("compare", context_settings={"allow_interspersed_args": False})(compare)


def compare(
    command: list[str] = typer.Argument(
        None, help="With --repeat: the benchmark command, after --."
    ),
    baseline: str = typer.Option(None, "--baseline", help="Baseline run id or tag (e.g. main)."),
    candidate: str = typer.Option(None, "--candidate", help="Candidate run id or tag."),
    repeat: str = typer.Option(
        None,
        "--repeat",
        help="Run the command N times as the candidate (2-1000), or 'auto': until the "
        "answer is clear (see --max-repeat).",
    ),
    max_repeat: int = typer.Option(
        AUTO_MAX_DEFAULT, "--max-repeat", help="With --repeat auto: the most runs (3-1000)."
    ),
    yes: bool = typer.Option(False, "--yes", help=f"Allow more than {REPEAT_ASK_ABOVE} runs."),
    max_increase: str = typer.Option("5%", "--max-increase", help="Regression threshold."),
    detect: str = typer.Option(
        None,
        "--detect",
        help="The change worth detecting, for the power report and --repeat auto "
        "(default: 20 %, or twice the threshold).",
    ),
    metric: str = typer.Option(
        None,
        "--metric",
        help="process-energy (default), energy, co2e, duration, or instructions (counted runs).",
    ),
    counter: str = typer.Option(
        None,
        "--counter",
        help="'instructions': count each run's instructions (perf events, else valgrind) "
        "and compare those: a deterministic proxy of CPU work, not energy.",
    ),
    counter_tool: str = typer.Option(
        "auto", "--counter-tool", help="auto, perf or cachegrind (with --counter)."
    ),
    tag_as: str = typer.Option(None, "--tag-as", help="Tag the repeated runs (e.g. main)."),
    zone: str = typer.Option(None, "--zone", "-z", help="Grid zone (for --metric co2e)."),
    store: str = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Compare repeated energy measurements (or instruction counts); exit 1 only when a
    regression is significant, with the noise and the smallest change it could see."""
    from vatio.cli.runs import _open
    from vatio.compare.gate import check_same_counter, parse_change, samples, usable_metric
    from vatio.compare.power import default_detect
    from vatio.errors import InputError
    from vatio.record.group import logical_records  # a multi-node job compares as one run

    threshold = parse_change(max_increase, "threshold --max-increase")
    target = default_detect(threshold) if detect is None else parse_change(detect, "--detect")
    if target <= threshold:
        raise InputError(
            f"--detect {detect} is not above the threshold {threshold:.0%}.",
            "The gate never calls a change under its threshold; give a larger change.",
        )
    times, auto = _parse_repeat(repeat, max_repeat, yes, command)
    chosen = requested = _check_metric(metric, counter)
    for name, value in (("--baseline", baseline), ("--candidate", candidate), ("--tag-as", tag_as)):
        _check_ref(name, value)
    if command and candidate:
        raise InputError("Give either --candidate or a command to repeat, not both.")
    if not command and repeat is not None:
        raise InputError("--repeat needs the command to run after --.")
    if not command and not candidate:
        raise InputError(
            "Nothing to compare.", "Give --candidate RUN_OR_TAG, or --repeat N -- CMD."
        )
    if command and times is None:
        raise InputError("Give --repeat N (N >= 2) or --repeat auto with a command.")
    if counter and not command:
        raise InputError(
            "--counter instructions counts the runs it makes: give --repeat N -- CMD.",
            "To compare counted runs already stored, use --metric instructions.",
        )

    base_records: list[dict[str, Any]] = []
    run_store = None
    if baseline is not None:  # fail before any benchmark runs
        run_store = _open(store)
        base_records = logical_records(run_store, run_store.resolve_ref(baseline))
        chosen = usable_metric(chosen, base_records)
        base_values = samples(base_records, chosen, "baseline")
    if command:
        from vatio.cli.repeat import repeat_command

        count_with = _counter(counter, counter_tool, base_records) if counter else None
        auto_gate = None
        if auto:
            from vatio.compare.auto import N_MIN_COUNTER, N_MIN_ENERGY, AutoRepeat

            auto_gate = AutoRepeat(
                chosen,
                threshold,
                target,
                N_MIN_COUNTER if counter else N_MIN_ENERGY,
                times,
                base_records if baseline is not None else None,
            )
        cand_records = repeat_command(
            command,
            times,
            store=store,
            zone=zone,
            tag=tag_as,
            counter=count_with,
            on_result=auto_gate,
            known_total=not auto,
        )
    else:
        run_store = run_store or _open(store)
        cand_records = logical_records(run_store, run_store.resolve_ref(candidate))
        auto_gate = None
    if baseline is None:
        _report_recorded(cand_records, chosen, auto_gate, threshold, target, json_output)
        return
    chosen = usable_metric(chosen, base_records + cand_records)
    if chosen == "instructions":
        check_same_counter(base_records, cand_records)
    base_values = samples(base_records, chosen, "baseline")
    verdict, noise = _judge(
        base_values, samples(cand_records, chosen, "candidate"), threshold, target, auto_gate
    )
    details = {
        "metric": chosen,
        "baseline_runs": [r["id"] for r in base_records],
        "candidate_runs": [r["id"] for r in cand_records],
        "noise": noise.to_dict(),
        "sequential": auto_gate.to_dict(len(cand_records)) if auto_gate else None,
    }
    if requested != chosen:
        details["note"] = (
            "job energy is missing or zero for some runs (a job shorter than the sampling "
            "interval can end before its CPU time is read): machine energy compared instead"
        )
    _print_verdict(verdict, noise, details, base_records + cand_records, auto_gate, json_output)
    _record_decision(store, zone, verdict, details, baseline)
    if verdict.regression:
        raise typer.Exit(1)


# -- checks --------------------------------------------------------------------------
def _parse_repeat(
    repeat: str | None, max_repeat: int, yes: bool, command: list[str] | None
) -> tuple[int | None, bool]:
    """(number of runs or the maximum for auto, auto?) from --repeat and --max-repeat."""
    from vatio.errors import InputError

    if not 3 <= max_repeat <= REPEAT_MAX:
        raise InputError(f"--max-repeat {max_repeat} is out of range.", f"Give 3 to {REPEAT_MAX}.")
    if repeat is None:
        return None, False
    text = repeat.strip().lower()
    if text == "auto":
        times, auto = max_repeat, True
    elif text.isdigit() and len(text) <= 6:
        times, auto = int(text), False
        if not 2 <= times <= REPEAT_MAX:
            raise InputError(f"--repeat {repeat} is out of range.", f"Give 2 to {REPEAT_MAX}.")
    else:
        raise InputError(
            f"--repeat {repeat!r} is neither a number of runs nor 'auto'.",
            f"Give e.g. --repeat 5 (2 to {REPEAT_MAX}) or --repeat auto.",
        )
    if command and times > REPEAT_ASK_ABOVE and not yes:
        raise InputError(
            f"--repeat {repeat} would run the command up to {times} times.",
            f"Add --yes to confirm more than {REPEAT_ASK_ABOVE} repetitions.",
        )
    return times, auto


def _check_metric(metric: str | None, counter: str | None) -> str:
    from vatio.compare.counters import COUNTERS
    from vatio.compare.gate import METRICS
    from vatio.errors import InputError

    if metric is not None and metric not in METRICS:
        raise InputError(f"Unknown metric {metric!r}.", f"Use one of: {', '.join(METRICS)}.")
    if counter is None:
        return metric or "process-energy"
    if counter not in COUNTERS:
        raise InputError(f"Unknown counter {counter!r}.", "Use --counter instructions.")
    if metric not in (None, "instructions"):
        raise InputError(
            f"--counter instructions compares instruction counts, not {metric}.",
            "Drop --metric, or drop --counter to compare energy.",
        )
    return "instructions"


def _check_ref(name: str, value: str | None) -> None:
    from vatio.errors import InputError

    if value is not None and (
        not value.strip() or len(value) > 128 or any(ord(c) < 32 for c in value)
    ):
        raise InputError(
            f"{name} {value!r} is empty, too long or has control characters.",
            "Give a run id or a tag such as main.",
        )


def _counter(counter: str, tool: str, base_records: list[dict[str, Any]]) -> Any:
    """The counter asked for; with --counter-tool auto, the baseline's own if it had one."""
    from vatio.compare.counters import choose_counter
    from vatio.compare.gate import methods

    if tool == "auto" and base_records:
        used = methods(base_records, "instructions")
        if len(used) == 1 and used[0] in ("counted:perf", "counted:cachegrind"):
            tool = used[0].removeprefix("counted:")
    return choose_counter(counter, tool)


# -- judging and reporting -------------------------------------------------------------
def _judge(base: list[float], cand: list[float], threshold: float, target: float, auto_gate):
    from vatio.compare.gate import Verdict, decide
    from vatio.compare.power import assess

    noise = assess(base, cand, threshold, target)
    look = auto_gate.last if auto_gate is not None else None
    if look is None or look.n != len(cand):
        return decide(base, cand, threshold), noise
    c = look.comparison
    interval = f"{c.effect:+.1%} [{c.ci_low:+.1%}, {c.ci_high:+.1%}]"
    where = f"look {look.index + 1} of {len(auto_gate.looks)}, n = {look.n}"
    if look.decision == "regression":
        return Verdict(c, threshold, True, False, f"regression: {interval} > {threshold:+.0%} "
                       f"({where}; sequential bounds, false alarms <= 5 %)"), noise  # fmt: skip
    if look.decision == "improvement":
        return Verdict(c, threshold, False, True, f"improvement: {interval} ({where})"), noise
    return (
        Verdict(
            c,
            threshold,
            False,
            False,
            f"no significant change beyond {threshold:.0%}: {interval} ({where})",
        ),
        noise,
    )


def _print_verdict(verdict, noise, details, records, auto_gate, json_output: bool) -> None:
    from vatio.compare.counters import LABEL
    from vatio.compare.gate import methods

    metric = details["metric"]
    used = methods(records, metric)
    if json_output:
        from vatio.cli.output import print_json

        extra = {"label": LABEL} if metric == "instructions" else {}
        print_json(verdict.to_dict() | details | {"methods": used} | extra)
        return
    c = verdict.comparison
    label = f"; {LABEL}" if metric == "instructions" else ""
    typer.echo(
        f"{metric}: baseline median {c.median_baseline:.4g} (n={c.n_baseline}), "
        f"candidate median {c.median_candidate:.4g} (n={c.n_candidate}) [{', '.join(used)}{label}]"
    )
    typer.echo(f"Mann-Whitney p = {c.p_value:.3g}; {verdict.reason}")
    if details.get("note"):
        typer.echo(f"note: {details['note']}")
    for line in noise.lines():
        typer.echo(line)
    if auto_gate is not None:
        typer.echo(f"  --repeat auto needed n = {c.n_candidate} ({auto_gate.stopped}).")


def _report_recorded(records, metric, auto_gate, threshold, target, json_output: bool) -> None:
    """Without --baseline: what was recorded, and how noisy it was."""
    from vatio.compare.gate import metric_value
    from vatio.compare.power import cv, log_sigma, min_detectable, percent, runs_needed

    values = [v for v in (metric_value(r, metric) for r in records) if v]
    sigma = log_sigma(values)
    n = len(values)
    summary = {
        "recorded": [r["id"] for r in records],
        "metric": metric,
        "n": len(records),
        "cv": cv(values) if n >= 2 else None,
        "min_detectable_95_equal_n": min_detectable(n, n, sigma, sigma, threshold, 0.95)
        if n >= 2
        else None,
        "detect": target,
        "n_needed_95": runs_needed(sigma, sigma, threshold, target) if n >= 2 else None,
        "sequential": auto_gate.to_dict(len(records)) if auto_gate else None,
    }
    if json_output:
        from vatio.cli.output import print_json

        print_json(summary)
        return
    typer.echo(f"recorded {len(records)} runs; no --baseline given, nothing compared")
    if n >= 2:
        needed = summary["n_needed_95"]
        typer.echo(
            f"noise: CV {percent(summary['cv'])} on {metric}; to detect +{percent(target)} "
            + (
                f"95 % of the time, compare n ≥ {needed} a side"
                if needed
                else "95 % of the time would take more than 1000 runs a side"
            )
            + (f" (--repeat auto stopped: {auto_gate.stopped})" if auto_gate else "")
        )


def _record_decision(store, zone, verdict, details, baseline) -> None:
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
    result.extensions["compare"] = verdict.to_dict() | details | {"baseline": baseline}
    record_result(result, RecordContext.build(profile, sources, kind="compare"))
