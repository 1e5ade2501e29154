"""The fleet view as data: energy and carbon of many runs, grouped by user, project, host or
grid zone, with the top consumers and a trend (`vatio report --since 30d --group-by user`).

It reads the summary columns only (no record is parsed to aggregate), after checking in
one pass that the signed log vouches for those columns (`record.audit.verify_many`);
runs it does not vouch for are counted and flagged, never hidden. A multi-node job counts
as one run; its rank parts carry no energy, so sums never count a node twice. Runs
measured inside another run (a test inside its pytest session, a federated client inside
its FL run) are left out, their energy being part of their parent's.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from vatio.report.figures import J_PER_KWH, basis_of, figure

GROUP_BY = {"user": "username", "project": "project", "host": "host", "zone": "zone"}
#: kinds whose energy is already inside their parent run's
CONTAINED_KINDS = ("test", "fl-client", "fl-server")
COLUMNS = ("id", "kind", "status", "name", "command", "started_at", "duration_s", "energy_j",
           "energy_low_j", "energy_high_j", "co2e_g", "method", "zone", "host", "username",
           "project", "group_id")  # fmt: skip
#: at most this many unverified runs are listed by id (all are counted)
LISTED_UNVERIFIED = 50
#: the trend plot shows this many groups by name, the rest as "others"
TREND_GROUPS = 8


def _kwh(joules: float | None) -> float | None:
    return None if joules is None else joules / J_PER_KWH


def fleet_report(
    store: Any,
    where: Any,
    group_by: str,
    *,
    verifiers: list[Any],
    top: int = 10,
    now: datetime | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """The fleet report's data (the JSON format; HTML and Markdown render it)."""
    from vatio import __version__
    from vatio.record.audit import verify_many
    from vatio.redact import redact_url

    now = now or datetime.now(UTC)
    rows = store.finished_rows(where, COLUMNS)
    excluded: dict[str, int] = {}
    kept = []
    for row in rows:
        if row["kind"] in CONTAINED_KINDS:
            excluded[row["kind"]] = excluded.get(row["kind"], 0) + 1
        else:
            kept.append(row)
    proofs = verify_many(store, [r["id"] for r in kept], verifiers, progress)
    runs = _logical_runs(kept, proofs, GROUP_BY[group_by])
    groups = _groups(runs)
    total_j = math.fsum(r["energy_j"] for r in runs if r["energy_j"] is not None)
    for group in groups:
        group["share_pct"] = group["energy_kwh"] * J_PER_KWH / total_j * 100 if total_j else None
    unverified = [r for r in runs if not r["verified"]]
    generated = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "report_version": 1,
        "kind": "fleet",
        "generator": f"vatio {__version__}",
        "generated_at": generated,
        "store": redact_url(store.display_url),
        "window": {"since": where.since, "until": generated, "filters": _filters(where)},
        "group_by": group_by,
        "totals": _totals(runs),
        "groups": groups,
        "top_runs": [_top(r) for r in sorted(runs, key=_energy_key, reverse=True)[:top]],
        "trend": _trend(runs, where.since, now),
        "excluded": {
            "kinds": excluded,
            "note": "runs measured inside another run (tests inside their pytest session, "
            "federated clients and servers inside their FL run) are left out: their energy is "
            "part of their parent's",
        },
        "verification": {
            "checked": len(kept),
            "verified": sum(1 for p in proofs.values() if p.ok),
            "unverified_runs": len(unverified),
            "listed": [
                {"id": r["id"], "reason": r["reason"]} for r in unverified[:LISTED_UNVERIFIED]
            ],
        },
        "verified": not unverified,
    }


def _filters(where: Any) -> dict[str, str]:
    return {k: v for k in ("user", "project", "host") if (v := getattr(where, k))}


