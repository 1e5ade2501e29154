"""Multi-node runs on the terminal: the nodes side by side, and the parts' log proofs."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vatio.cli.output import fmt_duration
from vatio.quantities import energy as fmt_energy


def logical_record(run_store: Any, ref: str) -> dict[str, Any]:
    """The record `ref` names: a group id or a part of one gives the merged run."""
    from vatio.record.group import group_of, load_group

    if run_store.group_summaries(ref):
        return load_group(run_store, ref)
    record = run_store.get(ref)
    group = group_of(record)
    return load_group(run_store, group) if group else record


def combined_proof(group_id: str, proofs: list[Any]) -> dict[str, Any]:
    """One standing for a merged run: verified when every part is."""
    failing = [p for p in proofs if not p.ok]
    sizes = {p.size for p in proofs if p.size is not None}
    return {
        "run_id": group_id,
        "verified": bool(proofs) and not failing,
        "leaf": None,
        "checkpoint_size": max(sizes) if sizes else None,
        "proof_hashes": None,
        "reason": f"part {failing[0].run_id}: {failing[0].reason}" if failing else None,
        "parts": [p.to_dict() for p in proofs],
    }


def proof_line(proof: dict[str, Any]) -> str:
    if proof.get("parts") is not None:
        leaves = ", ".join(str(p["leaf"]) for p in proof["parts"] if p["leaf"] is not None)
        if proof["verified"]:
            return (
                f"verified: {len(proof['parts'])} parts, leaves {leaves} of checkpoint "
                f"{proof['checkpoint_size']}"
            )
        return f"NOT verified: {proof['reason']}"
    if proof["verified"]:
        return f"verified: leaf {proof['leaf']} of checkpoint {proof['checkpoint_size']}"
    return f"NOT verified: {proof['reason']}"


def render_nodes(record: dict[str, Any], console: Console) -> None:
    """Each node: parts and ranks, devices measured, energy, job share, time, utilisation."""
    group = record["group"]
    table = Table(
        title=f"{len(group['nodes'])} node(s), {len(group['parts'])} part(s) of {group['id']}"
        + (f" · {group['launcher']}" if group.get("launcher") else ""),
        title_justify="left",
    )
    for column in ("node", "ranks", "devices", "energy", "job share", "time", "CPU", "GPU"):
        table.add_column(column, no_wrap=column != "devices")
    for node in group["nodes"]:
        mark = "  ← slowest" if node.get("slowest") and len(group["nodes"]) > 1 else ""
        table.add_row(
            escape(f"{node['host']}{mark}"),
            ",".join(str(r) for r in node["ranks"]) or "—",
            escape(", ".join(node["devices"]) or "none (not measured)"),
            fmt_energy(node["energy_j"]) if node["energy_j"] is not None else "—",
            fmt_energy(node["process_energy_j"]) if node["process_energy_j"] is not None else "—",
            fmt_duration(node["duration_s"]),
            _pct(node["cpu_utilisation"]),
            _pct(node["gpu_utilisation"]),
        )
    console.print(table)
    notes = [
        f"total = Σ of {len(group['counted_parts'])} node part(s); "
        f"{group['devices_counted']} device(s) counted, "
        f"{group['devices_double_counted']} counted twice",
    ]
    if group.get("slowest") and len(group["nodes"]) > 1:
        notes.append(
            f"slowest node: {group['slowest']} ({fmt_duration(group['spread_s'])} behind the "
            "fastest)"
        )
    notes += group.get("left_out") or []
    for note in notes:
        console.print(escape(note), highlight=False)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"
