"""Cloud or on-premise, from the run history (the guide's §3.1).

Per unit of work (a sample when every run counted samples, else an hour of
compute) each site gets: IT energy (the runs' recorded energy, the same
hardware assumed everywhere) × PUE × grid intensity over the hours the runs
ran (hourly data where vatio has it, else the yearly average), plus embodied
carbon. Embodied carbon (Cloud Carbon Footprint coefficients) is charged per
hour used in the cloud, where other tenants use the idle hours (CCF's
assumption), and per *useful* hour on-premise: a machine busy h hours a day
carries its whole life's embodied carbon on those hours. An own machine idle
between jobs also draws power; that counts only when its idle power was
measured or given. Every input is shown with its source; a missing one is
asked for, never filled in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from vatio.carbon.embodied import YEAR_S, machine_kg
from vatio.errors import InputError
from vatio.rightsize.evidence import RunFit
from vatio.rightsize.loadpattern import LoadPattern, load_pattern, run_span
from vatio.rightsize.regions import Region, provider_pue

DAY_S = 86400.0


@dataclass
class Value:
    value: Any
    source: str


@dataclass
class Site:
    label: str
    kind: str  # "on-premise" or "cloud"
    zone: Value | None
    pue: Value | None
    intensity_g_per_kwh: float | None = None
    intensity_basis: str | None = None
    energy_kwh_per_unit: float | None = None
    operational_g_per_unit: float | None = None
    idle_g_per_unit: float | None = None
    embodied_g_per_unit: float | None = None
    total_g_per_unit: float | None = None
    vs_onprem: float | None = None
    missing: list[str] = field(default_factory=list)


# -- the comparison --------------------------------------------------------------------------
@dataclass
class HostingInputs:
    onprem_zone: Value | None
    onprem_pue: Value | None
    clouds: list[Region]
    lifetime_years: Value
    embodied_kg: Value | None
    idle_power_w: Value | None
    kind: str = "lca"
    hours_per_day: Value | None = None


def _units(fits: list[RunFit]) -> tuple[float, str]:
    if fits and all(f.samples for f in fits):
        return float(sum(f.samples or 0 for f in fits)), "sample"
    return sum(f.duration_s for f in fits) / 3600, "hour of compute"


def _intensity(zone_code: str, fits: list[RunFit], kind: str) -> tuple[float, str]:
    from vatio.carbon.accounting import intensity_for_hour, mean_intensity
    from vatio.carbon.zones import resolve_zone

    zone = resolve_zone(zone_code)
    weights = [(f.energy_j or 0.0, run_span(f)) for f in fits]
    usable = [(w, s) for w, s in weights if s is not None and w > 0]
    if not usable:
        raise InputError("The runs have no energy and times to weigh the intensity with.")
    total = sum(w for w, _ in usable)
    value = sum(w * mean_intensity(zone, s[0], s[1], kind) for w, s in usable) / total
    basis = intensity_for_hour(zone, usable[0][1][0], kind)
    return value, f"{basis.basis}: {basis.source}"


def compare(fits: list[RunFit], inputs: HostingInputs) -> dict[str, Any]:
    """Side-by-side carbon per unit for on-premise and each cloud region, with the reasoning."""
    fits = [f for f in fits if f.energy_j]
    if not fits:
        raise InputError(
            "No recorded run with energy to base the comparison on.",
            "Record the job first: vatio run -- python train.py",
        )
    units, unit = _units(fits)
    energy_j = sum(f.energy_j or 0.0 for f in fits)
    hours = sum(f.duration_s for f in fits) / 3600
    pattern = load_pattern(fits)
    memory = max((f.memory_total_gb or 0) for f in fits) or None
    gpus = max(len(f.gpus) for f in fits)
    if inputs.embodied_kg is not None:
        embodied_kg = inputs.embodied_kg
    else:
        kg, how = machine_kg(memory, gpus)
        embodied_kg = Value(kg, how)
    life_h = float(inputs.lifetime_years.value) * YEAR_S / 3600
    duty = inputs.hours_per_day
    if duty is None and pattern is not None and pattern.days >= 1:
        duty = Value(
            pattern.busy_hours_per_day,
            f"vatio-recorded runs over {pattern.days:.1f} days (use of the machine vatio did not "
            "record is not seen: a lower bound)",
        )
    sites = [_onprem(inputs, fits, units, energy_j, hours, duty, embodied_kg, life_h)]
    for region in inputs.clouds:
        sites.append(_cloud(region, inputs, fits, units, energy_j, hours, embodied_kg, life_h))
    base = sites[0].total_g_per_unit
    for site in sites[1:]:
        if base and site.total_g_per_unit is not None:
            site.vs_onprem = site.total_g_per_unit / base - 1
    return {
        "unit": unit,
        "units": units,
        "runs": [f.id for f in fits],
        "it_energy_j": energy_j,
        "compute_hours": hours,
        "load": asdict(pattern) if pattern else None,
        "embodied_kg": asdict(embodied_kg),
        "lifetime_years": asdict(inputs.lifetime_years),
        "idle_power_w": asdict(inputs.idle_power_w) if inputs.idle_power_w else None,
        "hours_per_day": asdict(duty) if duty else None,
        "sites": [asdict(s) for s in sites],
        "reasoning": reasoning(pattern, sites),
        "not_assessed": [
            "latency to users and data",
            "data-residency rules",
            "staff and maintenance of an own data centre",
            "price",
        ],
    }


def _onprem(
    inputs: HostingInputs,
    fits: list[RunFit],
    units: float,
    energy_j: float,
    hours: float,
    duty: Value | None,
    embodied: Value,
    life_h: float,
) -> Site:
    site = Site("on-premise", "on-premise", inputs.onprem_zone, inputs.onprem_pue)
    if inputs.onprem_zone is None:
        site.missing.append("your grid zone: --zone ES (or zone in the profile)")
    if inputs.onprem_pue is None:
        default, source = provider_pue().get("Unknown", (None, None))
        site.missing.append(
            f"your data centre's PUE: --pue 1.3 (for reference, {source or 'the survey'} "
            f"gives {default} as the average)"
        )
    busy = float(duty.value) if duty is not None else 0.0
    if busy > 0:
        share = min(busy / 24, 1.0)
        site.embodied_g_per_unit = embodied.value * 1000 * hours / (life_h * share) / units
    else:
        site.missing.append(
            "how many hours a day your machine is busy: --hours-per-day 20 (the recorded "
            "history is under a day, too short to tell)"
        )
    if site.missing:
        return site
    assert inputs.onprem_zone is not None and inputs.onprem_pue is not None
    _operational(site, fits, units, energy_j, inputs)
    if inputs.idle_power_w is not None:
        idle_h_per_busy_h = max(24 - busy, 0.0) / busy
        idle_kwh = float(inputs.idle_power_w.value) / 1000 * idle_h_per_busy_h * hours
        site.idle_g_per_unit = (
            idle_kwh * float(inputs.onprem_pue.value) * (site.intensity_g_per_kwh or 0) / units
        )
    _total(site)
    return site


def _cloud(
    region: Region,
    inputs: HostingInputs,
    fits: list[RunFit],
    units: float,
    energy_j: float,
    hours: float,
    embodied: Value,
    life_h: float,
) -> Site:
    zone = _region_zone(region)
    pue = Value(region.pue, region.pue_source or "") if region.pue is not None else None
    site = Site(f"{region.provider}:{region.name}", "cloud", zone, pue)
    if zone is None:
        site.missing.append(
            f"the grid zone of {site.label}: --cloud {site.label}=ZONE (not in the bundled table)"
        )
    if pue is None:
        site.missing.append(f"the PUE of {site.label}: --cloud {site.label}@PUE")
    site.embodied_g_per_unit = embodied.value * 1000 * hours / life_h / units
    if site.missing:
        return site
    _operational(site, fits, units, energy_j, inputs)
    _total(site)
    return site


def _region_zone(region: Region) -> Value | None:
    """The region's grid zone: vatio.carbon maps a table region to its location, or to the
    hourly zone that covers it (gcp:us-west2 → US-CAL-CISO)."""
    if not region.zone:
        return None
    if region.zone_source != "--cloud":
        try:
            from vatio.carbon.zones import resolve_zone

            zone = resolve_zone(f"{region.provider}:{region.name}")
            return Value(zone.code, f"Green Algorithms data-centre table: {zone.name}")
        except Exception:  # a location without intensity data: asked for below
            pass
    return Value(region.zone, region.zone_source or "")


def _operational(
    site: Site, fits: list[RunFit], units: float, energy_j: float, inputs: HostingInputs
) -> None:
    assert site.zone is not None and site.pue is not None
    try:
        site.intensity_g_per_kwh, site.intensity_basis = _intensity(
            site.zone.value, fits, inputs.kind
        )
    except Exception as error:  # unknown zone: ask for a known one
        site.missing.append(
            f"a grid zone vatio knows for {site.label} ({getattr(error, 'message', error)})"
        )
        return
    site.energy_kwh_per_unit = energy_j / 3.6e6 * float(site.pue.value) / units
    site.operational_g_per_unit = site.energy_kwh_per_unit * site.intensity_g_per_kwh


def _total(site: Site) -> None:
    if site.operational_g_per_unit is None:
        return
    site.total_g_per_unit = (
        site.operational_g_per_unit
        + (site.idle_g_per_unit or 0.0)
        + (site.embodied_g_per_unit or 0.0)
    )


def reasoning(pattern: LoadPattern | None, sites: list[Site]) -> list[str]:
    """The §3.1 reasoning in plain words."""
    lines = []
    if pattern is None:
        lines.append("no run times recorded: the load pattern is unknown")
    else:
        use = (
            f", {pattern.utilisation:.0%} {pattern.utilisation_source}"
            if pattern.utilisation is not None
            else ""
        )
        variation = (
            f", day-to-day variation {pattern.daily_variation:.0%}"
            if pattern.daily_variation is not None
            else ""
        )
        base = (
            f"load: {pattern.busy_hours_per_day:.1f} h/day on average over {pattern.days:.1f} days "
            f"(active on {pattern.active_days_share:.0%} of the days{variation}{use})"
        )
        if pattern.days < 2:
            lines.append(base + "; history too short (under 2 days) to judge how variable it is")
        elif (pattern.daily_variation or 0) > 0.5 or pattern.active_days_share < 0.5:
            lines.append(
                base + " → variable: the cloud fits (pay per use, no idle hardware of yours)"
            )
        elif pattern.busy_hours_per_day >= 16 and (pattern.utilisation or 0) >= 0.6:
            lines.append(
                base + " → stable and intensive: on-premise fits if your data centre is efficient"
            )
        else:
            lines.append(base + " → moderate: either works; carbon per unit decides below")
    onprem = sites[0]
    clouds = [s for s in sites[1:] if s.total_g_per_unit is not None]
    if onprem.total_g_per_unit is None:
        lines.append("on-premise not compared: " + "; ".join(onprem.missing or ["inputs missing"]))
    elif clouds:
        near = next(
            (s for s in clouds if onprem.zone and s.zone and s.zone.value == onprem.zone.value),
            None,
        )
        best = min(clouds, key=lambda s: s.total_g_per_unit or 0)
        for label, cloud in (
            ("the cloud region in the same zone", near),
            ("the cleanest cloud region given", best),
        ):
            if cloud is None or cloud.vs_onprem is None:
                continue
            assert onprem.pue is not None and onprem.zone is not None
            ratio = 1 / (1 + cloud.vs_onprem) - 1  # on-premise relative to the cloud region
            what = (
                f"emits {-ratio:.0%} less than"
                if ratio < 0
                else f"emits {ratio:.0%} more than"
                if ratio > 0
                else "emits as much as"
            )
            cloud_pue = cloud.pue.value if cloud.pue else "?"
            cloud_zone = cloud.zone.value if cloud.zone else "?"
            lines.append(
                f"on-premise at PUE {onprem.pue.value:g} in {onprem.zone.value} {what} {label} "
                f"({cloud.label}, PUE {cloud_pue:g}, {cloud_zone})"
            )
            if cloud is best and near is best:
                break
    for site in sites[1:]:
        if site.missing:
            lines.append(f"{site.label} not compared: " + "; ".join(site.missing))
    return lines
