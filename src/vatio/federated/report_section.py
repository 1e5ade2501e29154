"""The federated-learning section of a report, as renderer-neutral data.

`fl_section(folder)` returns plain JSON-able data: paragraphs, tables (headers
and string rows) and charts (bars per client, lines per round, with ranges),
plus the raw figures under "data". `vatio report` turns them into its own
blocks for HTML, Markdown and JSON; nothing here imports the report layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _j(value: float | None) -> str:
    from vatio.quantities import energy

    return energy(value)


def _range(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "—"
    if low is None or high is None:
        return _j(value)
    return f"{_j(value)} ({_j(low)}–{_j(high)})"


def fl_section(source: str | Path | dict[str, Any]) -> dict[str, Any]:
    """The FL section from a run folder (or its loaded summary.json)."""
    from vatio.federated.summary import load_summary

    summary = source if isinstance(source, dict) else load_summary(source)
    clients = summary["clients"]
    rounds = summary["rounds"]
    ledger = summary["ledger"]
    cost = ledger.get("cost", {})
    client_rows = []
    for c in clients:
        rec = c.get("record", {})
        client_rows.append(
            [
                c["client"],
                c.get("zone") or "—",
                f"{c['rounds_ok']}/{len(c['statuses'])}",
                _range(rec.get("energy_j"), rec.get("low_j"), rec.get("high_j")),
                _j(c.get("train_energy_j")),
                f"{c.get('bytes_down', 0) + c.get('bytes_up', 0):,} B",
                "—" if rec.get("co2e_g") is None else f"{rec['co2e_g']:.3g} g",
                ", ".join(f"exit {f['exit_code']}" for f in c.get("task_failures", [])) or "—",
            ]
        )
    round_rows = []
    for r in rounds:
        acc = r["metrics"].get("accuracy")
        slowest = r.get("slowest") or {}
        round_rows.append(
            [
                str(r["round"]),
                "—" if acc is None else f"{acc * 100:.1f}%",
                _range(r["energy_j"], r.get("low_j"), r.get("high_j")),
                "—" if r.get("wall_s") is None else f"{r['wall_s']:.1f} s",
                f"{slowest.get('client', '—')}",
                ", ".join(f"{k}: {v}" for k, v in r["clients"].items() if v != "ok") or "all ok",
                str(len(r.get("cosigners", []))),
                "—"
                if (r.get("ledger") or {}).get("ledger_pct") is None
                else f"{r['ledger']['ledger_pct']:.2f}%",
            ]
        )
    pow_ = cost.get("proof_of_work", {})
    paragraphs = [
        f"Federated run {summary['run_id']}: {len(clients)} clients, {len(rounds)} rounds on "
        f"Flower's deployment engine over 127.0.0.1; final accuracy "
        f"{_pct(summary.get('final_accuracy'))}; wall time {summary['wall_s']:.1f} s.",
        f"Ledger: {ledger['summary']}",
        f"Ledger cost: {_j(cost.get('ledger_j'))} "
        f"({_pct_plain(cost.get('ledger_pct_of_rounds'))} of the rounds' energy, estimated from "
        "its CPU time); a proof-of-work chain would spend "
        f"{_j(pow_.get('low_j'))}–{_j(pow_.get('high_j'))} for the same "
        f"{pow_.get('entries', 0)} entries (cited: {pow_.get('source', '')}).",
        "Per-client energy is each client's whole process tree (SuperNode, ClientApp "
        "processes, host) as vatio attributed it; training energy is what the ClientApp "
        "processes measured while training. Bytes are Flower payload bytes.",
    ]
    return {
        "title": "Federated learning",
        "paragraphs": paragraphs,
        "tables": [
            {
                "title": "Clients",
                "headers": [
                    "client",
                    "zone",
                    "rounds ok",
                    "energy (process tree)",
                    "training energy",
                    "bytes",
                    "carbon",
                    "crashes",
                ],
                "rows": client_rows,
            },
            {
                "title": "Rounds",
                "headers": [
                    "round",
                    "accuracy",
                    "energy (range)",
                    "wall",
                    "slowest",
                    "clients",
                    "cosigners",
                    "ledger",
                ],
                "rows": round_rows,
            },
        ],
        "charts": [
            {
                "kind": "bar",
                "title": "Energy per client (process tree)",
                "unit": "J",
                "labels": [c["client"] for c in clients],
                "values": [c.get("record", {}).get("energy_j") for c in clients],
                "low": [c.get("record", {}).get("low_j") for c in clients],
                "high": [c.get("record", {}).get("high_j") for c in clients],
            },
            {
                "kind": "line",
                "title": "Accuracy and energy per round",
                "x": [r["round"] for r in rounds],
                "series": {
                    "accuracy": [r["metrics"].get("accuracy") for r in rounds],
                    "energy_j": [r["energy_j"] for r in rounds],
                },
            },
        ],
        "ledger": {
            "verified": ledger["verified"],
            "summary": ledger["summary"],
            "quorum": ledger.get("report", {}).get("quorum"),
            "rounds": ledger.get("report", {}).get("rounds", []),
        },
        "data": {
            "run_id": summary["run_id"],
            "final_accuracy": summary.get("final_accuracy"),
            "ledger_cost": cost,
        },
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _pct_plain(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}%"
