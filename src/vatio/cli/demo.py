"""`vatio demo`: train the bundled digits MLP under the tracker and show the summary."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    zone: str = typer.Option(None, "--zone", "-z", help="Grid zone (default: profile, else ES)."),
    epochs: int = typer.Option(20, "--epochs", min=1, max=1000, help="Training epochs (1-1000)."),
    store: str = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path."),
    json_output: bool = typer.Option(False, "--json", help="Print the run record as JSON."),
    quick: bool = typer.Option(False, "--quick", help="Only the training step."),
) -> None:
    """Train a small PyTorch MLP on scikit-learn's digits (no download) under the tracker."""
    from rich.console import Console

    from vatio.cli.summary import render_summary
    from vatio.config import load_profile
    from vatio.examples.digits import require_ml, train

    console = Console(stderr=True)
    profile, sources = load_profile(overrides={"zone": zone, "store": store, "name": "demo-digits"})
    if profile.zone is None:
        profile.zone = "ES"
        sources["zone"] = "demo default (set --zone, VATIO_ZONE or the profile)"
    if "interval" not in sources:
        profile.interval = 0.25
        sources["interval"] = "demo default"
    from vatio.record import RecordingTracker

    # the tracker checks the zone and the store before torch is loaded (seconds)
    tracker = RecordingTracker(profile=profile, profile_sources=sources, command=["vatio", "demo"])
    require_ml()
    console.print(f"[bold]vatio demo[/]: training an MLP on digits, zone {profile.zone}")
    with tracker:
        _, acc, samples = train(
            epochs=epochs,
            phase=tracker.phase,
            on_epoch=lambda e, a: (
                console.print(f"  epoch {e:>2}/{epochs}  test accuracy {a:.3f}")
                if e % 5 == 0 or e == epochs
                else None
            ),
        )
        tracker.add_work(samples=samples)
    assert tracker.result is not None
    record = tracker.result.to_dict()
    if json_output:
        from vatio.cli.output import print_json

        print_json(record | {"accuracy": acc})
        return
    record["phases"] = []  # twenty epochs are too many lines; `vatio runs show` has them
    render_summary(record, console)
    console.print(
        f"test accuracy {acc:.3f} · recorded as run {tracker.result.id} "
        f"(`vatio runs show {tracker.result.id}`)"
    )
    if not quick:
        _later_steps(console, profile.zone, profile.store)


def _later_steps(console, zone: str, store: str | None) -> None:
    """Optimise the model, then ask whether a second worker pays; a failing step is skipped."""
    from vatio.errors import VatioError

    steps = (("optimize", "vatio.cli.optimize"), ("scale", "vatio.cli.scale"))
    for label, module_name in steps:
        import importlib

        console.print()
        try:
            importlib.import_module(module_name).demo_step(console, zone, store=store)
        except VatioError as error:
            console.print(f"{label} step skipped: {error}")
