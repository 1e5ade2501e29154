"""Records made for team-store tests: real recorder, real store, real signed log."""

from __future__ import annotations

from typing import Any

from vatio.config import Profile
from vatio.measure.result import DeviceEnergy, RunResult
from vatio.measure.tracker import new_run_id
from vatio.record.context import RecordContext
from vatio.record.recorder import Recorder


def result(
    *,
    user: str = "alice",
    host: str = "gpu-1",
    project: str = "llm",
    started_at: str = "2026-11-20T10:00:00.000000Z",
    energy_j: float = 100.0,
    method: str = "measured:rapl",
    zone_co2e_g: float | None = None,
    run_id: str | None = None,
    extensions: dict[str, Any] | None = None,
    devices: bool = True,
) -> RunResult:
    """A finished run with one device, as a tracker would have measured it."""
    found = RunResult(
        id=run_id or new_run_id(),
        name="job",
        command=["python", "train.py"],
        status="completed",
        started_at=started_at,
        ended_at=_plus(started_at, 60.0),
        duration_s=60.0,
        exit_code=0,
        devices=[
            DeviceEnergy("cpu:package-0", "cpu", method, energy_j, energy_j, energy_j, energy_j)
        ]
        if devices
        else [],
        owner={"user": user, "host": host, "project": project},
        extensions=dict(extensions or {}),
    )
    if zone_co2e_g is not None:
        found.carbon = {"co2e_g": zone_co2e_g, "zone": "FR"}
    return found


def _plus(iso: str, seconds: float) -> str:
    from datetime import datetime, timedelta

    when = datetime.fromisoformat(iso.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def save(url: str, results: list[RunResult], zone: str | None = None) -> Any:
    """Record results through the one recording path (leaves and a signed checkpoint)."""
    context = RecordContext.build(Profile(store=url, zone=zone), {})
    outcome = Recorder(context).record(results, begun=False)
    assert outcome.store_error is None, outcome.store_error
    return outcome


def cli(capsys: Any, *args: str) -> tuple[int, str, str]:
    """`vatio ARGS` in this process through the real entry point (error boundary included):
    exit code, stdout, stderr."""
    import sys

    from vatio.cli.app import main

    capsys.readouterr()
    old = sys.argv
    sys.argv = ["vatio", *args]
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return code, captured.out, captured.err
