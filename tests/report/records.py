"""Realistic run records for report and checklist tests, built without measuring anything.

A record is a real RunResult (timeline, hourly energy, carbon from the real
accounting, a manifest shaped like collect_manifest's) written to a real store.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vatio.carbon.accounting import run_carbon
from vatio.config import Profile
from vatio.measure.result import DeviceEnergy, PhaseResult, RunResult
from vatio.record.context import RecordContext
from vatio.record.recorder import Entry, Recorder, record_text

START = datetime(2022, 6, 1, 10, 0, tzinfo=UTC)  # inside the bundled hourly ES data
PACKAGES = {"numpy": "2.0.0", "torch": "2.3.0", "vatio": "0.1.0"}


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def manifest(
    packages: dict[str, str] | None = None,
    kinds: tuple[str, ...] = ("venv",),
    cpu: str = "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz",
    gpus: list[dict[str, Any]] | None = None,
    commit: str | None = "a" * 40,
    memory_gb: float = 64.0,
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "python": {"version": "3.11.7", "implementation": "CPython", "executable": "/p/bin/python"},
        "os": {"system": "Linux", "platform": "Linux-6.1-x86_64"},
        "cpu": {"model": cpu, "logical_cores": 8, "physical_cores": 4},
        "memory_gb": memory_gb,
        "gpus": gpus or [],
        "packages": [{"name": n, "version": v} for n, v in sorted((packages or PACKAGES).items())],
        "lockfile": {"path": "requirements.txt", "kind": "requirements", "sha256": "b" * 64},
        "git": {"commit": commit, "branch": "main", "dirty": False} if commit else None,
        "environment": {"kinds": list(kinds), "prefix": "/p", "base_prefix": "/usr"},
        "env_vars": {"OMP_NUM_THREADS": "4"},
        "command": ["python", "train.py"],
        "profile": None,
        "hostname": "node-1",
        "collected_at": iso(START),
        "collection_errors": [],
    }


def device(kind: str, watts: float, duration: float, **details: Any) -> DeviceEnergy:
    """A device drawing `watts` on average, with the method and range its kind implies."""
    methods = {
        "cpu": ("cpu:estimated", "estimated:tdp", 0.5, 1.1),
        "memory": ("memory:estimated", "estimated:memory", 0.5, 1.5),
        "gpu": ("gpu:0", "measured:nvml-counter", 1.0, 1.0),
        "rapl": ("cpu:package-0", "measured:rapl", 1.0, 1.0),
    }
    name, method, low, high = methods[kind]
    energy = watts * duration
    info = {"name": name, "device": "cpu" if kind == "rapl" else kind, "method": method}
    if kind == "cpu":
        info["tdp_w"] = details.pop("tdp_w", 100.0)
        info["assumptions"] = ["power = TDP x machine CPU utilisation"]
    if kind == "gpu":
        info.update(model="NVIDIA A100", power_limit_w=details.pop("power_limit_w", 400.0))
    info.update(details)
    return DeviceEnergy(
        name=name,
        device=info["device"],
        method=method,
        energy_j=energy,
        low_j=energy * low,
        high_j=energy * high,
        process_energy_j=energy * 0.8,
        details=info,
    )


def make_result(
    *,
    devices: list[DeviceEnergy] | None = None,
    duration: float = 60.0,
    zone: str | None = "ES",
    work: dict[str, float] | None = None,
    phases: int = 2,
    start: datetime = START,
    **fields: Any,
) -> RunResult:
    """A completed run; `fields` override RunResult fields (manifest, schedule, command...)."""
    devices = devices or [device("cpu", 50.0, duration), device("memory", 5.0, duration)]
    points = max(int(duration), 1)
    step = duration / points
    t0 = [start.timestamp() + i * step for i in range(points)]
    timeline = {
        "t0": t0,
        "t1": [t + step for t in t0],
        "power_w": {d.name: [d.energy_j / duration] * points for d in devices},
        "process_power_w": [0.0] * points,
        "merges": 0,
    }
    hourly = [
        {
            "hour": iso(start.replace(minute=0, second=0)),
            "energy": {
                d.name: [d.energy_j, d.low_j, d.high_j, d.process_energy_j or 0.0] for d in devices
            },
        }
    ]
    phase_list = []
    for i in range(phases):
        share = 1.0 / phases
        begin = start + timedelta(seconds=i * duration * share)
        total = sum(d.energy_j for d in devices) * share
        phase_list.append(
            PhaseResult(
                name=f"epoch-{i + 1}",
                started_at=iso(begin),
                ended_at=iso(begin + timedelta(seconds=duration * share)),
                duration_s=duration * share,
                energy_j=total,
                low_j=sum(d.low_j for d in devices) * share,
                high_j=sum(d.high_j for d in devices) * share,
                process_energy_j=total * 0.8,
                co2e_g=total / 3.6e6 * 200.0 if zone else None,
            )
        )
    result = RunResult(
        id=fields.pop("id", secrets.token_hex(6)),
        name=fields.pop("name", "train"),
        command=fields.pop("command", ["python", "train.py"]),
        status=fields.pop("status", "completed"),
        started_at=iso(start),
        ended_at=iso(start + timedelta(seconds=duration)),
        duration_s=duration,
        exit_code=0,
        interval_s=1.0,
        devices=devices,
        phases=phase_list,
        work=dict(work or {}),
        hourly=hourly,
        timeline=timeline,
        carbon=run_carbon(hourly, zone) if zone else None,
        manifest=fields.pop("manifest", manifest()),
        profile=fields.pop("profile", {"zone": zone, "pue": 1.0, "interval": 1.0}),
        **fields,
    )
    return result


def save(store: Path | str, result: RunResult, kind: str = "run") -> dict[str, Any]:
    """Write the run as it is (no new carbon or profile) through vatio's recording path —
    store and signed log — and return the record the store gives back."""
    if "://" not in str(store):
        Path(store).parent.mkdir(parents=True, exist_ok=True)
    recorder = Recorder(RecordContext.build(Profile(store=str(store))))
    record, text = record_text(result)
    outcome = recorder.write([Entry(record, text, kind, None)])
    assert outcome.store_error is None, outcome.store_error
    return recorder.open_store().get(result.id)
