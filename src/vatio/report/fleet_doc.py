"""The fleet report as a document (headings, tables, plots) from its data (report/fleet.py)."""

from __future__ import annotations

from typing import Any

from vatio.report.blocks import Block, Details, Heading, Para, Plot, Table
from vatio.report.figures import fmt_number, fmt_range


def _kwh(value: float | None) -> str:
    from vatio.quantities import energy

    return "—" if value is None else energy(value * 3.6e6)


def _grams(value: float | None) -> str:
    from vatio.quantities import carbon

    return "—" if value is None else carbon(value)


def fleet_document(report: dict[str, Any]) -> list[Block]:
    """Overview, totals, groups, trend, top consumers, runs not vouched for, what is counted."""
    window = report["window"]
    by = report["group_by"]
    filters = ", ".join(f"{k} {v}" for k, v in window["filters"].items())
    blocks: list[Block] = [
        Heading(1, f"vatio fleet report by {by}"),
        Para(
            f"Runs started since {window['since'] or 'the first run'} (UTC)"
            + (f", {filters}" if filters else "")
            + f". Generated {report['generated_at']} by {report['generator']} from "
            f"{report['store']}."
        ),
    ]
    verification = report["verification"]
    if not report["verified"]:
        blocks.append(
            Para(
                f"WARNING: {verification['unverified_runs']} of {report['totals']['runs']} runs "
                "are NOT vouched for by the signed log of runs (listed below); they are "
                "counted and flagged, but their figures may have been changed after they were "
                "recorded. `vatio ledger verify` says what holds.",
                note=True,
            )
        )
    totals = report["totals"]
    split = totals["energy_by_basis_kwh"]
    rows = [
        ["runs", f"{totals['runs']} ({totals['parts']} records; a multi-node job is one run)"],
        ["energy", f"{fmt_range(totals['energy'])} [{totals['energy']['basis']}]"],
        ["of which measured / estimated / mixed",
         f"{_kwh(split['measured'])} / {_kwh(split['estimated'])} / {_kwh(split['mixed'])}"],
        ["carbon", fmt_range(totals["co2e"]) if totals["co2e"] else "—"],
        ["runs without carbon (no grid zone)", str(totals["runs_without_carbon"])],
        ["runs without energy", str(totals["runs_without_energy"])],
        ["signed log",
         f"{verification['verified']} of {verification['checked']} records verified in one "
         "pass" + ("" if report["verified"] else f"; {totals['unverified_runs']} runs flagged")],
    ]  # fmt: skip
    blocks += [Table(["", ""], rows)]
    blocks += [Heading(2, f"By {by}"), Plot("fleet_groups_plot", report, f"Energy by {by}")]
    blocks.append(
        Table(
            [
                by,
                "runs",
                "energy",
                "share",
                "measured",
                "estimated",
                "carbon",
                "no carbon",
                "not verified",
                "largest run",
            ],
            [
                [
                    g["key"],
                    str(g["runs"]),
                    _kwh(g["energy_kwh"]),
                    "—" if g["share_pct"] is None else f"{g['share_pct']:.0f}%",
                    _kwh(g["energy_by_basis_kwh"]["measured"]),
                    _kwh(g["energy_by_basis_kwh"]["estimated"]),
                    _grams(g["co2e_g"]),
                    str(g["runs_without_carbon"]),
                    str(g["unverified_runs"]),
                    g["top_run"] or "—",
                ]
                for g in report["groups"]
            ],
        )
    )
    trend = report["trend"]
    blocks += [
        Heading(2, f"Trend per {trend['bucket']}"),
        Plot("fleet_trend_plot", report, f"Energy per {trend['bucket']} by {by}"),
    ]
    names = list(trend["series_kwh"])
    trend_rows = [
        [bucket, *(fmt_number(trend["series_kwh"][n][i] * 3.6e3) for n in names)]
        for i, bucket in enumerate(trend["buckets"])
        if any(trend["series_kwh"][n][i] for n in names)
    ]
    if trend_rows:
        blocks.append(
            Details(
                f"Energy per {trend['bucket']} (Wh)",
                [Table([trend["bucket"], *names], trend_rows)],
            )
        )
    blocks += [Heading(2, "Top consumers")]
    blocks.append(
        Table(
            [
                "run",
                "what",
                by,
                "user",
                "project",
                "hosts",
                "started (UTC)",
                "energy",
                "carbon",
                "method",
                "signed log",
            ],
            [
                [
                    r["id"] + (f" ({r['parts']} parts)" if r["parts"] > 1 else ""),
                    str(r["what"])[:60],
                    str(r["key"]),
                    r["user"] or "—",
                    r["project"] or "—",
                    ", ".join(r["hosts"]) or "—",
                    str(r["started_at"])[:16].replace("T", " "),
                    _kwh(r["energy_kwh"]),
                    _grams(r["co2e_g"]),
                    r["method"] or "—",
                    "verified" if r["verified"] else "NOT verified",
                ]
                for r in report["top_runs"]
            ],
        )
    )
    if verification["listed"]:
        shown = len(verification["listed"])
        blocks += [
            Heading(2, "Runs the signed log does not vouch for"),
            Table(["record", "why"], [[u["id"], u["reason"]] for u in verification["listed"]]),
        ]
        if verification["unverified_runs"] > shown:
            blocks.append(Para(f"… and {verification['unverified_runs'] - shown} more."))
    excluded = report["excluded"]
    counted = ", ".join(f"{n} {kind}" for kind, n in excluded["kinds"].items())
    blocks += [
        Heading(2, "What is counted"),
        Para(
            "Energy is each run's machine energy as recorded (its devices, with their "
            "methods); measured and estimated energy are shown apart. Carbon is each run's "
            "recorded carbon (energy × PUE × grid intensity hour by hour, computed once when "
            "it was recorded); runs without a grid zone have none. "
            + excluded["note"][0].upper() + excluded["note"][1:]
            + (f" (left out here: {counted})." if counted else ".")
        ),
    ]  # fmt: skip
    return blocks
