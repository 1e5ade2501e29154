"""`vatio fl`: federated learning, advised, measured and audited (Flower, extra `vatio[fl]`).

Only typer is imported at module level; Flower, numpy and rich load inside the
commands, so `vatio --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

fl_app = typer.Typer(
    help="Federated learning: advise (§4.1), run on Flower measured and with a signed ledger, "
    "compare with centralised training, verify a run's ledger.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="Print JSON.")


def register(app: typer.Typer) -> None:
    app.add_typer(fl_app, name="fl")


def _console():
    from rich.console import Console

    console = Console(stderr=False)
    if not console.is_terminal:
        console.width = max(console.width, 140)
    return console


@fl_app.command("advise")
def advise_cmd(
    model_params: str = typer.Option(..., "--model-params", help="Parameters, e.g. 2.4M."),
    clients: int = typer.Option(..., "--clients", help="Number of clients."),
    data_per_client: str = typer.Option(
        ..., "--data-per-client", help="Raw data per client, e.g. 3GB."
    ),
    rounds: int = typer.Option(..., "--rounds", help="Training rounds."),
    link: str = typer.Option("wired", "--link", help="wired, wifi, 4g, 5g or datacenter."),
    sensitive: bool = typer.Option(False, "--sensitive", help="Sensitive or regulated data."),
    heterogeneous: bool = typer.Option(
        False, "--heterogeneous", help="Clients differ in speed or availability."
    ),
    realtime: bool = typer.Option(False, "--realtime", help="Answers are needed in real time."),
    traceability: bool = typer.Option(
        False, "--traceability", help="Strict traceability or reproducibility is required."
    ),
    unstable_link: bool = typer.Option(False, "--unstable-link", help="Links drop or stall."),
    bytes_per_param: float = typer.Option(4.0, "--bytes-per-param", help="4 for float32."),
    compression: float = typer.Option(
        1.0, "--compression", help="Fraction of update bytes sent (8-bit: 0.25)."
    ),
    participation: float = typer.Option(
        1.0, "--participation", help="Fraction of clients per round."
    ),
    samples_per_client: str = typer.Option(
        None, "--samples-per-client", help="Training samples per client (for compute)."
    ),
    local_epochs: int = typer.Option(1, "--local-epochs", help="Local epochs per round."),
    j_per_sample: float = typer.Option(
        None, "--j-per-sample", help="Client joules per sample (measured or given)."
    ),
    central_j_per_sample: float = typer.Option(
        None, "--central-j-per-sample", help="Data-centre joules per sample (default: same)."
    ),
    json_output: bool = JSON,
) -> None:
    """The §4.1 verdict: every criterion with its reason, and an energy estimate with ranges."""
    from vatio.federated.advisor import AdviceInputs, advise
    from vatio.federated.sizes import parse_bytes, parse_count

    inputs = AdviceInputs(
        model_params=parse_count(model_params, what="--model-params"),
        clients=clients,
        data_per_client_bytes=parse_bytes(data_per_client, what="--data-per-client"),
        rounds=rounds,
        link=link,
        sensitive=sensitive,
        heterogeneous=heterogeneous,
        realtime=realtime,
        traceability=traceability,
        unstable_link=unstable_link,
        bytes_per_param=bytes_per_param,
        compression=compression,
        participation=participation,
        samples_per_client=parse_count(samples_per_client, what="--samples-per-client")
        if samples_per_client
        else None,
        local_epochs=local_epochs,
        client_j_per_sample=j_per_sample,
        central_j_per_sample=central_j_per_sample,
    )
    result = advise(inputs)
    if json_output:
        from vatio.cli.output import print_json

        print_json(result.to_dict())
        return
    from vatio.federated import render

    render.advice(_console(), result)


def _options(**kwargs) -> object:
    from vatio.federated.run import FlOptions

    zones = kwargs.pop("client_zones")
    kwargs["client_zones"] = [z.strip() for z in zones.split(",")] if zones else None
    root = kwargs.pop("out")
    if root is not None:
        kwargs["root"] = Path(root)
    from vatio.units import parse_duration

    kwargs["round_timeout_s"] = parse_duration(kwargs.pop("round_timeout"), what="--round-timeout")
    kwargs["store"] = not kwargs.pop("no_store")
    return FlOptions(**kwargs)


def _progress(quiet: bool):
    """A rich progress bar over rounds (on stderr), or nothing."""
    import sys

    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("federated rounds"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=Console(stderr=True),
        transient=True,
    )
    bar.start()
    task = bar.add_task("rounds", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


RUN_OPTIONS = {
    "example": typer.Option("health", "--example", help="Bundled example: health."),
    "clients": typer.Option(4, "--clients", help="Clients (separate processes)."),
    "rounds": typer.Option(5, "--rounds", help="Training rounds."),
    "non_iid": typer.Option(False, "--non-iid", help="Label-skewed client shards."),
    "model": typer.Option("logreg", "--model", help="logreg (31 params) or mlp (513 params)."),
    "quorum": typer.Option(None, "--quorum", help="Member cosignatures each round needs."),
    "auditor": typer.Option(False, "--auditor", help="Add an auditor member who cosigns."),
}


@fl_app.command("run")
def run_cmd(
    example: str = RUN_OPTIONS["example"],
    clients: int = RUN_OPTIONS["clients"],
    rounds: int = RUN_OPTIONS["rounds"],
    non_iid: bool = RUN_OPTIONS["non_iid"],
    model: str = RUN_OPTIONS["model"],
    quorum: int = RUN_OPTIONS["quorum"],
    auditor: bool = RUN_OPTIONS["auditor"],
    zone: str = typer.Option(None, "--zone", "-z", help="Grid zone of the server (carbon)."),
    client_zones: str = typer.Option(
        None, "--client-zones", help="One zone per client, e.g. ES,FR,DE,PL."
    ),
    within: str = typer.Option(None, "--within", help="Train in the greenest window within."),
    deadline: str = typer.Option(None, "--deadline", help="Latest end (local time or ISO)."),
    interruptible: bool = typer.Option(
        False, "--interruptible", help="Rounds wait for the cleanest slots."
    ),
    duration: str = typer.Option(None, "--duration", help="Expected length (default: estimated)."),
    crash_client: int = typer.Option(
        None, "--crash-client", help="Demo: this client's ClientApp dies mid-round."
    ),
    crash_round: int = typer.Option(None, "--crash-round", help="Round of --crash-client."),
    unlisted_client: int = typer.Option(
        None, "--unlisted-client", help="Demo: this client's key is not a member."
    ),
    tamper_client: int = typer.Option(
        None, "--tamper-client", help="Demo: this client's updates are altered after signing."
    ),
    round_timeout: str = typer.Option("60s", "--round-timeout", help="Wait this long per round."),
    executor: str = typer.Option(
        "warm", "--executor", help="warm (fork per task) or stock (flower-superexec)."
    ),
    out: Path = typer.Option(None, "--out", help="Runs folder (default .vatio/fl)."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not record the runs."),
    json_output: bool = JSON,
    plot: Path = typer.Option(None, "--plot", help="PNG of energy per client and per round."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run the bundled example on Flower (server and clients as processes on 127.0.0.1)."""
    opts = dict(locals())
    for key in ("json_output", "plot", "quiet"):
        opts.pop(key)
    if plot is not None:  # say so before the run, not after
        from vatio.plotting import check_plot_path

        check_plot_path(plot)
    options = _options(**opts)
    from vatio.federated.run import execute

    bar, update = _progress(quiet or json_output)
    try:
        summary = execute(options, on_round=update, on_plan=_say_plan)
    finally:
        if bar is not None:
            bar.stop()
    if plot is not None:
        from vatio.federated import render

        render.plot(summary, plot)
    if json_output:
        from vatio.cli.output import print_json

        print_json(summary)
    else:
        from vatio.federated import render

        render.run_summary(_console(), summary)
    if not summary["ledger"]["verified"]:
        raise typer.Exit(1)


