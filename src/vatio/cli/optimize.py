"""`vatio optimize`: build model variants, measure them on this machine, recommend one.

Heavy libraries (torch, onnxruntime, numpy) are imported inside the functions
so that `vatio --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer


def register(app: typer.Typer) -> None:
    app.command("optimize")(optimize)


def optimize(
    model: str = typer.Option(None, "--model", help="Model builder, package.module:function."),
    weights: Path = typer.Option(None, "--weights", help="State dict for --model (torch.save)."),
    onnx_file: Path = typer.Option(None, "--onnx", help="An ONNX model as input instead."),
    eval_set: str = typer.Option(None, "--eval", help="Eval data, package.module:name -> (x, y)."),
    calib: str = typer.Option(None, "--calib", help="INT8 calibration inputs (no labels)."),
    train: str = typer.Option(None, "--train", help="Training data for fine-tuning, distillation."),
    metric: str = typer.Option(None, "--metric", help="metric(y_true, outputs), higher is better."),
    example: str = typer.Option(None, "--example", help="A bundled example: digits."),
    max_drop: float = typer.Option(
        0.5, "--max-accuracy-drop", help="Accuracy budget in percentage points."
    ),
    batch_sizes: str = typer.Option("1,32,256", "--batch-sizes", help="Comma-separated sizes."),
    output: Path = typer.Option(None, "--output", "-o", help="Write artefacts + provenance here."),
    variants: str = typer.Option(None, "--variants", help="Subset, e.g. ort-int8-static,threads."),
    repeats: int = typer.Option(5, "--repeats", help="Repetitions per measurement (median)."),
    phase_s: float = typer.Option(0.25, "--phase-seconds", help="Length of one measured phase."),
    plot_file: Path = typer.Option(None, "--plot", help="Save an accuracy-vs-energy plot (PNG)."),
    json_output: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    zone: str = typer.Option(None, "--zone", "-z", help="Grid zone for carbon, e.g. ES."),
    store: str = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not record the study run."),
) -> None:
    """Optimise a model for deployment and prove the trade-off, measured on this machine."""
    from vatio.optimize.artefacts import check_output_dir
    from vatio.optimize.inputs import load_inputs
    from vatio.optimize.registry import parse_selection
    from vatio.optimize.study import StudyConfig

    config = StudyConfig(
        batch_sizes=_parse_sizes(batch_sizes),
        repeats=_positive(repeats, "--repeats"),
        phase_s=_positive(phase_s, "--phase-seconds"),
        max_drop_pts=_non_negative(max_drop, "--max-accuracy-drop"),
    )
    config.chosen, config.sweep_threads = parse_selection(variants)
    loaded = load_inputs(model, weights, onnx_file, eval_set, calib, train, metric, example)
    if output is not None:
        check_output_dir(output)
    if plot_file is not None:  # before the study, not after it
        from vatio.plotting import check_plot_path

        check_plot_path(plot_file, store if isinstance(store, str) else None)
    run_and_report(
        loaded,
        config,
        zone=zone,
        store=False if no_store else store,
        output=output,
        plot_file=plot_file,
        json_output=json_output,
    )


def run_and_report(
    loaded: dict[str, Any],
    config: Any,
    *,
    zone: str | None,
    store: str | bool | None,
    output: Path | None,
    plot_file: Path | None,
    json_output: bool,
    console: Any = None,
    command: list[str] | None = None,
) -> Any:
    import tempfile

    from rich.console import Console

    from vatio.measure.tracker import Tracker as MeasureTracker
    from vatio.optimize.artefacts import copy_artefacts, write_provenance
    from vatio.optimize.harness import accuracy
    from vatio.optimize.render import plot, progress_bar, render
    from vatio.optimize.study import run_study, validate
    from vatio.optimize.variant import Context
    from vatio.record import RecordingTracker

    console = console or Console(stderr=True)
    metric_fn = loaded["metric"] or accuracy
    with tempfile.TemporaryDirectory(prefix="vatio-optimize-") as workdir:
        ctx = Context(
            workdir=Path(workdir),
            eval=loaded["eval"],
            torch_model=loaded["torch_model"],
            onnx_path=loaded["onnx_path"],
            calib=loaded["calib"],
            train=loaded["train"],
        )
        validate(ctx, metric_fn)
        parent = RecordingTracker(
            "optimize",
            zone=zone,
            store=store,
            kind="optimize",
            command=command or ["vatio", *sys.argv[1:]],
        )
        options = {
            "cpu_tdp_w": parent.profile.cpu_tdp_w,
            "memory_w_per_gb": parent.profile.memory_w_per_gb,
        }

        def new_tracker() -> MeasureTracker:
            return MeasureTracker(
                "optimize-measure", interval_s=parent.profile.interval, discovery_options=options
            )

        with parent, progress_bar(console) as progress:
            study = run_study(
                ctx,
                config,
                metric=metric_fn,
                metric_name=loaded["metric_name"],
                new_tracker=new_tracker,
                phase=parent.phase,
                progress=progress,
            )
            copied = copy_artefacts(study, output) if output is not None else []
            _record_artefacts(parent, copied)
            parent.set_extension("optimize", study.to_dict())
        result = parent.result
        assert result is not None
        written = write_provenance(
            study, copied, run_id=result.id, manifest=result.manifest, source=loaded["source"]
        )
        if plot_file is not None:
            plot(study, plot_file)
    data = _json(study, result, loaded["source"], written, output, plot_file)
    if output is not None:
        import json

        (output / "study.json").write_text(json.dumps(data, indent=2, default=str), "utf-8")
    if json_output:
        from vatio.cli.output import print_json

        print_json(data)
    else:
        render(study, console, written)
        _carbon_line(data, study, console)
        stored = "not stored" if store is False else f"recorded as run {result.id}"
        console.print(f"Study {stored}; optimising took {result.duration_s:.0f} s.")
    return study


def _record_artefacts(parent: Any, copied: list) -> None:
    """Register each artefact's SHA-256 with the study run, so `vatio provenance FILE` finds it."""
    for row, path in copied:
        parent.add_artifact(path, role=f"optimize:{row.name}")


