"""The sections of a report, from its data (see build.py), as renderer-neutral blocks."""

from __future__ import annotations

from typing import Any

from vatio.report.blocks import Block, Details, Heading, Para, Plot, Table
from vatio.report.compare_doc import comparison_blocks
from vatio.report.figures import fmt_energy, fmt_number, fmt_range, fmt_seconds, singular
from vatio.report.manifest_doc import manifest_blocks

METHODS = (
    ("measured:rapl", "CPU package and DRAM energy counters (Intel/AMD RAPL, Linux powercap)."),
    ("measured:nvml-counter", "NVIDIA GPU energy counter read through NVML (Volta and newer)."),
    ("measured:nvml-power", "NVIDIA GPU power read through NVML, integrated over time."),
    ("estimated:tdp", "CPU TDP × CPU utilisation (Green Algorithms model); range given."),
    ("estimated:memory", "0.3725 W per GB of memory in use (Green Algorithms); range given."),
)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def _summary(run: dict[str, Any]) -> Table:
    energy, carbon = run["energy"], run["carbon"]
    machine = energy["machine"]
    rows = [
        ["status", str(run["status"]) + (f" ({run['kind']})" if run["kind"] != "run" else "")],
        ["command", " ".join(run["command"] or []) or "—"],
        ["started (UTC)", str(run["started_at"])],
        ["duration", fmt_seconds(run["duration_s"])],
        ["energy (machine)", f"{fmt_energy(machine)} [{machine['method']}, {machine['basis']}]"],
    ]
    if energy["mixed"]:
        rows.append(["of which measured", fmt_energy(_kwh_fig(energy["measured_kwh"]))])
        rows.append(["of which estimated", fmt_energy(_kwh_fig(energy["estimated_kwh"]))])
    if energy["process"]:
        rows.append(["energy (this job's processes)", fmt_energy(energy["process"])])
    if energy["above_idle_kwh"] is not None:
        rows.append(["energy above idle", fmt_energy(_kwh_fig(energy["above_idle_kwh"]))])
    if carbon:
        rows.append(
            ["carbon", f"{fmt_range(carbon['co2e'])} [{carbon['zone']}, PUE {carbon['pue']:g}]"]
        )
        rows.append(["mean grid intensity", fmt_range(carbon["mean_intensity"])])
    else:
        rows.append(["carbon", "not computed: no grid zone"])
    main = run["main_device"]
    if main and main["value"] is not None:
        rows.append(
            [
                f"{main['device'].upper()} utilisation (mean)",
                f"{main['value'] * 100:.0f}% ({main['quality']}: {main['method']})",
            ]
        )
    rows.append(["record digest", f"sha256:{run['digest']}" if run["digest"] else "—"])
    rows.append(["signed log", run.get("verification") or "not checked against the signed log"])
    return Table(["", ""], rows)


def _kwh_fig(kwh: float | None) -> dict[str, Any]:
    return {"value": kwh, "low": None, "high": None, "unit": "kWh"}


def _devices(run: dict[str, Any]) -> list[Block]:
    rows = []
    for d in run["devices"]:
        util = d["utilisation"]
        rows.append(
            [
                d["name"],
                d["method"],
                d["basis"],
                fmt_energy(d["energy"]),
                pct(d["share_pct"]),
                fmt_number(d["average_power_w"]) + " W" if d["average_power_w"] else "—",
                f"{util['value'] * 100:.0f}% ({util['quality']})" if util else "—",
            ]
        )
    headers = ["device", "method", "basis", "energy (range)", "share", "mean power", "utilisation"]
    blocks: list[Block] = [Table(headers, rows)]
    assumptions = [[d["name"], a] for d in run["devices"] for a in d["assumptions"]]
    if assumptions:
        blocks.append(
            Details(
                "Assumptions behind the estimates", [Table(["device", "assumption"], assumptions)]
            )
        )
    return blocks


def _phases(run: dict[str, Any]) -> list[Block]:
    rows = [
        [p["name"], fmt_seconds(p["duration_s"]), fmt_energy(p["energy"]), fmt_range(p["co2e"])]
        for p in run["phases"]
    ]
    table = Table(["phase", "duration", "energy (range)", "carbon (range)"], rows)
    return [table] if len(rows) <= 12 else [Details(f"All {len(rows)} phases", [table])]


