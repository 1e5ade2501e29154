"""Average utilisation of a run's main device, from what its record holds.

A record does not (yet) store utilisation itself, so it is derived: under the
TDP model the CPU estimate is TDP × utilisation, so power / TDP gives it back
exactly; for a GPU, average power / power limit is a proxy that counts idle
power as use (so it errs towards "well used"); for RAPL, power / the TDP of
the CPU model from the catalog is the same kind of proxy. A `utilisation`
value recorded on a device (0..1) is used as is.
"""

from __future__ import annotations

from typing import Any

EXACT = "exact"
PROXY = "proxy"


def _capacity_w(device: dict[str, Any], record: dict[str, Any]) -> tuple[float, str] | None:
    details = device.get("details") or {}
    if device.get("method") == "estimated:tdp" and details.get("tdp_w"):
        return float(details["tdp_w"]), EXACT
    if device.get("device") == "gpu" and details.get("power_limit_w"):
        return float(details["power_limit_w"]), PROXY
    if device.get("device") in ("cpu", "package") and device.get("method") == "measured:rapl":
        profile = record.get("profile") or {}
        if profile.get("cpu_tdp_w"):
            return float(profile["cpu_tdp_w"]), PROXY
        model = ((record.get("manifest") or {}).get("cpu") or {}).get("model")
        if model:
            from vatio.devices.catalog import match_cpu

            match = match_cpu(model)
            if match is not None:
                return match.tdp_w, PROXY
    return None


def device_utilisation(device: dict[str, Any], record: dict[str, Any]) -> dict[str, Any] | None:
    """{'value', 'method', 'quality'} for one device, or None when it cannot be derived."""
    recorded = device.get("utilisation", (device.get("details") or {}).get("mean_utilisation"))
    if isinstance(recorded, int | float):
        return {"value": float(recorded), "method": "recorded by the sampler", "quality": EXACT}
    duration = record.get("duration_s")
    capacity = _capacity_w(device, record)
    if not duration or capacity is None or device.get("energy_j") is None:
        return None
    watts, quality = capacity
    average = device["energy_j"] / duration
    what = "TDP" if device.get("device") != "gpu" else "power limit"
    return {
        "value": min(average / watts, 1.0),
        "method": f"average power {average:.1f} W / {what} {watts:g} W",
        "quality": quality,
    }


def main_device(record: dict[str, Any]) -> dict[str, Any] | None:
    """The device kind that does the work (GPUs if any, else CPU) and its mean utilisation."""
    devices = record.get("devices") or []
    gpus = [d for d in devices if d.get("device") == "gpu"]
    chosen = gpus or [d for d in devices if d.get("device") in ("cpu", "package")]
    if not chosen:
        return None
    found = [u for d in chosen if (u := device_utilisation(d, record)) is not None]
    kind = "gpu" if gpus else "cpu"
    if not found:
        return {"device": kind, "count": len(chosen), "value": None, "method": None}
    value = sum(u["value"] for u in found) / len(found)
    quality = EXACT if all(u["quality"] == EXACT for u in found) else PROXY
    return {
        "device": kind,
        "count": len(chosen),
        "value": value,
        "method": "; ".join(u["method"] for u in found),
        "quality": quality,
    }