def _logical_runs(
    rows: list[dict[str, Any]], proofs: dict[str, Any], column: str
) -> list[dict[str, Any]]:
    """One entry per run, the parts of a multi-node job summed into one."""
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = row["group_id"] or row["id"]
        proof = proofs.get(row["id"])
        basis = basis_of(row["method"]) if row["energy_j"] is not None else None
        entry = merged.get(key)
        if entry is None:
            entry = merged[key] = {
                "id": key,
                "parts": 0,
                "name": row["name"],
                "command": row["command"],
                "kind": row["kind"],
                "started_at": row["started_at"],
                "key": row[column] if row[column] is not None else "(unknown)",
                "user": row["username"],
                "project": row["project"],
                "hosts": set(),
                "zones": set(),
                "energy": [],
                "low": [],
                "high": [],
                "co2e": [],
                "bases": set(),
                "methods": set(),
                "verified": True,
                "reason": None,
                "missing_carbon": False,
            }
        entry["parts"] += 1
        entry["started_at"] = min(entry["started_at"], row["started_at"])
        entry["hosts"].add(row["host"])
        if row["zone"]:
            entry["zones"].add(row["zone"])
        if row["energy_j"] is not None:
            entry["energy"].append(row["energy_j"])
            entry["low"].append(row["energy_low_j"])
            entry["high"].append(row["energy_high_j"])
            entry["bases"].add(basis)
            entry["methods"].update((row["method"] or "").split("+"))
            if row["co2e_g"] is None:
                entry["missing_carbon"] = True
            else:
                entry["co2e"].append(row["co2e_g"])
        if proof is None or not proof.ok:
            entry["verified"] = False
            entry["reason"] = entry["reason"] or (proof.reason if proof else "not checked")
    runs = []
    for entry in merged.values():
        bases = entry.pop("bases")
        entry["basis"] = bases.pop() if len(bases) == 1 else ("mixed" if bases else None)
        energy, co2e = entry.pop("energy"), entry.pop("co2e")
        entry["energy_j"] = math.fsum(energy) if energy else None
        low, high = entry.pop("low"), entry.pop("high")
        entry["energy_low_j"] = math.fsum(low) if low and None not in low else None
        entry["energy_high_j"] = math.fsum(high) if high and None not in high else None
        entry["co2e_g"] = math.fsum(co2e) if co2e and not entry["missing_carbon"] else None
        entry["method"] = "+".join(sorted(m for m in entry.pop("methods") if m)) or None
        entry["hosts"] = sorted(h for h in entry["hosts"] if h)
        entry["zones"] = sorted(entry["zones"])
        runs.append(entry)
    return runs


def _energy_key(run: dict[str, Any]) -> float:
    return run["energy_j"] if run["energy_j"] is not None else -1.0


def _split(runs: list[dict[str, Any]]) -> dict[str, float]:
    by_basis = {"measured": 0.0, "estimated": 0.0, "mixed": 0.0}
    for run in runs:
        if run["energy_j"] is not None and run["basis"] in by_basis:
            by_basis[run["basis"]] += run["energy_j"] / J_PER_KWH
    return by_basis


def _carbon(runs: list[dict[str, Any]]) -> tuple[float | None, int]:
    with_energy = [r for r in runs if r["energy_j"] is not None]
    known = [r["co2e_g"] for r in with_energy if r["co2e_g"] is not None]
    return (math.fsum(known) if known else None), len(with_energy) - len(known)


