"""MLflow: a finished vatio run as metrics, params, tags and artefacts of an MLflow run.

`vatio.track(..., mlflow=True)` adds an `MlflowSink` to the recorder; after the
run is recorded (carbon included) the sink logs it into the MLflow run that was
active when the tracker was created (the active run is per thread in MLflow, so
it is remembered then), else the active one, else a new MLflow run that is ended
right after. `log_record(record)` does the same for any stored record.

Logged, under the prefix `vatio` (metric names keep units in their suffix):
- metrics: energy_j (+ _low_j, _high_j), energy_kwh, measured_j, estimated_j,
  process_energy_j, duration_s, co2e_g (+ _low_g, _high_g), mean intensity,
  device.<name>.energy_j, phase.<name>.energy_j/duration_s/co2e_g (step = the
  phase's occurrence), phases.energy_j (step = phase order), work.<unit> and
  energy_per_<unit>_j, training.flops when a framework callback recorded them
- params: run_id, status, method (how the energy was obtained), zone, pue,
  intensity_basis, interval_s, device.<name>.method
- artefacts: vatio/report-<id>.html (vatio's HTML report), vatio/record-<id>.json
A second vatio run logged into the same MLflow run gets the prefix `vatio.<id>`,
since MLflow params cannot change once set.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from vatio.errors import InputError

PREFIX = "vatio"
MAX_BATCH = {"metrics": 1000, "params": 100, "tags": 100}
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. /]")


def _require_mlflow() -> Any:
    try:
        import mlflow
    except ImportError:
        raise InputError(
            "Logging to MLflow needs the mlflow package.",
            "Install it with: pip install 'vatio[mlflow]'",
        ) from None
    return mlflow


def active_run_id() -> str | None:
    """The MLflow run active in this thread, if any (without importing mlflow needlessly)."""
    import sys

    if "mlflow" not in sys.modules:
        return None
    run = sys.modules["mlflow"].active_run()
    return run.info.run_id if run is not None else None


class MlflowSink:
    """A recorder sink: `write(record)` logs a finished record into MLflow."""

    name = "mlflow"

    def __init__(
        self, *, run_id: str | None = None, report: bool = True, prefix: str = PREFIX
    ) -> None:
        _require_mlflow()
        #: the MLflow run to log into, taken now: MLflow's active run is per thread
        self.run_id = run_id or active_run_id()
        self.report = report
        self.prefix = prefix
        self.logged: list[str] = []

    def write(self, record: dict[str, Any]) -> None:
        self.logged.append(
            log_record(record, run_id=self.run_id, report=self.report, prefix=self.prefix)
        )


def log_record(
    record: dict[str, Any],
    *,
    run_id: str | None = None,
    report: bool = True,
    prefix: str = PREFIX,
) -> str:
    """Log one finished run record into MLflow; returns the MLflow run id used."""
    mlflow = _require_mlflow()
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    target = run_id or active_run_id()
    started_here = target is None
    if started_here:
        target = mlflow.start_run(
            run_name=f"vatio-{record.get('name') or record['id']}"
        ).info.run_id
    try:
        existing = client.get_run(target).data.params
        if existing.get(f"{prefix}.run_id", record["id"]) != record["id"]:
            prefix = f"{prefix}.{record['id']}"
        metrics, params, tags = record_fields(record, prefix)
        _log_batch(client, target, metrics, params, tags, _millis(record))
        if report:
            _log_artifacts(client, target, record, prefix)
    finally:
        if started_here:
            mlflow.end_run()
    return target


def record_fields(
    record: dict[str, Any], prefix: str = PREFIX
) -> tuple[list[tuple[str, float, int]], dict[str, str], dict[str, str]]:
    """Metrics (key, value, step), params and tags of a record; absent figures are left out."""
    metrics: list[tuple[str, float, int]] = []

    def metric(key: str, value: Any, step: int = 0) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
            metrics.append((f"{prefix}.{key}", float(value), step))

    totals = record.get("totals") or {}
    for key in ("energy_j", "energy_low_j", "energy_high_j", "measured_j", "estimated_j"):
        metric(key, totals.get(key))
    metric("process_energy_j", totals.get("process_energy_j"))
    if isinstance(totals.get("energy_j"), int | float):
        metric("energy_kwh", totals["energy_j"] / 3.6e6)
    metric("duration_s", record.get("duration_s"))
    carbon = record.get("carbon") or {}
    for key in ("co2e_g", "co2e_low_g", "co2e_high_g", "process_co2e_g"):
        metric(key, carbon.get(key))
    metric("intensity_gco2e_per_kwh", carbon.get("mean_intensity_g_per_kwh"))
    metric("overhead_j", (record.get("overhead") or {}).get("energy_j"))
    for device in record.get("devices") or []:
        metric(f"device.{_safe(device.get('name'))}.energy_j", device.get("energy_j"))
    seen: dict[str, int] = {}
    for order, phase in enumerate(record.get("phases") or []):
        name = _safe(phase.get("name"))
        step = seen[name] = seen.get(name, -1) + 1
        for key in ("energy_j", "duration_s", "co2e_g"):
            metric(f"phase.{name}.{key}", phase.get(key), step)
        metric("phases.energy_j", phase.get("energy_j"), order)
    for unit, count in (record.get("work") or {}).items():
        metric(f"work.{_safe(unit)}", count)
    for unit, joules in (totals.get("energy_per_unit_j") or {}).items():
        metric(f"energy_per_{_safe(unit)}_j", joules)
    training = (record.get("extensions") or {}).get("training") or {}
    metric("training.flops", training.get("flops"))

    params = {
        "run_id": record.get("id"),
        "status": record.get("status"),
        "method": totals.get("method"),
        "zone": carbon.get("zone"),
        "pue": carbon.get("pue"),
        "intensity_basis": carbon.get("basis"),
        "interval_s": record.get("interval_s"),
    }
    for device in record.get("devices") or []:
        params[f"device.{_safe(device.get('name'))}.method"] = device.get("method")
    params_out = {f"{prefix}.{k}": str(v) for k, v in params.items() if v is not None}
    tags = {f"{prefix}.run_id": str(record.get("id"))}
    return metrics, params_out, tags


def _safe(name: Any) -> str:
    """MLflow keys take letters, digits, _ - . / and spaces; anything else becomes _."""
    return _UNSAFE.sub("_", str(name)) or "_"


def _millis(record: dict[str, Any]) -> int:
    from datetime import datetime

    text = record.get("ended_at") or record.get("started_at")
    if text:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    return int(time.time() * 1000)


def _log_batch(
    client: Any,
    run_id: str,
    metrics: list[tuple[str, float, int]],
    params: dict[str, str],
    tags: dict[str, str],
    when_ms: int,
) -> None:
    from mlflow.entities import Metric, Param, RunTag

    metric_rows = [Metric(k, v, when_ms, step) for k, v, step in metrics]
    param_rows = [Param(k, v) for k, v in params.items()]
    tag_rows = [RunTag(k, v) for k, v in tags.items()]
    while metric_rows or param_rows or tag_rows:
        client.log_batch(
            run_id,
            metrics=metric_rows[: MAX_BATCH["metrics"]],
            params=param_rows[: MAX_BATCH["params"]],
            tags=tag_rows[: MAX_BATCH["tags"]],
        )
        metric_rows = metric_rows[MAX_BATCH["metrics"] :]
        param_rows = param_rows[MAX_BATCH["params"] :]
        tag_rows = tag_rows[MAX_BATCH["tags"] :]


def _log_artifacts(client: Any, run_id: str, record: dict[str, Any], prefix: str) -> None:
    from vatio.report.build import build_report
    from vatio.report.html import render_html

    folder = prefix.replace(".", "/")
    with tempfile.TemporaryDirectory(prefix="vatio-mlflow-") as tmp:
        html = Path(tmp) / f"report-{record['id']}.html"
        html.write_text(render_html(build_report([record])), encoding="utf-8")
        data = Path(tmp) / f"record-{record['id']}.json"
        data.write_text(json.dumps(record, default=str, indent=1), encoding="utf-8")
        client.log_artifact(run_id, str(html), artifact_path=folder)
        client.log_artifact(run_id, str(data), artifact_path=folder)
