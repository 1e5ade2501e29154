"""The report as data: every figure with its unit, method and range (the JSON format).

HTML, Markdown and the Annex XI section are all rendered from this, so they
cannot disagree; `schema.json` describes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vatio.report.envdiff import environment_diff
from vatio.report.equivalents import equivalents
from vatio.report.figures import J_PER_KWH, basis_of, energy_figure, figure, scaled, singular
from vatio.report.flops import recorded_flops
from vatio.report.load import record_kind
from vatio.report.manifest import summarise_manifest
from vatio.report.sci import FLOP_UNITS, sci
from vatio.report.series import intensity_context, power_series
from vatio.report.utilisation import device_utilisation, main_device

REPORT_VERSION = 1


def _kwh(joules: float | None) -> float | None:
    return None if joules is None else joules / J_PER_KWH


def _energy(record: dict[str, Any]) -> dict[str, Any]:
    totals = record.get("totals") or {}
    method = totals.get("method") or "none"
    idle = record.get("idle") or {}
    process = totals.get("process_energy_j")
    return {
        "machine": energy_figure(
            totals.get("energy_j"), totals.get("energy_low_j"), totals.get("energy_high_j"), method
        ),
        "measured_kwh": _kwh(totals.get("measured_j")),
        "estimated_kwh": _kwh(totals.get("estimated_j")),
        "process": _process(totals, process, method),
        "above_idle_kwh": _kwh(idle.get("active_energy_j")),
        "mixed": basis_of(method) == "mixed",
    }


def _process(totals: dict[str, Any], process: float | None, method: str) -> dict[str, Any] | None:
    """The job's share of machine energy, with the machine's relative range."""
    if process is None:
        return None
    energy = totals.get("energy_j") or 0.0

    def scale(bound: float | None) -> float | None:
        return None if bound is None or not energy else process * bound / energy

    low, high = scale(totals.get("energy_low_j")), scale(totals.get("energy_high_j"))
    how = f"{method}, share of this process tree (by CPU time and GPU process use)"
    return energy_figure(process, low, high, how)


def _devices(record: dict[str, Any]) -> list[dict[str, Any]]:
    total = (record.get("totals") or {}).get("energy_j") or 0.0
    duration = record.get("duration_s") or 0.0
    rows = []
    for device in record.get("devices") or []:
        details = device.get("details") or {}
        energy = device.get("energy_j")
        rows.append(
            {
                "name": device.get("name"),
                "device": device.get("device"),
                "method": device.get("method"),
                "basis": basis_of(device.get("method")),
                "energy": energy_figure(
                    energy, device.get("low_j"), device.get("high_j"), str(device.get("method"))
                ),
                "process_energy_kwh": _kwh(device.get("process_energy_j")),
                "share_pct": (energy / total * 100) if total and energy is not None else None,
                "average_power_w": (energy / duration) if duration and energy is not None else None,
                "utilisation": device_utilisation(device, record),
                "model": details.get("model"),
                "assumptions": [str(a) for a in details.get("assumptions") or []],
                "errors": int(device.get("errors") or 0),
                "last_error": device.get("last_error"),
            }
        )
    return rows


def _carbon(record: dict[str, Any]) -> dict[str, Any] | None:
    carbon = record.get("carbon")
    if not carbon or carbon.get("co2e_g") is None:
        return None
    energy_method = (record.get("totals") or {}).get("method") or "none"
    method = (
        f"energy × PUE {carbon.get('pue', 1.0):g} × grid intensity hour by hour "
        f"({carbon.get('basis')}: {carbon.get('intensity_source')})"
    )
    co2e = figure(
        carbon["co2e_g"],
        "gCO2e",
        method,
        basis_of(energy_method),
        carbon.get("co2e_low_g", carbon["co2e_g"]),
        carbon.get("co2e_high_g", carbon["co2e_g"]),
    )
    return {
        "co2e": co2e,
        "process_co2e_g": carbon.get("process_co2e_g"),
        "zone": carbon.get("zone"),
        "zone_name": carbon.get("zone_name"),
        "pue": carbon.get("pue"),
        "intensity_kind": carbon.get("intensity_kind"),
        "basis": carbon.get("basis"),
        "source": carbon.get("intensity_source"),
        "mean_intensity": figure(
            carbon.get("mean_intensity_g_per_kwh"),
            "gCO2e/kWh",
            "energy-weighted mean of the hourly intensities during the run",
            "derived",
        ),
        "per_hour": [
            {k: h.get(k) for k in ("hour", "energy_j", "intensity_g_per_kwh", "co2e_g", "basis")}
            for h in carbon.get("per_hour") or []
        ],
    }


def _phases(record: dict[str, Any], carbon: dict[str, Any] | None) -> list[dict[str, Any]]:
    method = (record.get("totals") or {}).get("method") or "none"
    rows = []
    for phase in record.get("phases") or []:
        energy = phase.get("energy_j")
        co2e = None
        if phase.get("co2e_g") is not None and carbon is not None:
            ratio_low = phase["low_j"] / energy if energy else 1.0
            ratio_high = phase["high_j"] / energy if energy else 1.0
            c = phase["co2e_g"]
            co2e = figure(
                c,
                "gCO2e",
                carbon["co2e"]["method"],
                basis_of(method),
                c * ratio_low,
                c * ratio_high,
            )
        rows.append(
            {
                "name": phase.get("name"),
                "started_at": phase.get("started_at"),
                "duration_s": phase.get("duration_s"),
                "energy": energy_figure(energy, phase.get("low_j"), phase.get("high_j"), method),
                "co2e": co2e,
            }
        )
    return rows


def _work(
    record: dict[str, Any], energy: dict[str, Any], carbon: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Energy and carbon per unit of work counted with add_work (FLOPs excepted)."""
    rows = []
    for unit, count in (record.get("work") or {}).items():
        if unit in FLOP_UNITS or not count:
            continue
        one = singular(unit)
        per = scaled(energy, J_PER_KWH / count, f"J/{one}", f"machine energy ÷ {count:g} {unit}")
        co2e = None
        if carbon is not None:
            co2e = scaled(carbon["co2e"], 1.0 / count, f"gCO2e/{one}", f"gCO2e ÷ {count:g} {unit}")
        rows.append({"unit": unit, "count": count, "energy_per_unit": per, "co2e_per_unit": co2e})
    return rows


