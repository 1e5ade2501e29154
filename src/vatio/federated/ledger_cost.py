"""What the permissioned ledger costs, next to what proof-of-work would (§5.1).

Measured side: the CPU time the ledger's work took in each process (signing
and checking updates, proofs, checkpoints, cosignatures), turned into joules
with the J per CPU-second that vatio measured for the round's processes.
Cited side: the electricity per transaction of Bitcoin's proof-of-work, as
estimated by the Digiconomist Bitcoin Energy Consumption Index (A. de Vries):
222 kWh per transaction in early 2018 (as reported at the time) and 705 kWh
in 2021-2022 (the index's figure quoted in 2022-2024 coverage). The
comparison is per entry, as if each ledger entry were one transaction; a
proof-of-work chain spends its energy per block, whatever it holds, so this
is an allocation, not a marginal cost.
"""

from __future__ import annotations

from typing import Any

POW_KWH_PER_TX = {"low": 222.0, "high": 705.0}
POW_SOURCE = (
    "Digiconomist Bitcoin Energy Consumption Index (de Vries), digiconomist.net/"
    "bitcoin-energy-consumption: 222 kWh/transaction (early 2018) to 705 kWh (2021-2022)"
)
J_PER_KWH = 3.6e6


def round_ledger_cost(
    round_summary: dict[str, Any], processes_j: float | None = None
) -> dict[str, Any]:
    """Ledger joules of one round (estimated) and its share of the round's energy.

    Two denominators: the round's whole energy (`processes_j`: every party's process
    tree during the round, Flower's runtime included) and its training compute only
    (the ClientApp and ServerApp work), which for a tiny model is a few joules.
    """
    clients = [c for c in round_summary.get("per_client", []) if c.get("status") == "ok"]
    server = round_summary.get("server") or {}
    energy = sum(c["measure"].get("energy_j", 0.0) for c in clients) + (server.get("energy_j") or 0)
    cpu = sum(c["measure"].get("cpu_s", 0.0) for c in clients) + (server.get("cpu_s") or 0.0)
    ledger_cpu = round_summary.get("ledger_cpu_s", 0.0)
    j_per_cpu_s = energy / cpu if cpu > 0 else None
    ledger_j = ledger_cpu * j_per_cpu_s if j_per_cpu_s is not None else None
    compute = energy + (ledger_j or 0.0)
    whole = processes_j if processes_j else None
    return {
        "round": round_summary.get("round"),
        "ledger_cpu_s": ledger_cpu,
        "ledger_j": ledger_j,
        "round_energy_j": whole,
        "round_compute_j": compute,
        "ledger_pct": 100.0 * ledger_j / whole if ledger_j is not None and whole else None,
        "ledger_pct_of_compute": 100.0 * ledger_j / compute
        if ledger_j is not None and compute > 0
        else None,
        "method": "estimated: ledger CPU time x the round's measured J per CPU-second; "
        "round energy: all parties' process trees during the round (measured)",
    }


def proof_of_work(entries: int) -> dict[str, Any]:
    """The cited proof-of-work energy for as many transactions as the ledger has entries."""
    return {
        "entries": entries,
        "low_j": entries * POW_KWH_PER_TX["low"] * J_PER_KWH,
        "high_j": entries * POW_KWH_PER_TX["high"] * J_PER_KWH,
        "kwh_per_transaction": dict(POW_KWH_PER_TX),
        "source": POW_SOURCE,
        "method": "cited: entries x published kWh per Bitcoin transaction",
    }


def ledger_cost(round_rows: list[dict[str, Any]], ledger_entries: int) -> dict[str, Any]:
    """Totals over the summary's round rows (each with its "ledger" cost)."""
    rounds = [r["ledger"] for r in round_rows]
    ledger_j = sum(r["ledger_j"] or 0.0 for r in rounds)
    energy = sum(r["round_energy_j"] or 0.0 for r in rounds)
    compute = sum(r["round_compute_j"] or 0.0 for r in rounds)
    pow_ = proof_of_work(ledger_entries)
    return {
        "rounds": rounds,
        "ledger_j": ledger_j,
        "ledger_pct_of_rounds": 100.0 * ledger_j / energy if energy > 0 else None,
        "ledger_pct_of_compute": 100.0 * ledger_j / compute if compute > 0 else None,
        "max_round_pct": max((r["ledger_pct"] or 0.0 for r in rounds), default=None),
        "proof_of_work": pow_,
        "pow_over_ledger": pow_["low_j"] / ledger_j if ledger_j > 0 else None,
    }
