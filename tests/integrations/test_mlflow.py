"""The MLflow sink with the real MLflow client and a local file tracking store, read back
with MlflowClient; the records come from real trackers (scripted sensors)."""

from __future__ import annotations

import json
import threading
import time

import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow.tracking import MlflowClient  # noqa: E402

from tests.measure.fakes import ConstantPowerSensor  # noqa: E402
from vatio.integrations.mlflow import MlflowSink, log_record  # noqa: E402


@pytest.fixture(autouse=True)
def tracking(tmp_path, monkeypatch):
    # the file store is MLflow's fastest local backend (a sqlite:/// URI works the same but
    # runs MLflow's migrations, ~10 s); MLflow asks for an explicit opt-in to it
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()


def a_record(name: str = "train", zone: str | None = "ES") -> dict:
    import vatio

    with vatio.track(name, store=False, zone=zone, sensors=[ConstantPowerSensor(watts=20)]) as t:
        for phase in ("load", "epoch", "epoch"):
            with t.phase(phase):
                time.sleep(0.01)
        t.add_work(samples=64)
    return t.result.to_dict()


def test_the_active_run_gets_energy_carbon_method_phases_and_the_report(tmp_path):
    import vatio

    sensor = ConstantPowerSensor(watts=20)
    # the public path: the recorder calls the MLflow sink once the record is complete
    tracked = {"store": False, "zone": "ES", "sensors": [sensor], "mlflow": True}
    with mlflow.start_run() as run, vatio.track("train", **tracked) as t:
        for phase in ("load", "epoch", "epoch"):
            with t.phase(phase):
                time.sleep(0.01)
        t.add_work(samples=64)
    record = t.result.to_dict()
    (sink,) = [s for s in t.recorder.context.sinks if isinstance(s, MlflowSink)]
    client = MlflowClient()
    data = client.get_run(run.info.run_id).data
    totals = record["totals"]
    assert data.metrics["vatio.energy_j"] == pytest.approx(totals["energy_j"])
    assert data.metrics["vatio.energy_kwh"] == pytest.approx(totals["energy_j"] / 3.6e6)
    assert data.metrics["vatio.co2e_g"] == pytest.approx(record["carbon"]["co2e_g"])
    assert data.metrics["vatio.work.samples"] == 64
    assert data.metrics["vatio.energy_per_samples_j"] == pytest.approx(totals["energy_j"] / 64)
    assert data.params["vatio.method"] == "measured:rapl"
    assert data.params["vatio.run_id"] == record["id"]
    assert data.params["vatio.zone"] == "ES"
    assert data.tags["vatio.run_id"] == record["id"]
    # a phase name used twice is one metric with two steps; all phases form one series
    history = client.get_metric_history(run.info.run_id, "vatio.phase.epoch.energy_j")
    assert sorted(m.step for m in history) == [0, 1]
    series = client.get_metric_history(run.info.run_id, "vatio.phases.energy_j")
    assert [m.value for m in sorted(series, key=lambda m: m.step)] == pytest.approx(
        [p["energy_j"] for p in record["phases"]]
    )
    paths = {a.path for a in client.list_artifacts(run.info.run_id, "vatio")}
    assert paths == {f"vatio/report-{record['id']}.html", f"vatio/record-{record['id']}.json"}
    folder = client.download_artifacts(run.info.run_id, "vatio", str(tmp_path))
    html = (tmp_path / "vatio" / f"report-{record['id']}.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and record["id"] in html
    saved = json.loads((tmp_path / "vatio" / f"record-{record['id']}.json").read_text())
    assert saved["id"] == record["id"] and folder
    assert sink.logged == [run.info.run_id]


def test_without_an_active_run_a_finished_mlflow_run_is_created():
    record = a_record("solo", zone=None)
    run_id = log_record(record, report=False)
    run = MlflowClient().get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "vatio-solo"
    assert "vatio.co2e_g" not in run.data.metrics  # no zone: no carbon, not a zero
    assert mlflow.active_run() is None


def test_a_second_vatio_run_in_the_same_mlflow_run_gets_its_own_prefix():
    first, second = a_record("a", zone=None), a_record("b", zone=None)
    with mlflow.start_run() as run:
        log_record(first, report=False)
        log_record(second, report=False)
    data = MlflowClient().get_run(run.info.run_id).data
    assert data.params["vatio.run_id"] == first["id"]
    assert data.params[f"vatio.{second['id']}.run_id"] == second["id"]
    assert data.metrics[f"vatio.{second['id']}.energy_j"] == pytest.approx(
        second["totals"]["energy_j"]
    )


def test_the_sink_remembers_the_run_active_where_it_was_made():
    record = a_record("threaded", zone=None)
    with mlflow.start_run() as run:
        sink = MlflowSink(report=False)
        worker = threading.Thread(target=sink.write, args=(record,))
        worker.start()  # MLflow's active run is per thread: this one has none
        worker.join()
    assert sink.logged == [run.info.run_id]
    assert MlflowClient().get_run(run.info.run_id).data.params["vatio.run_id"] == record["id"]