def _notes(record: dict[str, Any], carbon: dict[str, Any] | None) -> list[str]:
    notes = []
    if record.get("status") != "completed":
        notes.append(f"The run did not complete (status {record.get('status')}).")
    if carbon is None:
        notes.append("No carbon figure: the run had no grid zone (--zone, VATIO_ZONE, profile).")
    if (record.get("totals") or {}).get("estimated_j"):
        notes.append("Part or all of the energy is estimated from models; ranges are given.")
    for device in record.get("devices") or []:
        if device.get("errors"):
            notes.append(f"{device['name']}: {device['errors']} failed reads.")
    return notes


def run_report(
    record: dict[str, Any], settings: dict[str, Any] | None = None, flops: float | None = None
) -> dict[str, Any]:
    """One run's section of the report."""
    settings = settings or {}
    energy = _energy(record)
    carbon = _carbon(record)
    found_flops = recorded_flops(record, flops)
    if found_flops is not None:
        joules = (record.get("totals") or {}).get("energy_j")
        found_flops["flops_per_joule"] = found_flops["value"] / joules if joules else None
    return {
        "id": record["id"],
        "name": record.get("name"),
        "kind": record_kind(record),
        "status": record.get("status"),
        "command": record.get("command"),
        "started_at": record.get("started_at"),
        "ended_at": record.get("ended_at"),
        "duration_s": record.get("duration_s"),
        "digest": record.get("digest"),
        "energy": energy,
        "devices": _devices(record),
        "main_device": main_device(record),
        "phases": _phases(record, carbon),
        "carbon": carbon,
        "work": _work(record, energy["machine"], carbon),
        "flops": found_flops,
        "sci": sci(record, carbon["co2e"] if carbon else None, settings),
        "equivalents": equivalents(carbon["co2e"] if carbon else None),
        "manifest": summarise_manifest(record.get("manifest")),
        "schedule": (record.get("extensions") or {}).get("schedule"),
        "power_series": power_series(record),
        "grid": intensity_context(record),
        "notes": _notes(record, carbon),
        "federated": _federated(record),
        "multinode": _multinode(record),
    }


