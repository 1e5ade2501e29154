"""Software Carbon Intensity (ISO/IEC 21031:2024): SCI = (E × I + M) per R.

O = E × I is the run's operational carbon as vatio accounted it (energy × PUE ×
hourly grid intensity). M is the embodied carbon of the hardware, charged by
the run's share of its lifetime: M = TE × (run time / lifetime) × resource
share. R is a functional unit counted with `add_work` (samples, tokens, ...),
or one run when nothing was counted.

Default embodied carbon follows the Cloud Carbon Footprint methodology (after
Teads and Boavizta): 1000 kgCO2e for a minimal server (one CPU, 16 GB), plus
1.39 kgCO2e per GB of memory above 16 GB (533 kg per 384 GB) and 150 kgCO2e per
GPU; 4 years of life. Embodied data are coarse, so the default is given with a
range of ×0.5 to ×2; a value set in the profile is used as given.
"""

from __future__ import annotations

from typing import Any

from vatio.carbon.embodied import (  # shared with vatio rightsize
    BASE_MACHINE_KG,
    BASE_MEMORY_GB,
    GPU_KG,
    LIFETIME_YEARS,
    MEMORY_KG_PER_GB,
    RANGE_HIGH,
    RANGE_LOW,
    SOURCE,
    YEAR_S,
)
from vatio.report.figures import figure, singular

#: work units that count compute, not a functional unit
FLOP_UNITS = frozenset({"flops", "flop", "training_flops"})


def gpu_count(record: dict[str, Any]) -> int:
    gpus = (record.get("manifest") or {}).get("gpus") or []
    measured = [d for d in record.get("devices") or [] if d.get("device") == "gpu"]
    return max(len(gpus), len(measured))


def embodied(record: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any] | None:
    """M in gCO2e with its method; None when the run has no duration."""
    duration = record.get("duration_s")
    if not duration:
        return None
    manifest = record.get("manifest") or {}
    lifetime = float(settings.get("lifetime_years") or LIFETIME_YEARS)
    share = float(settings.get("resource_share") or 1.0)
    gpus = gpu_count(record)
    gpu_kg = float(settings.get("gpu_embodied_kgco2e") or GPU_KG)
    given = settings.get("embodied_kgco2e")
    if given is not None:
        total_kg = float(given) + gpus * gpu_kg
        how = f"profile embodied_kgco2e {float(given):g} kg"
        low_f = high_f = 1.0
    else:
        memory = float(manifest.get("memory_gb") or BASE_MEMORY_GB)
        extra_memory = max(memory - BASE_MEMORY_GB, 0.0)
        total_kg = BASE_MACHINE_KG + extra_memory * MEMORY_KG_PER_GB + gpus * gpu_kg
        how = (
            f"default {BASE_MACHINE_KG:g} kg machine + {extra_memory:.0f} GB × "
            f"{MEMORY_KG_PER_GB:.2f} kg/GB memory ({SOURCE})"
        )
        low_f, high_f = RANGE_LOW, RANGE_HIGH
    if gpus:
        how += f" + {gpus} GPU × {gpu_kg:g} kg"
    fraction = duration / (lifetime * YEAR_S) * share
    grams = total_kg * 1000.0 * fraction
    method = f"TE {total_kg:.0f} kgCO2e ({how}) × {duration:.1f} s / {lifetime:g} years" + (
        f" × resource share {share:g}" if share != 1.0 else ""
    )
    result = figure(grams, "gCO2e", method, "estimated", grams * low_f, grams * high_f)
    result["total_kgco2e"] = total_kg
    result["lifetime_years"] = lifetime
    result["resource_share"] = share
    return result


def functional_units(record: dict[str, Any], preferred: str | None = None) -> list[str]:
    """Work units usable as R, the preferred one first."""
    units = [u for u, n in (record.get("work") or {}).items() if n and u not in FLOP_UNITS]
    if preferred and preferred in units:
        units.remove(preferred)
        units.insert(0, preferred)
    return units


def sci(
    record: dict[str, Any], operational: dict[str, Any] | None, settings: dict[str, Any]
) -> dict[str, Any]:
    """SCI per functional unit (and per run); operational may be None (no grid zone)."""
    m = embodied(record, settings)
    result: dict[str, Any] = {
        "standard": "ISO/IEC 21031:2024 (SCI)",
        "operational": operational,
        "embodied": m,
        "per_unit": [],
        "reason": None,
    }
    if operational is None or operational.get("value") is None:
        result["reason"] = "no carbon figure for the run (no grid zone was set)"
        return result
    if m is None:
        result["reason"] = "the run has no duration, so its embodied share is unknown"
        return result
    total = [operational[k] + m[k] for k in ("value", "low", "high")]
    work = record.get("work") or {}
    units = [(u, float(work[u])) for u in functional_units(record, settings.get("functional_unit"))]
    for unit, count in [*units, ("run", 1.0)]:
        method = f"(E×I + M) / R with R = {count:g} {unit}"
        per = figure(total[0] / count, f"gCO2e/{singular(unit)}", method, "derived")
        per["low"], per["high"] = total[1] / count, total[2] / count
        per["unit_name"], per["count"] = unit, count
        result["per_unit"].append(per)
    return result
