"""One logical run from the parts of a multi-node job (records sharing a `group_id`).

Total = Σ of the parts that measured a node (`multinode.measures_devices`); parts of
the other local ranks add their work and CPU time but no energy (theirs is inside
their node's job share already). A node measured twice over overlapping times (two
parts that both took a lock, e.g. on nodes without a shared temp folder... or a
misconfigured launcher) is counted once: the later part's energy is left out, and the
merged record says so. Sums use `math.fsum`, so the total is exactly the sum of the
parts however they are ordered. Used by `runs show`, `report`, `compare` and scaling.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

#: the worst status of the parts is the run's
_STATUS_ORDER = ("failed", "killed", "interrupted", "abandoned", "running", "completed")


def group_of(record: dict[str, Any]) -> str | None:
    """The logical run a record is a part of (None for a plain run)."""
    section = (record.get("extensions") or {}).get("multinode") or {}
    return section.get("group_id") or (record.get("summary") or {}).get("group_id")


def _section(record: dict[str, Any]) -> dict[str, Any]:
    return (record.get("extensions") or {}).get("multinode") or {}


def _host(record: dict[str, Any]) -> str:
    return str(
        _section(record).get("host")
        or (record.get("owner") or {}).get("host")
        or (record.get("summary") or {}).get("host")
        or "?"
    )


def _measures(record: dict[str, Any]) -> bool:
    section = _section(record)
    return bool(section.get("measures_devices", True)) and bool(record.get("devices"))


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _fsum(values: Iterable[float | None]) -> float | None:
    items = list(values)
    if not items or any(v is None for v in items):
        return None
    return math.fsum(v for v in items if v is not None)


def counted_parts(parts: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The parts whose energy counts (one measuring part per node at any time), and why
    any other measuring part was left out."""
    counted: list[dict[str, Any]] = []
    notes: list[str] = []
    for part in sorted(parts, key=lambda p: (_host(p), p.get("started_at") or "", p["id"])):
        if not _measures(part):
            continue
        start, end = _ts(part.get("started_at")), _ts(part.get("ended_at"))
        clash = next(
            (
                other
                for other in counted
                if _host(other) == _host(part)
                and _overlap(start, end, _ts(other.get("started_at")), _ts(other.get("ended_at")))
            ),
            None,
        )
        if clash is not None:
            notes.append(
                f"part {part['id']} measured the devices of {_host(part)} while part "
                f"{clash['id']} did too: its energy is left out (counted once)"
            )
            continue
        counted.append(part)
    return counted, notes


def _overlap(a0: float | None, a1: float | None, b0: float | None, b1: float | None) -> bool:
    if a0 is None or b0 is None:
        return True  # cannot tell: assume the worst, count once
    if a0 == b0:
        return True
    return a0 < (b1 if b1 is not None else math.inf) and b0 < (a1 if a1 is not None else math.inf)