def _multinode(record: dict[str, Any]) -> dict[str, Any] | None:
    """A multi-node job's nodes side by side (merged run only), with each node's main
    device utilisation derived like a run's."""
    group = record.get("group")
    if not group:
        return None
    nodes = []
    for node in group["nodes"]:
        devices = [d for d in record.get("devices") or [] if d.get("node") == node["host"]]
        main = (
            main_device({**record, "devices": devices, "duration_s": node["duration_s"]})
            if devices
            else None
        )
        nodes.append({**node, "main_device": main})
    keys = ("id", "parts", "counted_parts", "devices_counted", "devices_double_counted",
            "left_out", "launcher", "world_size", "nnodes", "slowest", "spread_s")  # fmt: skip
    return {**{k: group.get(k) for k in keys}, "nodes": nodes}


def _federated(record: dict[str, Any]) -> dict[str, Any] | None:
    """The federated-learning section of an FL run, from its run folder (tables, charts,
    ledger status); None for other runs or when the folder is gone (said in the section)."""
    section = (record.get("extensions") or {}).get("federated") or {}
    folder = section.get("folder") or section.get("run_dir")
    if record_kind(record) != "fl" or not folder:
        return None
    try:
        from vatio.federated.report_section import fl_section

        return fl_section(folder)
    except Exception as error:  # the record stays reportable without its folder
        return {"title": "Federated learning", "paragraphs": [
            f"The run folder {folder} could not be read ({type(error).__name__}: {error}); "
            "the per-client and per-round figures and the ledger status are not shown."],
            "tables": [], "charts": [], "ledger": None}  # fmt: skip


def _delta_pct(value: float | None, base: float | None) -> float | None:
    if value is None or not base:
        return None
    return (value - base) / base * 100.0


def comparison(records: list[dict[str, Any]], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Runs side by side against the first, with the differences in their environments."""
    base = runs[0]

    def value(run: dict[str, Any], *path: str) -> float | None:
        data: Any = run
        for key in path:
            data = data.get(key) if isinstance(data, dict) else None
        return data

    rows = []
    for run in runs:
        per_run = next((p for p in run["sci"]["per_unit"] if p["unit_name"] == "run"), None)
        rows.append(
            {
                "id": run["id"],
                "name": run["name"],
                "kind": run["kind"],
                "status": run["status"],
                "duration_s": run["duration_s"],
                "energy": run["energy"]["machine"],
                "co2e": run["carbon"]["co2e"] if run["carbon"] else None,
                "energy_per_unit_j": {
                    w["unit"]: w["energy_per_unit"]["value"] for w in run["work"]
                },
                "sci_per_run": per_run,
                "delta_duration_pct": _delta_pct(run["duration_s"], base["duration_s"]),
                "delta_energy_pct": _delta_pct(
                    value(run, "energy", "machine", "value"),
                    value(base, "energy", "machine", "value"),
                ),
                "delta_co2e_pct": _delta_pct(
                    value(run, "carbon", "co2e", "value"), value(base, "carbon", "co2e", "value")
                ),
            }
        )
    return {
        "baseline": base["id"],
        "rows": rows,
        "environment": [environment_diff(records[0], other) for other in records[1:]],
    }


def build_report(
    records: list[dict[str, Any]],
    *,
    settings: dict[str, Any] | None = None,
    flops: float | None = None,
    store_url: str | None = None,
    now: datetime | None = None,
    verification: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The whole report: one section per run and, for several runs, a comparison.

    `verification` is each run's standing in the signed log (`record.audit.RunProof`);
    None when it was not checked, which the report then says.
    """
    from vatio import __version__
    from vatio.redact import redact_url

    runs = [run_report(r, settings, flops if len(records) == 1 else None) for r in records]
    proofs = {p["run_id"]: p for p in verification or []}
    for run in runs:
        proof = proofs.get(run["id"])
        run["verification"] = _verification_line(proof)
    generated = (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "report_version": REPORT_VERSION,
        "generator": f"vatio {__version__}",
        "generated_at": generated,
        "store": redact_url(store_url) if store_url else None,
        "runs": runs,
        "comparison": comparison(records, runs) if len(runs) > 1 else None,
        "verified": bool(verification) and all(p["verified"] for p in verification),
    }


def _verification_line(proof: dict[str, Any] | None) -> str:
    if proof is None:
        return "not checked against the signed log"
    if proof.get("parts") is not None and proof["verified"]:
        leaves = ", ".join(str(p["leaf"]) for p in proof["parts"])
        return (
            f"verified: {len(proof['parts'])} parts, leaves {leaves} of checkpoint "
            f"{proof['checkpoint_size']}"
        )
    if proof["verified"]:
        return f"verified: leaf {proof['leaf']} of checkpoint {proof['checkpoint_size']}"
    return f"NOT VERIFIED: {proof['reason']}"
