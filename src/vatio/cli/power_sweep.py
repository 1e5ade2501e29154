"""`vatio power sweep`: run (a bounded part of) a job at each setting and choose one.

A command of `vatio power` (`vatio.cli.power`), in its own module for its many options.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from vatio.cli.options import ProfileOptions
from vatio.cli.power import JSON, power_app, restore_first, stderr_console
from vatio.errors import InputError


def _check_output(path: Path | None, what: str) -> None:
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"Cannot write {what} {path}: the folder {folder} does not exist.")
    if path.exists() and path.is_dir():
        raise InputError(f"Cannot write {what} {path}: it is a folder.")
    if what == "the profile" and path.suffix not in (".json", ".toml"):
        raise InputError(f"--output {path}: use a .json or .toml name.")


def _fraction(text: str | None, what: str) -> float | None:
    if text is None or text.strip().lower() == "none":
        return None
    from vatio.units import parse_fraction

    value = parse_fraction(text)
    if value < 0:
        raise InputError(f"{what} must not be negative.")
    return value


@power_app.command("sweep", context_settings={"allow_interspersed_args": False})
def sweep(
    command: list[str] = typer.Argument(None, help="The job to run, after --."),
    gpu_power_limits: str = typer.Option(
        None, "--gpu-power-limits", help="GPU power limits in W, e.g. 150,200,250 (or auto)."
    ),
    gpu_clocks: str = typer.Option(None, "--gpu-clocks", help="Max graphics clocks, MHz."),
    gpu_memory_clocks: str = typer.Option(
        None, "--gpu-memory-clocks", help="Max memory clocks, MHz (Ampere+)."
    ),
    gpus: str = typer.Option(None, "--gpus", help="GPU indices the GPU knobs act on (all)."),
    cpu_max_freqs: str = typer.Option(
        None, "--cpu-max-freqs", help="CPU max frequencies, e.g. 1.6GHz,2.4GHz."
    ),
    governors: str = typer.Option(None, "--governors", help="cpufreq governors."),
    epps: str = typer.Option(None, "--epps", help="Energy-performance preferences."),
    max_perf_pcts: str = typer.Option(
        None, "--max-perf-pcts", help="intel_pstate max_perf_pct values."
    ),
    threads: str = typer.Option(None, "--threads", help="Job threads, e.g. 1,2,4 (or auto)."),
    cores: str = typer.Option(None, "--cores", help="Job CPUs (affinity), e.g. 1,2 (or auto)."),
    steps: int = typer.Option(
        None, "--steps", help="Profile N steps per setting in one run (job calls vatio.power.step)."
    ),
    warmup_steps: int = typer.Option(2, "--warmup-steps", help="With --steps: steps not measured."),
    repeat: int = typer.Option(
        1, "--repeat", help="Measure each setting this many times (median)."
    ),
    max_slowdown: str = typer.Option(
        "10%", "--max-slowdown", help="Allowed slowdown vs the default, e.g. 10% (or none)."
    ),
    eta: float = typer.Option(
        None, "--eta", help="Minimise Zeus's cost η·E+(1−η)·MAXPOWER·T instead (0..1)."
    ),
    max_power: float = typer.Option(None, "--max-power", help="MAXPOWER for --eta, in W."),
    devices: str = typer.Option("all", "--devices", help="Energy of: all, gpu or cpu devices."),
    attribution: str = typer.Option(
        "machine", "--attribution", help="machine energy, or the job's process share."
    ),
    timeout: str = typer.Option(None, "--timeout", help="Stop a run after this long, e.g. 30m."),
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        help="Write the chosen setting (.json or .toml, [tool.vatio.power]).",
    ),
    plot: Path = typer.Option(None, "--plot", help="Write a PNG of energy against time."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check and print the plan; change nothing."
    ),
    default_only: bool = typer.Option(
        False, "--default-only", help="Measure only the machine as it is (no knob changes)."
    ),
    json_output: bool = JSON,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the result."),
    zone: str = ProfileOptions.zone,
    name: str = ProfileOptions.name,
    store: str = ProfileOptions.store,
    no_store: bool = typer.Option(False, "--no-store", help="Do not record the runs."),
    interval: str = ProfileOptions.interval,
    pue: float = ProfileOptions.pue,
) -> None:
    """Run the job (or N steps of it) at each setting; Pareto front and the choice.

    vatio power sweep --max-slowdown 10% -- python train.py
    vatio power sweep --gpu-power-limits 150,200,250,300 --steps 50 -- python train.py
    """
    if not command:
        raise InputError(
            "No job to sweep.", "Put it after --: vatio power sweep -- python train.py"
        )
    from vatio.power.measure import SCOPES
    from vatio.power.options import KnobFlags, choose_settings
    from vatio.power.plan import check_repeat_and_steps
    from vatio.units import parse_duration

    check_repeat_and_steps(repeat, steps, warmup_steps)
    if devices not in SCOPES:
        raise InputError(f"--devices {devices!r}: use all, gpu or cpu.")
    if attribution not in ("machine", "process"):
        raise InputError(f"--attribution {attribution!r}: use machine or process.")
    if eta is not None and not 0 <= eta <= 1:
        raise InputError("--eta must be between 0 and 1.", "0 weighs only time, 1 only energy.")
    bound = _fraction(max_slowdown, "--max-slowdown")
    if eta is not None and max_slowdown == "10%":
        bound = None  # the default bound gives way to the cost unless asked for
    _check_output(output, "the profile")
    _check_output(plot, "the plot")
    if plot is not None:
        import importlib.util

        if importlib.util.find_spec("matplotlib") is None:
            raise InputError(
                "--plot needs matplotlib.", "Install it with: pip install 'vatio[plot]'"
            )
    timeout_s = parse_duration(timeout, what="timeout") if timeout else None
    restore_first()
    from vatio.power.discovery import discover_knobs
    from vatio.power.plan import make_plan
    from vatio.power.sweep import SweepOptions

    flags = KnobFlags(
        gpu_power_limits, gpu_clocks, gpu_memory_clocks, cpu_max_freqs, governors, epps,
        max_perf_pcts, threads, cores, gpus,
    )  # fmt: skip
    console = stderr_console()
    if default_only and flags.any_knob():
        raise InputError("--default-only changes no knob: drop the knob flags, or it.")
    with discover_knobs() as knobset:
        if default_only:
            from vatio.power.options import Chosen
            from vatio.power.settings import Setting

            chosen = Chosen(
                [Setting()], None, ["--default-only: the machine as it is, nothing changed"]
            )
        else:
            chosen = choose_settings(flags, knobset)
        plan = make_plan(chosen.settings, knobset, chosen.gpus)
        plan.notes += chosen.notes
        from vatio.power.identity import job_identity, root_note

        identity, identity_env = job_identity()
        if plan.machine_knobs() and (note := root_note(identity)):
            plan.notes.append(note)
        options = SweepOptions(
            command=list(command),
            steps=steps,
            warmup_steps=warmup_steps,
            repeat=repeat,
            max_slowdown=bound,
            eta=eta,
            max_power_w=max_power,
            scope=devices,
            attribution=attribution,
            timeout_s=timeout_s,
            store=False if no_store else None,
            name=name,
            job_output_to_stderr=json_output,
            identity=identity,
            identity_env=identity_env,
        )
        if dry_run:
            _print_plan(plan, options, json_output, console)
            return
        result = _run(
            plan, options, zone, name, store, interval, pue, console, quiet or json_output
        )
    section = result.section
    if output is not None and section["choice"]["profile"] is not None:
        _write_profile(output, section)
        section["output"] = str(output)
    if plot is not None:
        from vatio.power.render import plot_sweep

        plot_sweep(section, plot)
        section["plot"] = str(plot)
    if json_output:
        from vatio.cli.output import print_json

        print_json(section)
    else:
        from vatio.power.render import render_sweep

        render_sweep(section, stderr_console())
        if output is not None:
            stderr_console().print(f"Chosen setting written to {output} ([tool.vatio.power]).")
    if result.signal is not None:
        raise typer.Exit(128 + result.signal)
    if section["status"] != "completed":
        raise typer.Exit(1)


def _run(plan, options, zone, name, store, interval, pue, console, quiet) -> Any:
    from vatio.config import load_profile
    from vatio.power.sweep import run_sweep

    overrides = {"zone": zone, "name": name, "store": store, "interval": interval, "pue": pue}
    profile, sources = load_profile(overrides=overrides)
    for note in plan.notes:
        if not quiet:
            console.print(f"[dim]{note}[/]")

    bar = None
    if not quiet and console.is_terminal:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        task = bar.add_task("power sweep", total=len(plan.settings) * options.repeat)

    def on_event(what: str, data: dict[str, Any]) -> None:
        if quiet:
            return
        if what == "window" and bar is not None:
            bar.update(task, description=f"{data['label']} #{data['repeat'] + 1}")
        if what in ("measured", "failed") and bar is not None:
            bar.advance(task)
        if what == "measured":
            console.print(
                f"{data['label']} #{data['repeat'] + 1}: {data['energy_j']:.3g} J in "
                f"{data['time_s']:.3g} s"
            )
        elif what == "failed":
            console.print(f"[red]{data['label']} #{data['repeat'] + 1}: {data['error']}[/]")

    if bar is None:
        return run_sweep(plan, options, profile, sources, on_event=on_event)
    with bar:
        return run_sweep(plan, options, profile, sources, on_event=on_event)


def _print_plan(plan, options, json_output: bool, console: Any) -> None:
    rows = [
        {"label": s.label, "setting": s.as_dict(), "changes": plan.changes(s)}
        for s in plan.settings
    ]
    mode = (
        f"{options.steps} steps per setting in one run" if options.steps else "one run per setting"
    )
    if json_output:
        from vatio.cli.output import print_json

        print_json(
            {
                "dry_run": True,
                "mode": mode,
                "repeat": options.repeat,
                "settings": rows,
                "notes": plan.notes,
            }
        )
        return
    console.print(f"Dry run: {len(rows)} settings × {options.repeat}, {mode}; nothing changed.")
    for row in rows:
        changes = "; ".join(row["changes"]) or "nothing (as the machine is now)"
        console.print(f"  {row['label']}: {changes}")
    for note in plan.notes:
        console.print(f"[dim]note: {note}[/]")


def _write_profile(path: Path, section: dict[str, Any]) -> None:
    from vatio.power.settings import profile_toml

    table = section["choice"]["profile"]
    summary = {
        "chosen": section["choice"]["label"],
        "rule": section["choice"]["reason"],
        "saving": section["choice"]["saving"],
        "slowdown": section["choice"]["slowdown"],
        "run_id": (section.get("record") or {}).get("run_id"),
    }
    try:
        if path.suffix == ".toml":
            header = f"# vatio power sweep: {summary['chosen']} ({summary['rule']})\n"
            path.write_text(header + profile_toml(table), encoding="utf-8")
        else:
            data = {"tool": {"vatio": {"power": table}}, "sweep": summary}
            path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    except OSError as error:
        raise InputError(f"Cannot write {path}: {error.strerror}.") from None