def _totals(runs: list[dict[str, Any]]) -> dict[str, Any]:
    energy = [r["energy_j"] for r in runs if r["energy_j"] is not None]
    low = [r["energy_low_j"] for r in runs if r["energy_j"] is not None]
    high = [r["energy_high_j"] for r in runs if r["energy_j"] is not None]
    split = _split(runs)
    bases = [b for b, v in split.items() if v]
    basis = bases[0] if len(bases) == 1 else ("mixed" if bases else "none")
    co2e, without = _carbon(runs)
    method = "sum of the recorded runs' machine energy (summary columns, checked against the log)"
    return {
        "runs": len(runs),
        "parts": sum(r["parts"] for r in runs),
        "runs_without_energy": sum(1 for r in runs if r["energy_j"] is None),
        "energy": figure(
            _kwh(math.fsum(energy)) if energy else None,
            "kWh",
            method,
            basis,
            _kwh(math.fsum(low)) if low and None not in low else None,
            _kwh(math.fsum(high)) if high and None not in high else None,
        ),
        "energy_by_basis_kwh": split,
        "co2e": figure(co2e, "gCO2e", "sum of the recorded runs' carbon", basis)
        if co2e is not None
        else None,
        "runs_without_carbon": without,
        "unverified_runs": sum(1 for r in runs if not r["verified"]),
    }


def _groups(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_key.setdefault(str(run["key"]), []).append(run)
    groups = []
    for key, members in by_key.items():
        energy = [r["energy_j"] for r in members if r["energy_j"] is not None]
        co2e, without = _carbon(members)
        biggest = max(members, key=_energy_key)
        groups.append(
            {
                "key": key,
                "runs": len(members),
                "energy_kwh": _kwh(math.fsum(energy)) if energy else 0.0,
                "energy_by_basis_kwh": _split(members),
                "co2e_g": co2e,
                "runs_without_carbon": without,
                "unverified_runs": sum(1 for r in members if not r["verified"]),
                "top_run": biggest["id"] if biggest["energy_j"] is not None else None,
                "share_pct": None,
            }
        )
    return sorted(groups, key=lambda g: (-g["energy_kwh"], g["key"]))


def _top(run: dict[str, Any]) -> dict[str, Any]:
    command = run["command"]
    if isinstance(command, str):
        import json

        try:
            command = " ".join(json.loads(command))
        except (ValueError, TypeError):
            command = None
    return {
        "id": run["id"],
        "what": command or run["name"] or run["kind"],
        "key": run["key"],
        "user": run["user"],
        "project": run["project"],
        "hosts": run["hosts"],
        "parts": run["parts"],
        "started_at": run["started_at"],
        "energy_kwh": _kwh(run["energy_j"]),
        "co2e_g": run["co2e_g"],
        "method": run["method"],
        "basis": run["basis"],
        "verified": run["verified"],
    }


def _trend(runs: list[dict[str, Any]], since: str | None, now: datetime) -> dict[str, Any]:
    """Energy (kWh) per UTC day — or week, for windows over 120 days — per group."""
    starts = [r["started_at"] for r in runs]
    first = since or (min(starts) if starts else now.isoformat())
    begin = datetime.fromisoformat(first.replace("Z", "+00:00")).astimezone(UTC)
    weekly = (now - begin) > timedelta(days=120)
    step = timedelta(days=7 if weekly else 1)
    start = begin.replace(hour=0, minute=0, second=0, microsecond=0)
    if weekly:
        start -= timedelta(days=start.weekday())
    buckets = []
    moment = start
    while moment <= now:
        buckets.append(moment.date().isoformat())
        moment += step
    index = {b: i for i, b in enumerate(buckets)}
    ranked = [g["key"] for g in _groups(runs)]
    shown = ranked[:TREND_GROUPS]
    series: dict[str, list[float]] = {key: [0.0] * len(buckets) for key in shown}
    if len(ranked) > TREND_GROUPS:
        series["others"] = [0.0] * len(buckets)
    for run in runs:
        if run["energy_j"] is None:
            continue
        when = datetime.fromisoformat(run["started_at"].replace("Z", "+00:00")).astimezone(UTC)
        day = when.date() - timedelta(days=when.weekday() if weekly else 0)
        slot = index.get(day.isoformat())
        if slot is None:
            continue
        name = str(run["key"]) if str(run["key"]) in series else "others"
        series[name][slot] += run["energy_j"] / J_PER_KWH
    return {"bucket": "week" if weekly else "day", "buckets": buckets, "series_kwh": series}
