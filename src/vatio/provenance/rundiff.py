"""What changed between two recorded runs: environment, hardware, profile, code, energy."""

from __future__ import annotations

from typing import Any

from vatio.provenance.approved import diff_sets


def _packages(record: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["version"] for p in (record.get("manifest") or {}).get("packages", [])}


def _hardware(record: dict[str, Any]) -> dict[str, Any]:
    manifest = record.get("manifest") or {}
    cpu = manifest.get("cpu") or {}
    return {
        "cpu": cpu.get("model"),
        "logical_cpus": cpu.get("logical_cores") or cpu.get("logical"),
        "memory_gb": manifest.get("memory_gb"),
        "gpus": [g.get("name") for g in manifest.get("gpus") or []],
        "os": (manifest.get("os") or {}).get("platform"),
        "python": (manifest.get("python") or {}).get("version"),
        "hostname": manifest.get("hostname"),
    }


def _changed(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list]:
    return {k: [a.get(k), b.get(k)] for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)}


def _delta(a: float | None, b: float | None) -> dict[str, float | None]:
    if a is None or b is None:
        return {"a": a, "b": b, "delta": None, "pct": None}
    return {"a": a, "b": b, "delta": b - a, "pct": (b - a) / a * 100 if a else None}


def diff_runs(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    profile_a = {k: v for k, v in (a.get("profile") or {}).items() if k != "sources"}
    profile_b = {k: v for k, v in (b.get("profile") or {}).items() if k != "sources"}
    git_a = (a.get("manifest") or {}).get("git") or {}
    git_b = (b.get("manifest") or {}).get("git") or {}
    totals_a, totals_b = a.get("totals") or {}, b.get("totals") or {}
    return {
        "runs": [a.get("id"), b.get("id")],
        "command": [a.get("command"), b.get("command")],
        "packages": diff_sets(_packages(a), _packages(b)),
        "hardware": _changed(_hardware(a), _hardware(b)),
        "profile": _changed(profile_a, profile_b),
        "git": _changed(git_a, git_b),
        "lockfile": _changed(
            (a.get("manifest") or {}).get("lockfile") or {},
            (b.get("manifest") or {}).get("lockfile") or {},
        ),
        "energy_j": _delta(totals_a.get("energy_j"), totals_b.get("energy_j")),
        "process_energy_j": _delta(
            totals_a.get("process_energy_j"), totals_b.get("process_energy_j")
        ),
        "co2e_g": _delta(
            (a.get("carbon") or {}).get("co2e_g"), (b.get("carbon") or {}).get("co2e_g")
        ),
        "duration_s": _delta(a.get("duration_s"), b.get("duration_s")),
        "methods": [totals_a.get("method"), totals_b.get("method")],
    }
