"""`vatio scale`: does adding workers, threads or batch size pay, in time and in energy?

Only typer is imported here at module level; the study, torch and rich load
inside the command so that `vatio --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from vatio.cli.options import ProfileOptions
from vatio.errors import VatioError


def register(app: typer.Typer) -> None:
    app.command(
        "scale",
        context_settings={"allow_interspersed_args": False},
        help="Benchmark data-parallel workers, threads or batch sizes and say which pays: "
        "vatio scale --workers 1,2 --script train_ddp.py -- ARGS",
    )(scale)


def scale(
    args: list[str] = typer.Argument(None, help="Arguments for the script, after --."),
    workers: str = typer.Option(None, "--workers", help="DDP workers per node, e.g. 1,2,4."),
    threads: str = typer.Option(None, "--threads", help="Intra-op threads, e.g. 1,2 (per worker)."),
    batch_sizes: str = typer.Option(
        None, "--batch-sizes", help="Inference batch sizes, e.g. 1,8,64."
    ),
    script: Path = typer.Option(None, "--script", help="Training script (calls vatio.scale.step)."),
    example: str = typer.Option(None, "--example", help="Bundled example: digits (no download)."),
    model: str = typer.Option(
        None, "--model", help="Batch sweep: module:function returning the model."
    ),
    eval_set: str = typer.Option(None, "--eval", help="Batch sweep: module:name of the inputs."),
    scaling: str = typer.Option("strong", "--scaling", help="strong (fixed total work) or weak."),
    max_slowdown: float = typer.Option(
        None, "--max-slowdown", help="Limit: at most this × slower than the fastest."
    ),
    deadline: str = typer.Option(
        None, "--deadline", help="Limit: a duration (2h) or a local time."
    ),
    job_samples: float = typer.Option(
        None, "--job-samples", help="With --deadline: samples of the real job."
    ),
    max_latency: str = typer.Option(
        None, "--max-latency", help="Batch sweep limit: p95 latency, e.g. 50ms."
    ),
    no_sync_check: bool = typer.Option(
        False,
        "--no-sync-check",
        help="Also run each multi-worker configuration with gradient sync off.",
    ),
    nnodes: int = typer.Option(1, "--nnodes", help="Nodes (torchrun); run vatio scale on each."),
    node_rank: int = typer.Option(0, "--node-rank", help="This node's rank (torchrun)."),
    rdzv_endpoint: str = typer.Option(
        None, "--rdzv-endpoint", help="Rendezvous host:port (torchrun)."
    ),
    rdzv_backend: str = typer.Option(None, "--rdzv-backend", help="Rendezvous backend (torchrun)."),
    rdzv_id: str = typer.Option(
        None, "--rdzv-id", help="Rendezvous id (torchrun); also the study id."
    ),
    study: str = typer.Option(
        None, "--study", help="Study id shared by all nodes (default: --rdzv-id)."
    ),
    merge_timeout: str = typer.Option(
        "120s", "--merge-timeout", help="Node 0 waits this long for other nodes."
    ),
    backend: str = typer.Option(None, "--backend", help="gloo or nccl (default: nccl with GPUs)."),
    timeout: str = typer.Option(None, "--timeout", help="Stop a configuration after this long."),
    min_time: str = typer.Option("2s", "--min-time", help="Batch sweep: time per batch size."),
    zone: str = ProfileOptions.zone,
    name: str = ProfileOptions.name,
    store: str = ProfileOptions.store,
    interval: str = ProfileOptions.interval,
    pue: float = ProfileOptions.pue,
    no_store: bool = typer.Option(False, "--no-store", help="Do not record the runs."),
    json_output: bool = typer.Option(False, "--json", help="Print the study as JSON."),
    plot: Path = typer.Option(
        None, "--plot", help="Write a PNG of speed-up and energy per sample."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run each configuration, measure it, and advise which one to use."""
    opts = dict(locals())
    study_data = execute(opts)
    raise typer.Exit(exit_code(study_data))


def exit_code(study: dict[str, Any]) -> int:
    statuses = [r["status"] for r in study["configs"]]
    if statuses and statuses[-1] == "interrupted":
        return 130
    return 0 if "completed" in statuses else 1


def execute(opts: dict[str, Any], console: Any = None) -> dict[str, Any]:
    """Run the study the flags describe and show it; returns the study."""
    from rich.console import Console

    from vatio.config import load_profile
    from vatio.scale.options import build_spec
    from vatio.scale.study import run_study

    console = console or Console(stderr=True)
    if not console.is_terminal:  # logs and pipes: wide enough that the tables do not wrap
        console.width = max(console.width, 120)
    spec = build_spec(opts)
    if opts["plot"]:  # say so before the study, not after
        from vatio.plotting import check_plot_path

        check_plot_path(opts["plot"], opts.get("store"))
    overrides = {
        "zone": opts["zone"],
        "name": opts["name"],
        "store": opts["store"],
        "interval": opts["interval"],
        "pue": opts["pue"],
    }
    profile, sources = load_profile(overrides=overrides)
    if "interval" not in sources:
        profile.interval = 0.2
        sources["interval"] = "vatio scale default (short runs need fine sampling)"
    for warning in spec.warnings:
        console.print(f"[yellow]warning[/]: {warning}")
    with _progress(console, len(spec.configs), opts["quiet"]) as on_event:
        study = run_study(spec, profile, sources, on_event)
    if opts["plot"]:
        from vatio.scale.render import plot_study

        plot_study(study, opts["plot"])
        study["plot"] = str(opts["plot"])
    if opts["json_output"]:
        from vatio.cli.output import print_json

        print_json(study)
    else:
        from vatio.scale.render import render_study

        render_study(study, console)
        if opts["plot"]:
            console.print(f"Plot written to {opts['plot']}.")
    return study


class _progress:
    """A progress bar on stderr (a line per configuration when not a terminal)."""

    def __init__(self, console: Any, total: int, quiet: bool) -> None:
        self.console, self.total, self.quiet = console, total, quiet
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not self.quiet and self.console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("scaling study", total=self.total)
        return self.event

    def event(self, what: str, index: int, config: Any, row: dict[str, Any] | None) -> None:
        if self.quiet:
            return
        if what == "start" and self.bar is not None:
            self.bar.update(self.task, description=f"running {config.label}")
        if what == "done" and row is not None:
            if self.bar is not None:
                self.bar.advance(self.task)
            self.console.print(f"[{index + 1}/{self.total}] {config.label}: {_one_line(row)}")

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()


def _one_line(row: dict[str, Any]) -> str:
    from vatio.scale.analysis import energy_text

    if row.get("status") != "completed":
        return f"{row.get('status')} ({row.get('error')})"
    if row.get("throughput"):
        return f"{row['throughput']:,.0f} samples/s, {energy_text(row)}"
    return f"done in {row.get('run_duration_s') or 0:.1f}s"


def demo_step(console: Any, zone: str, store: str | None = None) -> None:
    """`vatio demo`'s scale step: 1 then 2 DDP workers on the digits example (about 30 s)."""
    from vatio.scale.options import default_options

    opts = default_options(
        example="digits",
        workers="1,2",
        args=["--epochs", "10"],
        zone=zone,
        store=store,
        name="demo-scale",
    )
    console.print("[bold]vatio demo[/]: does a second DDP worker pay? (digits MLP, 1 → 2 workers)")
    try:
        execute(opts, console)
    except VatioError as error:
        console.print(f"scale step skipped: {error}")