def _carbon_line(data: dict, study: Any, console: Any) -> None:
    """gCO2e per 1,000 inferences of the baseline and the recommendation, when a zone is set."""
    rows = {row["name"]: row for row in data["variants"]}
    base = rows[study.baseline].get("co2e_per_1k_g")
    best = rows[study.recommendation.name].get("co2e_per_1k_g")
    if base is None or best is None:
        return
    zone = data.get("zone") or "the profile's zone"
    console.print(
        f"Carbon at {zone} grid intensity: {study.recommendation.name} {best * 1000:.3g} vs "
        f"{study.baseline} {base * 1000:.3g} gCO2e per million inferences at batch {study.batch}.",
        highlight=False,
    )


def _json(study: Any, result: Any, source: dict, written: list, output: Any, plot: Any) -> dict:
    data = study.to_dict()
    per_j = None
    if result.co2e_g is not None and result.energy_j:
        per_j = result.co2e_g / result.energy_j
        for row in data["variants"]:
            stats = row["batches"].get(str(study.batch)) or {}
            energy = stats.get("energy_per_1k_j")
            row["co2e_per_1k_g"] = None if energy is None else energy * per_j
    data.update(
        run_id=result.id,
        zone=(result.profile or {}).get("zone"),
        study_energy_j=result.energy_j,
        study_energy_method=result.method,
        study_duration_s=result.duration_s,
        source=source,
        artefacts=[str(p) for p in written],
        output=None if output is None else str(output),
        plot=None if plot is None else str(plot),
    )
    return data


def _parse_sizes(text: str) -> list[int]:
    from vatio.errors import InputError

    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        sizes = []
    if not sizes or sizes[0] < 1:
        raise InputError(
            f"--batch-sizes {text!r} is not a list of positive integers.", "e.g. 1,32,256"
        )
    return sizes


def _positive(value: float, flag: str) -> Any:
    from vatio.errors import InputError

    if value <= 0:
        raise InputError(f"{flag} must be positive, not {value:g}.")
    return value


def _non_negative(value: float, flag: str) -> float:
    from vatio.errors import InputError

    if value < 0:
        raise InputError(f"{flag} must be zero or more, not {value:g}.")
    return value


#: the demo's quick pass: one batch size, three repeats, four variants (plus the thread sweep)
DEMO: dict[str, Any] = {
    "batch_sizes": [256],
    "repeats": 3,
    "phase_s": 0.2,
    "chosen": {"fp32-eager", "ort-fp32", "ort-int8-static", "distilled"},
}


def demo_step(console: Any, zone: str, *, store: str | bool | None = False) -> None:
    """A quick optimisation pass on the digits example for `vatio demo` (about 20-30 s)."""
    from vatio.optimize.inputs import load_inputs
    from vatio.optimize.study import StudyConfig

    loaded = load_inputs(None, None, None, None, None, None, None, "digits")
    config = StudyConfig(**DEMO)
    console.print("[bold]vatio demo[/]: optimising the digits MLP for deployment (vatio optimize)")
    run_and_report(
        loaded,
        config,
        zone=zone,
        store=store,
        output=None,
        plot_file=None,
        json_output=False,
        console=console,
        command=["vatio", "demo"],
    )