def _say_plan(record: dict) -> None:
    import sys

    zones = ", ".join(
        f"{z} {v['window_mean_gco2e_per_kwh']:.0f} (now {v['now_gco2e_per_kwh']:.0f})"
        for z, v in record.get("per_zone", {}).items()
    )
    sys.stderr.write(
        f"vatio fl: greenest start {record.get('start')} ({record.get('mode')}), "
        f"{record.get('savings_pct', 0):.1f}% below now; gCO2e/kWh by zone: {zones}\n"
    )


@fl_app.command("compare")
def compare_cmd(
    example: str = RUN_OPTIONS["example"],
    clients: int = RUN_OPTIONS["clients"],
    rounds: int = RUN_OPTIONS["rounds"],
    non_iid: bool = RUN_OPTIONS["non_iid"],
    model: str = RUN_OPTIONS["model"],
    zone: str = typer.Option(None, "--zone", "-z", help="Grid zone (carbon)."),
    link: str = typer.Option("wired", "--link", help="Link for the communication estimate."),
    out: Path = typer.Option(None, "--out", help="Runs folder (default .vatio/fl)."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not record the runs."),
    json_output: bool = JSON,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Federated vs the same model trained centrally on the pooled data, same sample budget."""
    from vatio.federated.compare import run_compare
    from vatio.federated.run import FlOptions

    options = FlOptions(
        clients=clients,
        rounds=rounds,
        example=example,
        model=model,
        non_iid=non_iid,
        zone=zone,
        store=not no_store,
    )
    if out is not None:
        options.root = out
    bar, update = _progress(quiet or json_output)
    try:
        result = run_compare(options, link=link, on_round=update)
    finally:
        if bar is not None:
            bar.stop()
    if json_output:
        from vatio.cli.output import print_json

        print_json(result)
        return
    from vatio.federated import render

    render.comparison(_console(), result)


@fl_app.command("verify")
def verify_cmd(
    folder: Path = typer.Argument(..., help="A run folder (.vatio/fl/RUN_ID) or its ledger."),
    quorum: int = typer.Option(None, "--quorum", help="Override the run's quorum."),
    members: Path = typer.Option(
        None, "--members", help="Membership file obtained out of band, to check against."
    ),
    json_output: bool = JSON,
) -> None:
    """Check every byte, entry, signature and round quorum of a run's ledger (exit 1 if not)."""
    from vatio.errors import InputError
    from vatio.federated.ledger import verify_fl_log

    ledger = folder / "ledger" if (folder / "ledger").is_dir() else folder
    if not (ledger / "entries.jsonl").is_file():
        raise InputError(f"{folder} is not a federated run's ledger.", "Give .vatio/fl/RUN_ID.")
    if members is not None and not members.is_file():
        raise InputError(f"The membership file {members} does not exist.")
    report = verify_fl_log(ledger, quorum=quorum, members_file=members)
    if json_output:
        from vatio.cli.output import print_json

        print_json(report.to_dict())
    else:
        print(report.summary())
        for problem in report.problems[:20]:
            print(f"  {problem['kind']} at {problem['where']}: {problem['detail']}")
    if not report.ok:
        raise typer.Exit(1)