def _carbon(run: dict[str, Any]) -> list[Block]:
    carbon = run["carbon"]
    if not carbon:
        return [
            Para(
                "No carbon figure: the run had no grid zone. Set one with --zone, "
                "VATIO_ZONE or `zone` in the profile.",
                note=True,
            )
        ]
    blocks: list[Block] = [
        Para(
            f"{fmt_range(carbon['co2e'])} in zone {carbon['zone']} ({carbon['zone_name']}), "
            f"PUE {carbon['pue']:g}, {carbon['intensity_kind'].upper()} intensity. "
            f"Method: {carbon['co2e']['method']}."
        )
    ]
    if run["grid"]:
        blocks.append(Plot("intensity_plot", run, "Grid intensity around the run (run shaded)"))
    rows = [
        [
            h["hour"],
            fmt_number(h["intensity_g_per_kwh"]),
            fmt_number(h["energy_j"] / 3.6e3),
            fmt_number(h["co2e_g"]),
            h["basis"],
        ]
        for h in carbon["per_hour"]
    ]
    blocks.append(Table(["hour (UTC)", "gCO2e/kWh", "energy (Wh)", "gCO2e", "basis"], rows))
    return blocks


def _work_and_flops(run: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    if run["work"]:
        rows = [
            [
                w["unit"],
                fmt_number(w["count"]),
                fmt_range(w["energy_per_unit"]),
                fmt_range(w["co2e_per_unit"]),
            ]
            for w in run["work"]
        ]
        blocks += [
            Heading(3, "Energy per unit of work"),
            Table(["unit", "count", "energy per unit", "carbon per unit"], rows),
        ]
    blocks.append(Heading(3, "Training compute (FLOPs)"))
    flops = run["flops"]
    if flops:
        per_j = flops["flops_per_joule"]
        efficiency = f"; {fmt_number(per_j / 1e9)} GFLOP per joule" if per_j else ""
        blocks.append(Para(f"{fmt_number(flops['value'])} FLOPs ({flops['method']}){efficiency}."))
    else:
        blocks.append(
            Para(
                "Not recorded. Count a training step with "
                "`vatio.report.flops.count_training_flops` and record it with "
                "`tracker.add_work(flops=...)`, or pass `--flops`."
            )
        )
    return blocks


def _sci(run: dict[str, Any]) -> list[Block]:
    sci = run["sci"]
    blocks: list[Block] = [Heading(3, "Software Carbon Intensity (SCI, ISO/IEC 21031)")]
    if sci["reason"]:
        return [*blocks, Para(f"Not computed: {sci['reason']}.", note=True)]
    rows = [
        ["O = E × I (operational)", fmt_range(sci["operational"]), sci["operational"]["method"]],
        ["M (embodied share)", fmt_range(sci["embodied"]), sci["embodied"]["method"]],
    ]
    rows += [
        [f"SCI per {singular(p['unit_name'])}", fmt_range(p), p["method"]] for p in sci["per_unit"]
    ]
    return [*blocks, Table(["term", "value (range)", "method"], rows)]


def _equivalents(run: dict[str, Any]) -> list[Block]:
    if not run["equivalents"]:
        return []
    rows = [
        [e["label"], fmt_range(e), f"{e['factor_g']:g} gCO2e per {e['unit'].rstrip('s')}"]
        for e in run["equivalents"]
    ]
    return [
        Heading(3, "In everyday terms"),
        Table(["the carbon of this run equals", "amount", "factor (Green Algorithms)"], rows),
    ]


def run_blocks(run: dict[str, Any]) -> list[Block]:
    """All sections of one run."""
    title = f"Run {run['id']}" + (f" · {run['name']}" if run["name"] else "")
    blocks: list[Block] = [Heading(2, title, anchor=f"run-{run['id']}"), _summary(run)]
    blocks += [Para(note, note=True) for note in run["notes"]]
    blocks += multinode_blocks(run)
    if run["power_series"]:
        blocks += [
            Heading(3, "Power over time"),
            Plot("power_plot", run, "Power by device, stacked"),
        ]
    blocks += [Heading(3, "Energy by device"), Plot("device_energy_plot", run, "Energy by device")]
    blocks += _devices(run)
    if run["phases"]:
        blocks += [Heading(3, "Energy by phase"), Plot("phase_energy_plot", run, "Energy by phase")]
        blocks += _phases(run)
    blocks += [Heading(3, "Grid intensity and carbon"), *_carbon(run)]
    blocks += federated_blocks(run)
    blocks += _work_and_flops(run) + _sci(run) + _equivalents(run)
    if run["schedule"]:
        rows = [[str(k), str(v)] for k, v in run["schedule"].items()]
        blocks += [Heading(3, "Scheduling"), Table(["", ""], rows)]
    blocks += manifest_blocks(run["manifest"])
    return blocks


def multinode_blocks(run: dict[str, Any]) -> list[Block]:
    """A multi-node job: its nodes side by side, the slowest one, what was counted."""
    group = run.get("multinode")
    if not group:
        return []
    rows = []
    for node in group["nodes"]:
        main = node.get("main_device") or {}
        util = (
            f"{main['device'].upper()} {main['value'] * 100:.0f}% ({main['quality']})"
            if main.get("value") is not None
            else "—"
        )
        rows.append(
            [
                node["host"] + (" (slowest)" if node.get("slowest") and len(group["nodes"]) > 1
                                else ""),
                ", ".join(str(r) for r in node["ranks"]) or "—",
                ", ".join(node["devices"]) or "none: measured by another part",
                _joules(node["energy_j"]),
                _joules(node["process_energy_j"]),
                fmt_seconds(node["duration_s"]),
                f"{fmt_number(node['mean_power_w'])} W" if node["mean_power_w"] else "—",
                pct(node["cpu_utilisation"] * 100 if node["cpu_utilisation"] is not None
                    else None),
                util,
            ]
        )  # fmt: skip
    headers = ["node", "ranks", "devices measured", "energy", "job share", "time",
               "mean power", "machine CPU", "main device"]  # fmt: skip
    text = (
        f"One job on {len(group['nodes'])} node(s) ({group.get('launcher') or 'group'}, "
        f"{len(group['parts'])} parts): the total is the sum of the {len(group['counted_parts'])} "
        f"part(s) that measured a node; {group['devices_counted']} device(s) counted, "
        f"{group['devices_double_counted']} counted twice."
    )
    if group.get("slowest") and len(group["nodes"]) > 1:
        text += f" Slowest node: {group['slowest']} ({fmt_seconds(group['spread_s'])} behind)."
    blocks: list[Block] = [Heading(3, "Nodes"), Para(text), Table(headers, rows)]
    blocks += [Para(note, note=True) for note in group.get("left_out") or []]
    return blocks


def _joules(value: float | None) -> str:
    from vatio.quantities import energy

    return "—" if value is None else energy(value)


def federated_blocks(run: dict[str, Any]) -> list[Block]:
    """The FL section: what happened, clients and rounds, plots, the ledger's status."""
    section = run.get("federated")
    if not section:
        return []
    blocks: list[Block] = [Heading(3, section["title"])]
    blocks += [Para(text) for text in section["paragraphs"]]
    if section.get("charts"):
        blocks.append(Plot("fl_client_energy_plot", run, "Energy per client, with its range"))
        blocks.append(Plot("fl_rounds_plot", run, "Accuracy and energy per round"))
    for table in section.get("tables") or []:
        blocks += [Heading(4, table["title"]), Table(table["headers"], table["rows"])]
    return blocks


def document(report: dict[str, Any]) -> list[Block]:
    """The whole report: overview, comparison (several runs), each run, methods; or the
    fleet view (`kind` fleet)."""
    if report.get("kind") == "fleet":
        from vatio.report.fleet_doc import fleet_document

        return fleet_document(report)
    ids = ", ".join(r["id"] for r in report["runs"])
    blocks: list[Block] = [
        Heading(1, "vatio energy report"),
        Para(
            f"Runs {ids}. Generated {report['generated_at']} by {report['generator']}"
            + (f" from {report['store']}." if report["store"] else ".")
        ),
        Para(
            "Every figure gives its method; estimated figures give a low–high range. "
            "Measured and estimated energy are shown apart where a run has both."
        ),
    ]
    if not report.get("verified"):
        blocks.insert(
            1,
            Para(
                "WARNING: the figures below are not verified against the signed log of runs "
                "(see each run's 'signed log' row); they may have been changed after they "
                "were recorded. `vatio ledger verify` says what holds.",
                note=True,
            ),
        )
    if report["comparison"]:
        blocks += comparison_blocks(report)
    for run in report["runs"]:
        blocks += run_blocks(run)
    blocks += [Heading(2, "Methods"), Table(["method", "what it is"], [list(m) for m in METHODS])]
    return blocks
