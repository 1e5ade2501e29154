"""The EU AI Act Annex XI section on training compute and energy, ready to paste.

Regulation (EU) 2024/1689, Article 53(1)(a) and Annex XI, Section 1, points
2(d) (computational resources used for training: FLOPs, training time) and
2(e) (known or estimated energy consumption; when unknown, it may be based on
the computational resources used). Measured and estimated energy are stated
apart, each with its method, and estimates with their ranges.
"""

from __future__ import annotations

from typing import Any

from vatio.report.figures import basis_of, fmt_number, fmt_range, fmt_seconds
from vatio.report.manifest import hardware_line
from vatio.report.markdown import cell

TITLE = (
    "Computational resources and energy consumption of training "
    "(EU AI Act, Annex XI, Section 1, points 2(d) and 2(e))"
)
EXCLUDED = (
    "networking, storage and facility overheads (cooling, power conversion; the energy "
    "figures are IT energy, before any PUE)",
    "experiments, data preparation and evaluation that were not recorded as runs",
    "the energy embodied in manufacturing the hardware",
)


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _kwh(value: float | None, low: float | None = None, high: float | None = None) -> str:
    """kWh, the unit technical documentation uses, whatever the size."""
    return fmt_range({"value": value, "low": low, "high": high, "unit": "kWh"})


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    return "\n".join(lines + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows])


def _compute(runs: list[dict[str, Any]]) -> list[str]:
    total_s = _sum([r["duration_s"] for r in runs])
    flops = [r["flops"] for r in runs]
    known = [f["value"] for f in flops if f]
    if known and len(known) == len(runs):
        compute = f"{fmt_number(sum(known))} FLOPs"
    elif known:
        compute = (
            f"{fmt_number(sum(known))} FLOPs for {len(known)} of {len(runs)} runs; "
            "not recorded for the others"
        )
    else:
        compute = "not recorded (see below how to count it)"
    hardware = sorted({hardware_line(r["manifest"]) for r in runs})
    rows = [
        ["Training runs", f"{len(runs)} ({runs[0]['started_at']} to {runs[-1]['ended_at']})"],
        ["Training time (wall clock)", fmt_seconds(total_s)],
        ["Hardware", "; ".join(hardware)],
        ["Training compute", compute],
    ]
    per_run = [
        [
            r["id"],
            r["status"],
            fmt_seconds(r["duration_s"]),
            f"{fmt_number(r['flops']['value'])} ({r['flops']['method']})" if r["flops"] else "—",
            hardware_line(r["manifest"]),
        ]
        for r in runs
    ]
    parts = [
        "### 2(d) Computational resources used for training",
        _table(["", ""], rows),
        _table(["run", "status", "training time", "FLOPs (method)", "hardware"], per_run),
    ]
    if not known:
        parts.append(
            "FLOPs can be counted on a sample training step with "
            "`vatio.report.flops.count_training_flops(model, batch, loss_fn)` "
            "(PyTorch `FlopCounterMode`) and recorded with `tracker.add_work(flops=...)`."
        )
    return parts


def _energy(runs: list[dict[str, Any]]) -> list[str]:
    machine = [r["energy"]["machine"] for r in runs]
    total = _sum([m["value"] for m in machine])
    low, high = _sum([m["low"] for m in machine]), _sum([m["high"] for m in machine])
    measured = _sum([r["energy"]["measured_kwh"] for r in runs]) or 0.0
    estimated = _sum([r["energy"]["estimated_kwh"] for r in runs]) or 0.0
    by_method: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        for device in run["devices"]:
            by_method.setdefault((device["device"], device["method"]), []).append(device)
    rows, assumptions = [], {}
    for (device, method), items in sorted(by_method.items()):
        energy = [d["energy"] for d in items]
        rows.append(
            [
                device,
                method,
                basis_of(method),
                _kwh(*(_sum([e[k] for e in energy]) for k in ("value", "low", "high"))),
            ]
        )
        for item in items:
            for line in item["assumptions"]:
                assumptions.setdefault(line, None)
    kind = basis_of("+".join(m for _, m in by_method)) if by_method else "none"
    headline = {
        "measured": "Known (measured)",
        "estimated": "Estimated",
        "mixed": "Partly measured, partly estimated",
    }.get(kind, "Unknown")
    parts = [
        "### 2(e) Energy consumption",
        f"**{headline}: {_kwh(total, low, high)}** for the training runs above, of which:",
        "\n".join(
            [
                "- measured with hardware energy counters: "
                + (_kwh(measured) if measured else "none (no energy counter was available)"),
                "- estimated with power models: "
                + (f"{_kwh(estimated)}; the range above comes from these" if estimated else "none"),
            ]
        ),
        _table(["device", "method", "measured or estimated", "energy (range)"], rows),
        "**Method.** Energy was recorded by vatio while training ran. Measured figures are "
        "read from the hardware's own energy counters (RAPL for CPU and DRAM, NVML for NVIDIA "
        "GPUs), which vatio integrates without a model. Estimated figures come from models "
        "and carry a low–high range; their assumptions:",
    ]
    parts.append(
        "\n".join(f"- {line}" for line in assumptions) or "- none: all energy was measured"
    )
    parts.append(
        "**Scope.** The figures cover the whole machine's devices listed above during the runs "
        "(other processes on the machine included). Not included: " + "; ".join(EXCLUDED) + "."
    )
    return parts


def _emissions(runs: list[dict[str, Any]]) -> list[str]:
    carbon = [r["carbon"] for r in runs if r["carbon"]]
    if not carbon:
        return []
    total = _sum([c["co2e"]["value"] for c in carbon])
    low = _sum([c["co2e"]["low"] for c in carbon])
    high = _sum([c["co2e"]["high"] for c in carbon])
    zones = ", ".join(sorted({f"{c['zone']} (PUE {c['pue']:g})" for c in carbon}))
    sources = "; ".join(sorted({str(c["source"]) for c in carbon}))
    return [
        "### Related emissions (for information)",
        f"{fmt_number(total)} gCO2e ({fmt_number(low)}–{fmt_number(high)}) for "
        f"{len(carbon)} of {len(runs)} runs, grid zone {zones}, hour-by-hour intensity from "
        f"{sources}.",
    ]


def render_aiact(report: dict[str, Any]) -> str:
    """The Annex XI section as Markdown."""
    runs = report["runs"]
    digests = [
        [r["id"], r["name"] or "—", f"sha256:{r['digest']}", r.get("verification") or "—"]
        for r in runs
    ]
    parts = [
        f"## {TITLE}",
        f"<!-- generated by vatio report --aiact ({report['generator']}, "
        f"{report['generated_at']}) -->",
        "This section gives the computational resources used to train the model and its "
        "energy consumption, as Article 53(1)(a) and Annex XI, Section 1, points 2(d) and 2(e) "
        "of Regulation (EU) 2024/1689 ask of providers of general-purpose AI models. It was "
        f"generated by {report['generator']} on {report['generated_at']} from {len(runs)} "
        "recorded training run(s).",
        *_compute(runs),
        *_energy(runs),
        *_emissions(runs),
        "### Records",
        "Each run record is a leaf of vatio's append-only Merkle log (RFC 6962), whose "
        "checkpoints are signed with the recording machine's Ed25519 key; `vatio ledger "
        "verify` recomputes every digest and proof.",
        _table(["run", "name", "record digest", "signed log"], digests),
    ]
    if not report.get("verified"):
        parts.insert(
            1,
            "> **WARNING:** these figures are NOT verified against the signed log of runs; "
            "they may have been changed after they were recorded.",
        )
    return "\n\n".join(parts) + "\n"
