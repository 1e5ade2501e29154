"""`vatio rightsize`: under-used hardware in recorded runs, and cloud versus on-premise."""

from __future__ import annotations

from typing import Any

import typer

from vatio.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("rightsize")(rightsize)


def rightsize(
    run_ids: list[str] = typer.Argument(None, help="Runs to judge (default: the recent jobs)."),
    last: int = typer.Option(20, "--last", help="Without run ids: how many recent runs."),
    hosting: bool = typer.Option(False, "--hosting", help="Compare cloud and on-premise."),
    zone: str = typer.Option(None, "--zone", "-z", help="Your (on-premise) grid zone, e.g. ES."),
    pue: float = typer.Option(None, "--pue", help="Your data centre's PUE (>= 1)."),
    cloud: str = typer.Option(
        None,
        "--cloud",
        help="Cloud regions: gcp:europe-west1,azure:France Central; add =ZONE@PUE if unlisted.",
    ),
    hours_per_day: float = typer.Option(
        None, "--hours-per-day", help="Hours a day your machine is busy (default: from runs)."
    ),
    idle_w: float = typer.Option(
        None, "--idle-w", help="Your machine's idle power between jobs, W (if not measured)."
    ),
    lifetime_years: float = typer.Option(None, "--lifetime-years", help="Hardware life (4)."),
    embodied_kg: float = typer.Option(
        None, "--embodied-kg", help="Embodied kgCO2e of the machine (default: CCF model)."
    ),
    threshold: float = typer.Option(
        None, "--threshold", help="Utilisation below which a device is under-used (0.3)."
    ),
    store: str = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Flag under-used GPUs, cores and RAM with the evidence, and what to use instead.

    vatio rightsize [RUN_ID ...]
    vatio rightsize --hosting --zone ES --pue 1.2 --cloud gcp:europe-west1
    """
    from vatio.config import load_profile
    from vatio.report.load import open_run_store
    from vatio.rightsize.advise import DEFAULT_THRESHOLD, advise, summary
    from vatio.rightsize.runs import load_fits

    if pue is not None and not 1.0 <= pue <= 5.0:
        raise InputError(f"--pue {pue:g} is not a PUE.", "A PUE is between 1.0 and about 3.")
    if last < 1:
        raise InputError("--last must be at least 1.")
    profile, sources = load_profile(overrides={"store": store})
    limit = threshold if threshold is not None else profile.check.utilisation_threshold
    if not 0 < limit <= 1:
        raise InputError("--threshold must be in (0, 1], e.g. 0.3.")
    run_store = open_run_store(profile.store)
    fits, notes = load_fits(run_store, list(run_ids or []), last)
    findings = advise(fits, limit or DEFAULT_THRESHOLD)
    result: dict[str, Any] = {
        "store": run_store.url,
        "threshold": limit,
        "runs": [f.to_dict() for f in fits],
        "findings": [f.to_dict() for f in findings],
        "summary": summary(fits, findings),
        "notes": notes,
        "missing": sorted({m for f in fits for m in f.missing}),
    }
    if hosting:
        if hours_per_day is not None and not 0 < hours_per_day <= 24:
            raise InputError("--hours-per-day must be in (0, 24].")
        options = {
            "zone": zone, "pue": pue, "cloud": cloud, "idle_w": idle_w,
            "lifetime_years": lifetime_years, "embodied_kg": embodied_kg,
            "hours_per_day": hours_per_day,
        }  # fmt: skip
        result["hosting"] = _hosting(fits, profile, sources, options)
    if json_output:
        from vatio.cli.output import print_json

        print_json(result)
        return
    from rich.console import Console

    from vatio.rightsize.render import render_fit, render_hosting

    console = Console()
    render_fit(result, console)
    if hosting:
        render_hosting(result["hosting"], console)


def _hosting(
    fits: list, profile: Any, sources: dict[str, str], options: dict[str, Any]
) -> dict[str, Any]:
    from vatio.carbon.embodied import LIFETIME_YEARS
    from vatio.rightsize.hosting import HostingInputs, Value, compare
    from vatio.rightsize.regions import default_clouds, parse_cloud

    zone, pue, cloud = options["zone"], options["pue"], options["cloud"]
    idle_w, lifetime_years = options["idle_w"], options["lifetime_years"]
    embodied_kg, hours = options["embodied_kg"], options["hours_per_day"]

    zone_value = (
        Value(zone.upper(), "--zone")
        if zone
        else Value(profile.zone, f"profile ({sources.get('zone', '?')})")
        if profile.zone
        else None
    )
    if pue is not None:
        pue_value: Value | None = Value(pue, "--pue")
    elif "pue" in sources:
        pue_value = Value(profile.pue, f"profile ({sources['pue']})")
    else:
        pue_value = None  # the profile's 1.0 is a default for local machines, not a measurement
    clouds = (
        parse_cloud(cloud) if cloud else default_clouds(zone_value.value if zone_value else None)
    )
    report = profile.report
    if lifetime_years is not None:
        life = Value(lifetime_years, "--lifetime-years")
    elif "report" in sources and report.lifetime_years != LIFETIME_YEARS:
        life = Value(report.lifetime_years, f"profile [tool.vatio.report] ({sources['report']})")
    else:
        life = Value(LIFETIME_YEARS, "Cloud Carbon Footprint default")
    if embodied_kg is not None:
        embodied = Value(embodied_kg, "--embodied-kg")
    elif report.embodied_kgco2e is not None:
        embodied = Value(report.embodied_kgco2e, "profile [tool.vatio.report] embodied_kgco2e")
    else:
        embodied = None
    idle = Value(idle_w, "--idle-w") if idle_w is not None else _measured_idle(fits)
    inputs = HostingInputs(
        zone_value,
        pue_value,
        clouds,
        life,
        embodied,
        idle,
        profile.intensity,
        Value(hours, "--hours-per-day") if hours is not None else None,
    )
    result = compare(fits, inputs)
    result["cloud_source"] = "--cloud" if cloud else "automatic: same country, then cleanest"
    if idle is None:
        result["reasoning"].append(
            "your machine's idle power between jobs is not counted: no run measured it "
            "(RAPL or NVML); give --idle-w to include it"
        )
    return result


def _measured_idle(fits: list) -> Any:
    from vatio.rightsize.hosting import Value

    watts = []
    for fit in fits:
        measured = 0.0
        if fit.cpu_method == "measured:rapl" and fit.cpu_idle_power_w is not None:
            measured += fit.cpu_idle_power_w
        measured += sum(g.idle_power_w or 0.0 for g in fit.gpus if g.method.startswith("measured"))
        if measured:
            watts.append(measured)
    if not watts:
        return None
    watts.sort()
    return Value(watts[len(watts) // 2], "median over runs of the 10th-percentile measured power")
