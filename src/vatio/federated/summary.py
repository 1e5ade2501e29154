"""The summary of a federated run: clients, rounds, bytes, records, ledger and its cost.

Written as `summary.json` in the run folder; read by reports, provenance and
the comparison with centralised training.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vatio.errors import InputError
from vatio.federated.plan import RunPlan

SUMMARY = "summary.json"


def record_of(result: Any) -> dict[str, Any]:
    from vatio.federated.recording import record_summary

    return record_summary(result)


def summarise(
    plan: RunPlan, recorder: Any, wall_s: float, status: str, green: dict[str, Any] | None
) -> dict[str, Any]:
    """Everything a person, a report or provenance needs about the run."""
    from vatio.federated.ledger import verify_fl_log
    from vatio.federated.ledger_cost import ledger_cost

    folder = Path(plan.folder)
    results = {}
    if plan.results_path.exists():
        results = json.loads(plan.results_path.read_text())
    if plan.auditor_key_path and plan.ledger_dir.exists():
        from vatio.federated.audit import auditor_cosign

        auditor_cosign(plan.ledger_dir, Path(plan.auditor_key_path))
    report = verify_fl_log(plan.ledger_dir, members_file=plan.members_path)
    entries = report.log.get("checked_entries") or 0
    records = {key: record_of(result) for key, result in recorder.results.items()}
    clients = []
    nodes = _node_ids(folder, len(plan.clients))
    for c in plan.clients:
        rec = records.get(f"client-{c.index}", {})
        rounds = [
            next(
                (
                    p
                    for p in r.get("per_client", [])
                    if p.get("client") == c.client_id or p.get("node_id") == nodes.get(c.index)
                ),
                None,
            )
            for r in results.get("rounds", [])
        ]
        ok = [p for p in rounds if p and p.get("status") == "ok"]
        clients.append(
            {
                "client": c.client_id,
                "index": c.index,
                "zone": c.zone,
                "record": rec,
                "rounds_ok": len(ok),
                "statuses": [p.get("status") if p else "absent" for p in rounds],
                "train_energy_j": sum(p["measure"].get("energy_j", 0.0) for p in ok),
                "train_cpu_s": sum(p["measure"].get("cpu_s", 0.0) for p in ok),
                "bytes_down": sum(p.get("bytes_down", 0) for p in rounds if p),
                "bytes_up": sum(p.get("bytes_up", 0) for p in ok),
                "samples": sum(p.get("samples", 0) for p in ok),
                "crash_round": c.crash_round,
                "unlisted": c.unlisted,
                "tamper": c.tamper,
                "task_failures": _task_failures(folder, c.index),
            }
        )
    rounds = [_round_row(r, records) for r in results.get("rounds", [])]
    party_energy = sum(v.get("energy_j") or 0.0 for k, v in records.items() if k != "run")
    return {
        "run_id": plan.run_id,
        "status": status,
        "folder": str(folder),
        "wall_s": wall_s,
        "plan": {k: v for k, v in plan.to_dict().items() if k != "clients"},
        "clients": clients,
        "rounds": rounds,
        "initial_metrics": results.get("initial_metrics", {}),
        "final": results.get("final", {}),
        "final_accuracy": (rounds[-1]["metrics"].get("accuracy") if rounds else None),
        "energy": {
            "parties_j": party_energy,
            "machine_j": None,
            "method": "process trees of the server and client hosts (vatio attribution)",
        },
        "bytes": {
            "down": sum(r["bytes_down"] for r in rounds),
            "up": sum(r["bytes_up"] for r in rounds),
            "note": "payload bytes of Flower records; HTTP and protobuf framing not counted",
        },
        "ledger": {
            "path": str(plan.ledger_dir),
            "verified": report.ok,
            "summary": report.summary(),
            "report": report.to_dict(),
            "cost": ledger_cost(rounds, entries),
        },
        "green": green,
        "records": records,
    }


def _node_ids(folder: Path, clients: int) -> dict[int, int]:
    """Client index -> Flower node id, from each SuperNode's log (a reply may never come)."""
    import re

    out = {}
    for index in range(clients):
        try:
            text = (folder / "logs" / f"supernode-{index}.log").read_text(errors="replace")
        except OSError:
            continue
        found = re.search(r"SuperNode ID: (\d+)", text)
        if found:
            out[index] = int(found.group(1))
    return out


def _task_failures(folder: Path, index: int) -> list[dict[str, Any]]:
    """ClientApp task processes of one client that did not exit cleanly (crashes)."""
    path = folder / "tasks" / f"client-{index}.jsonl"
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("exit_code") != 0]


def _round_row(r: dict[str, Any], records: dict[str, Any]) -> dict[str, Any]:
    from vatio.federated.ledger_cost import round_ledger_cost
    from vatio.federated.recording import window_energy

    energy = r.get("energy", {})
    window = [
        window_energy(
            rec.get("timeline"),
            r.get("started") or 0.0,
            (r.get("started") or 0.0) + (r.get("wall_s") or 0.0),
        )
        for key, rec in records.items()
        if key != "run"
    ]
    processes_j = sum(w for w in window if w is not None) if any(window) else None
    clients_j = energy.get("clients_j") or 0.0
    server_j = energy.get("server_j") or 0.0
    return {
        "round": r["round"],
        "metrics": r.get("metrics", {}),
        "wall_s": r.get("wall_s"),
        "energy_j": clients_j + server_j,
        "low_j": (energy.get("clients_low_j") or 0.0) + (energy.get("server_low_j") or 0.0),
        "high_j": (energy.get("clients_high_j") or 0.0) + (energy.get("server_high_j") or 0.0),
        "method": energy.get("method"),
        "clients": r.get("clients", {}),
        "slowest": r.get("slowest"),
        "bytes_down": r.get("bytes", {}).get("down", 0),
        "bytes_up": r.get("bytes", {}).get("up", 0),
        "cosigners": r.get("cosigners", []),
        "processes_j": processes_j,
        "ledger": round_ledger_cost(r, processes_j),
    }


def party_section(plan: RunPlan, key: str) -> dict[str, Any]:
    """The "federated" section of a server's or client's record: which run, which party."""
    section: dict[str, Any] = {"run_id": plan.run_id, "folder": plan.folder}
    if key == "server":
        return {**section, "role": "server", "rounds": plan.rounds, "quorum": plan.quorum}
    client = plan.client(int(key.split("-")[1]))
    return {**section, "role": "client", "client": client.client_id, "zone": client.zone,
            "unlisted": client.unlisted, "crash_round": client.crash_round}  # fmt: skip


def summary_section(summary: dict[str, Any]) -> dict[str, Any]:
    """The "fl" section of the run record: small, JSON, no logs."""
    return {
        "run_id": summary["run_id"],
        "folder": summary["folder"],
        "rounds": [
            {k: r[k] for k in ("round", "metrics", "energy_j", "low_j", "high_j", "wall_s")}
            for r in summary["rounds"]
        ],
        "clients": [
            {k: c[k] for k in ("client", "zone", "rounds_ok", "train_energy_j", "bytes_up")}
            for c in summary["clients"]
        ],
        "final": summary["final"],
        "ledger": {
            "verified": summary["ledger"]["verified"],
            "summary": summary["ledger"]["summary"],
        },
    }


def load_summary(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / SUMMARY
    if not path.is_file():
        raise InputError(f"{folder} holds no federated run summary ({SUMMARY}).")
    return json.loads(path.read_text(encoding="utf-8"))