def merge_group(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The merged record of a logical run (same layout as a run record, plus `group`)."""
    if not parts:
        raise ValueError("a logical run needs at least one part")
    group_id = group_of(parts[0]) or parts[0]["id"]
    parts = sorted(parts, key=lambda p: (p.get("started_at") or "", p["id"]))
    counted, notes = counted_parts(parts)
    counted_ids = {p["id"] for p in counted}
    first = counted[0] if counted else parts[0]
    starts = [t for p in parts if (t := p.get("started_at"))]
    ends = [t for p in parts if (t := p.get("ended_at"))]
    started, ended = min(starts) if starts else None, max(ends) if ends else None
    t0, t1 = _ts(started), _ts(ended)
    devices = [
        {**d, "name": f"{_host(p)}/{d.get('name')}", "node": _host(p), "part": p["id"]}
        for p in counted
        for d in p.get("devices") or []
    ]
    totals = _totals(counted, parts)
    record: dict[str, Any] = {
        "id": group_id,
        "name": first.get("name"),
        "command": first.get("command"),
        "status": _status(parts),
        "exit_code": next((p.get("exit_code") for p in parts if p.get("exit_code")), 0)
        if all(p.get("exit_code") is not None for p in parts)
        else None,
        "error": next((p.get("error") for p in parts if p.get("error")), None),
        "started_at": started,
        "ended_at": ended,
        "duration_s": (t1 - t0) if t0 is not None and t1 is not None else None,
        "interval_s": first.get("interval_s"),
        "devices": devices,
        "phases": [],
        "work": _work(parts),
        "idle": None,
        "hourly": _hourly(counted),
        "timeline": None,
        "carbon": _carbon(counted),
        "manifest": first.get("manifest"),
        "profile": first.get("profile"),
        "artifacts": [a for p in parts for a in p.get("artifacts") or []],
        "sampler": {},
        "overhead": None,
        "extensions": {},
        "warnings": [*notes, *(w for p in parts for w in p.get("warnings") or [])],
        "signer": None,
        "owner": _owner(parts),
        "schema_version": first.get("schema_version"),
        "totals": totals,
        "digest": None,
        "summary": {
            "kind": (first.get("summary") or {}).get("kind") or "run",
            "group_id": group_id,
            "status": _status(parts),
        },
    }
    record["group"] = {
        "id": group_id,
        "parts": [p["id"] for p in parts],
        "counted_parts": [p["id"] for p in parts if p["id"] in counted_ids],
        "nodes": _nodes(parts, counted_ids),
        "devices_counted": len(devices),
        "devices_double_counted": _double_counted(devices),
        "left_out": notes,
        **_launch(parts),
    }
    nodes = record["group"]["nodes"]
    timed = [n for n in nodes if n["duration_s"] is not None]
    if timed:
        slowest = max(timed, key=lambda n: (n["duration_s"], n["ended_at"] or ""))
        fastest = min(timed, key=lambda n: n["duration_s"])
        record["group"]["slowest"] = slowest["host"]
        record["group"]["spread_s"] = slowest["duration_s"] - fastest["duration_s"]
        for node in nodes:
            node["slowest"] = node["host"] == slowest["host"]
    else:
        record["group"]["slowest"], record["group"]["spread_s"] = None, None
    return record


def _double_counted(devices: list[dict[str, Any]]) -> int:
    """Devices (node, sensor) counted more than once in the merged total (0 by design)."""
    seen: dict[tuple[str, str], int] = {}
    for device in devices:
        key = (device["node"], str(device["name"]))
        seen[key] = seen.get(key, 0) + 1
    return sum(n - 1 for n in seen.values() if n > 1)


def _status(parts: list[dict[str, Any]]) -> str:
    found = {p.get("status") or "completed" for p in parts}
    for status in _STATUS_ORDER:
        if status in found:
            return status
    return sorted(found)[0]


def _totals(counted: list[dict[str, Any]], parts: list[dict[str, Any]]) -> dict[str, Any]:
    def total(key: str) -> float | None:
        return _fsum((p.get("totals") or {}).get(key) for p in counted)

    energy = total("energy_j")
    methods = sorted(
        {m for p in counted for m in ((p.get("totals") or {}).get("method") or "").split("+") if m}
    )
    work = _work(parts)
    return {
        "energy_j": energy,
        "energy_low_j": total("energy_low_j"),
        "energy_high_j": total("energy_high_j"),
        "measured_j": total("measured_j") or 0.0,
        "estimated_j": total("estimated_j") or 0.0,
        "process_energy_j": total("process_energy_j"),
        "method": "+".join(methods) or "none",
        "energy_per_unit_j": {
            unit: energy / count for unit, count in work.items() if energy is not None and count
        },
    }


def _work(parts: list[dict[str, Any]]) -> dict[str, float]:
    work: dict[str, list[float]] = {}
    for part in parts:
        for unit, count in (part.get("work") or {}).items():
            work.setdefault(unit, []).append(float(count))
    return {unit: math.fsum(counts) for unit, counts in work.items()}


def _hourly(counted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-hour energy of every node's devices (device names prefixed by the node)."""
    hours: dict[str, dict[str, Any]] = {}
    for part in counted:
        for hour in part.get("hourly") or []:
            slot = hours.setdefault(hour["hour"], {})
            for device, values in (hour.get("energy") or {}).items():
                slot[f"{_host(part)}/{device}"] = values
    return [{"hour": h, "energy": e} for h, e in sorted(hours.items())]


def _carbon(counted: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Σ of the parts' carbon (each computed by the recorder for its own zone and PUE)."""
    carbons = [p.get("carbon") for p in counted]
    if not carbons or any(not c or c.get("co2e_g") is None for c in carbons):
        return None
    zones = sorted({str(c.get("zone")) for c in carbons})  # type: ignore[union-attr]
    one = carbons[0]
    assert one is not None
    co2e = math.fsum(c["co2e_g"] for c in carbons)  # type: ignore[index]
    weighted = [0.0, 0.0]  # Σ energy × intensity, Σ energy
    per_hour: dict[str, dict[str, Any]] = {}
    for c in carbons:
        for hour in c.get("per_hour") or []:  # type: ignore[union-attr]
            if hour.get("intensity_g_per_kwh") is not None and hour.get("energy_j"):
                weighted[0] += hour["energy_j"] * hour["intensity_g_per_kwh"]
                weighted[1] += hour["energy_j"]
            slot = per_hour.setdefault(
                hour["hour"],
                {"hour": hour["hour"], "energy_j": 0.0, "co2e_g": 0.0, "basis": hour.get("basis")},
            )
            slot["energy_j"] += hour.get("energy_j") or 0.0
            slot["co2e_g"] += hour.get("co2e_g") or 0.0
    for slot in per_hour.values():
        kwh = slot["energy_j"] / 3.6e6
        slot["intensity_g_per_kwh"] = slot["co2e_g"] / kwh if kwh else None
    same = len(zones) == 1
    return {
        **({k: v for k, v in one.items() if k != "per_hour"} if same else {}),
        "co2e_g": co2e,
        "co2e_low_g": _fsum(c.get("co2e_low_g", c["co2e_g"]) for c in carbons),  # type: ignore[union-attr,index]
        "co2e_high_g": _fsum(c.get("co2e_high_g", c["co2e_g"]) for c in carbons),  # type: ignore[union-attr,index]
        "process_co2e_g": _fsum(c.get("process_co2e_g") for c in carbons),  # type: ignore[union-attr]
        "zone": zones[0] if same else "+".join(zones),
        "zone_name": one.get("zone_name") if same else f"{len(zones)} zones",
        "pue": one.get("pue") if same else None,
        "intensity_kind": one.get("intensity_kind"),
        "basis": one.get("basis") if same else "per node",
        "intensity_source": one.get("intensity_source") if same else "per node's zone",
        "mean_intensity_g_per_kwh": weighted[0] / weighted[1]
        if weighted[1]
        else one.get("mean_intensity_g_per_kwh"),
        "per_hour": [per_hour[h] for h in sorted(per_hour)],
        "method": "sum of the nodes' carbon (each node's energy × PUE × its zone's intensity)",
    }


def _owner(parts: list[dict[str, Any]]) -> dict[str, Any]:
    def common(key: str) -> Any:
        values = {(p.get("owner") or {}).get(key) for p in parts}
        return values.pop() if len(values) == 1 else None

    return {"user": common("user"), "project": common("project"), "host": None}


def _launch(parts: list[dict[str, Any]]) -> dict[str, Any]:
    sections = [_section(p) for p in parts]
    launchers = sorted({s.get("launcher") for s in sections if s.get("launcher")})
    sizes = [s.get("world_size") for s in sections if s.get("world_size")]
    return {
        "launcher": "+".join(launchers) or None,
        "world_size": max(sizes) if sizes else None,
        "nnodes": len({_host(p) for p in parts}),
    }


def _nodes(parts: list[dict[str, Any]], counted_ids: set[str]) -> list[dict[str, Any]]:
    """Each node side by side: its parts and ranks, energy, job share, time, utilisation."""
    by_host: dict[str, list[dict[str, Any]]] = {}
    for part in parts:
        by_host.setdefault(_host(part), []).append(part)
    rows = []
    for host, members in by_host.items():
        measuring = [p for p in members if p["id"] in counted_ids]
        attributed = {
            a.get("run_id") for p in measuring for a in _section(p).get("attributed") or []
        }
        starts = [t for p in members if (t := _ts(p.get("started_at"))) is not None]
        ends = [t for p in members if (t := _ts(p.get("ended_at"))) is not None]
        duration = (max(ends) - min(starts)) if starts and ends else None

        def total(key: str, among: list[dict[str, Any]] = measuring) -> float | None:
            return _fsum((p.get("totals") or {}).get(key) for p in among) if among else None

        energy = total("energy_j")
        gpu = [
            u
            for p in measuring
            for d in p.get("devices") or []
            if d.get("device") == "gpu"
            and isinstance(u := (d.get("details") or {}).get("mean_utilisation"), int | float)
        ]
        cpu = [
            u
            for p in measuring
            if isinstance(u := (p.get("sampler") or {}).get("cpu_utilisation"), int | float)
        ]
        rows.append(
            {
                "host": host,
                "node_rank": _node_rank(members),
                "parts": [p["id"] for p in members],
                "measuring_part": measuring[0]["id"] if measuring else None,
                "ranks": sorted(
                    r for p in members if isinstance(r := _section(p).get("rank"), int)
                ),
                "devices": [d.get("name") for p in measuring for d in p.get("devices") or []],
                "energy_j": energy,
                "energy_low_j": total("energy_low_j"),
                "energy_high_j": total("energy_high_j"),
                "process_energy_j": total("process_energy_j"),
                "method": "+".join(
                    sorted({(p.get("totals") or {}).get("method") or "none" for p in measuring})
                )
                or "none",
                "co2e_g": _fsum((p.get("carbon") or {}).get("co2e_g") for p in measuring)
                if measuring
                else None,
                "started_at": min((p.get("started_at") or "" for p in members), default=None),
                "ended_at": max((p.get("ended_at") or "" for p in members), default=None),
                "duration_s": duration,
                "mean_power_w": energy / duration if energy is not None and duration else None,
                "cpu_utilisation": sum(cpu) / len(cpu) if cpu else None,
                "gpu_utilisation": sum(gpu) / len(gpu) if gpu else None,
                "process_cpu_s": _fsum(
                    (p.get("sampler") or {}).get("process_cpu_s")
                    for p in members
                    if p["id"] not in attributed  # inside its measuring part's figure already
                ),
                "status": _status(members),
            }
        )
    return sorted(rows, key=lambda r: (r["node_rank"] is None, r["node_rank"] or 0, r["host"]))


def _node_rank(members: list[dict[str, Any]]) -> int | None:
    ranks = [r for p in members if isinstance(r := _section(p).get("node_rank"), int)]
    return ranks[0] if ranks else None


# -- reading logical runs from a store ------------------------------------------------------
def logical_records(store: Any, run_ids: list[str]) -> list[dict[str, Any]]:
    """Full records for run ids, each part of a multi-node job replaced by its merged run
    (once, where its first part appears)."""
    out: list[dict[str, Any]] = []
    done: set[str] = set()
    for run_id in run_ids:
        record = store.get(run_id)
        group = group_of(record)
        if group is None:
            out.append(record)
            continue
        if group in done:
            continue
        done.add(group)
        out.append(load_group(store, group))
    return out


def load_group(store: Any, group_id: str) -> dict[str, Any]:
    """The merged record of the logical run `group_id` as stored now."""
    from vatio.store.runstore import record_of_row

    parts = []
    for row in store.group_rows(group_id):
        part = record_of_row(row, store.display_url)
        for key in ("started_at", "ended_at", "duration_s"):  # a part still running
            part.setdefault(key, row.get(key))
        parts.append(part)
    return merge_group(parts)
