"""The Prometheus collector in-process: real prometheus_client exposition and parser,
real samplers (scripted sensors and clock), real SQLite stores, real loopback HTTP."""

from __future__ import annotations

import socket
import time
import urllib.error

import pytest

pytest.importorskip("prometheus_client")

from prometheus_client import CollectorRegistry, generate_latest

from tests.integrations.helpers import (
    families,
    free_port,
    named,
    record_runs,
    samples,
    scrape,
)
from tests.measure.fakes import ConstantPowerSensor
from vatio.devices.common import EnergySensor, Reading
from vatio.errors import InputError, UnknownZoneError
from vatio.integrations.live import GridIntensity, LiveView, RunCounts, sampler_of
from vatio.integrations.prometheus import (
    VatioCollector,
    check_host,
    check_port,
    serve,
    serve_run_metrics,
)
from vatio.measure.sampler import Sampler

SENSOR_LABELS = {"device", "family", "method", "host"}


class Clock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def exposition(collector: VatioCollector) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry).decode("utf-8")


def scripted_sampler(*sensors: EnergySensor) -> tuple[Sampler, Clock]:
    clock = Clock()
    # the background thread would tick only after 1 h: every tick here is explicit
    sampler = Sampler(list(sensors), 3600.0, pid=None, wall_clock=clock, monotonic=clock)
    sampler.start()
    return sampler, clock


def test_energy_counters_power_gauges_and_ranges_follow_the_sampler():
    cpu = ConstantPowerSensor("cpu:package-0", watts=10.0)
    memory = ConstantPowerSensor(
        "memory", watts=2.0, device="memory", method="estimated:memory", spread=0.5
    )
    sampler, clock = scripted_sampler(cpu, memory)
    view = LiveView(sampler, started_at=clock.now)
    collector = VatioCollector(view, host="node-1")
    try:
        clock.now += 2.0
        sampler.tick()
        view.update()
        first = samples(exposition(collector))
        clock.now += 1.0
        sampler.tick()
        view.update()
        text = exposition(collector)
    finally:
        sampler.stop()
    kinds = families(text)
    assert kinds["vatio_energy_joules"] == "counter"
    assert kinds["vatio_power_watts"] == "gauge"
    found = samples(text)
    energy = named(found, "vatio_energy_joules_total")
    cpu_labels = (
        ("device", "cpu:package-0"),
        ("family", "cpu"),
        ("host", "node-1"),
        ("method", "measured:rapl"),
    )
    mem_labels = (
        ("device", "memory"),
        ("family", "memory"),
        ("host", "node-1"),
        ("method", "estimated:memory"),
    )
    assert energy == {cpu_labels: pytest.approx(30.0), mem_labels: pytest.approx(6.0)}
    assert {k for k, _ in cpu_labels} == SENSOR_LABELS
    # the range of an estimate is exposed apart; a measured device's bounds equal it
    assert named(found, "vatio_energy_low_joules_total")[mem_labels] == pytest.approx(3.0)
    assert named(found, "vatio_energy_high_joules_total")[mem_labels] == pytest.approx(9.0)
    assert named(found, "vatio_energy_low_joules_total")[cpu_labels] == pytest.approx(30.0)
    # power over the last interval; none before two readings exist
    assert named(first, "vatio_power_watts") == {}
    assert named(found, "vatio_power_watts") == {
        cpu_labels: pytest.approx(10.0),
        mem_labels: pytest.approx(2.0),
    }
    # counters carry when sampling started
    created = named(found, "vatio_energy_joules_created")
    assert list(created.values()) == [1_700_000_000.0, 1_700_000_000.0]
    assert named(found, "vatio_build_info")


class Hiccup(EnergySensor):
    """A counter that reads lower once (a rounding or firmware glitch), then recovers."""

    name, device, method = "gpu:0", "gpu", "measured:nvml-counter"

    def __init__(self, readings: list[float]) -> None:
        super().__init__()
        self.readings = readings

    def read(self, now: float) -> Reading:
        return Reading.exact(self.readings.pop(0))


def test_counters_never_go_down():
    sensor = Hiccup([5.0, 4.0, 7.0, 7.0])  # the last one is read by stop()
    sampler, clock = scripted_sampler(sensor)
    view = LiveView(sampler)
    collector = VatioCollector(view, host="h")
    seen = []
    try:
        for _ in range(3):
            clock.now += 1.0
            sampler.tick()
            view.update()
            (value,) = named(samples(exposition(collector)), "vatio_energy_joules_total").values()
            seen.append(value)
    finally:
        sampler.stop()
    assert seen == [5.0, 5.0, 7.0]


def test_grid_intensity_gauge_uses_the_bundled_data_of_this_hour():
    from vatio.carbon.accounting import intensity_for_hour
    from vatio.carbon.zones import resolve_zone

    grid = GridIntensity("es")
    text = exposition(VatioCollector(intensity=grid, host="h"))
    (labels, value), *_ = named(samples(text), "vatio_grid_intensity_gco2e_per_kwh").items()
    hour = time.time() // 3600 * 3600
    expected = intensity_for_hour(resolve_zone("ES"), hour, "lca")
    assert dict(labels) == {"zone": "ES", "basis": expected.basis, "kind": "lca"}
    assert value == pytest.approx(expected.value)
    with pytest.raises(UnknownZoneError):
        GridIntensity("NOT-A-ZONE")


def test_run_counts_come_from_a_real_store(tmp_path):
    store = tmp_path / "runs.db"
    record_runs(store, ["completed", "completed", "failed", "interrupted"])
    counts = RunCounts(f"sqlite:///{store}")
    counts.refresh(force=True)
    text = exposition(VatioCollector(counts=counts, host="h"))
    assert families(text)["vatio_runs"] == "counter"
    found = samples(text)
    assert named(found, "vatio_runs_total") == {
        (("kind", "run"), ("status", "completed")): 2.0,
        (("kind", "run"), ("status", "failed")): 1.0,
        (("kind", "run"), ("status", "interrupted")): 1.0,
    }
    assert named(found, "vatio_store_up") == {(): 1.0}
    assert named(found, "vatio_runs_running") == {(("kind", "run"),): 0.0}
    (energy,) = named(found, "vatio_runs_energy_joules_total").values()
    (carbon_labels,) = named(found, "vatio_runs_co2e_grams_total")
    assert energy >= 0 and dict(carbon_labels) == {"kind": "run", "zone": "ES"}


def test_open_runs_are_running_then_counted_when_finished(tmp_path):
    from tests.measure.fakes import ConstantPowerSensor as Sensor
    from vatio.api import Tracker

    store = tmp_path / "runs.db"
    record_runs(store, ["completed"])
    counts = RunCounts(f"sqlite:///{store}")
    tracker = Tracker("open", store=str(store), sensors=[Sensor()])
    tracker.start()
    try:
        deadline = time.monotonic() + 20
        while not counts.refresh(force=True).running and time.monotonic() < deadline:
            time.sleep(0.05)  # the tracker marks the run as running in the background
        assert counts.current.running == {"run": 1}
    finally:
        tracker.stop()
    counts.refresh(force=True)
    assert counts.current.running == {}
    assert counts.current.finished == {("completed", "run"): 2}


def test_a_missing_store_is_down_and_never_created(tmp_path):
    missing = tmp_path / "nowhere.db"
    counts = RunCounts(f"sqlite:///{missing}")
    counts.refresh(force=True)
    text = exposition(VatioCollector(counts=counts, host="h"))
    assert named(samples(text), "vatio_store_up") == {(): 0.0}
    assert "vatio_runs_total" not in text
    assert not missing.exists()


def test_serve_run_metrics_follows_a_tracked_run_over_loopback():
    from vatio.api import Tracker

    tracker = Tracker(
        "live", store=False, zone="FR", interval_s=0.05, sensors=[ConstantPowerSensor(watts=8.0)]
    )
    server = serve_run_metrics(tracker, "127.0.0.1", 0)  # before start: figures come later
    try:
        assert server.port > 0
        before = samples(scrape(server.url))
        assert named(before, "vatio_energy_joules_total") == {}
        (info,) = named(before, "vatio_run_info")
        assert dict(info)["run_id"] == tracker.run_id and dict(info)["name"] == "live"
        tracker.start()
        deadline = time.monotonic() + 10
        while True:
            found = samples(scrape(server.url))
            energy = named(found, "vatio_energy_joules_total")
            if (energy and next(iter(energy.values())) > 0) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert next(iter(energy.values())) > 0
        assert named(found, "vatio_run_running") == {(): 1.0}
        assert named(found, "vatio_process_energy_joules_total")
        (labels,) = named(found, "vatio_grid_intensity_gco2e_per_kwh")
        assert dict(labels)["zone"] == "FR"
        with tracker.phase("work"):
            time.sleep(0.02)
        result = tracker.stop()
        assert [p.name for p in result.phases] == ["work"]
        server.view.update()
        assert named(samples(scrape(server.url)), "vatio_run_running") == {(): 0.0}
    finally:
        server()
    with pytest.raises(urllib.error.URLError):
        scrape(server.url, timeout=2)


@pytest.mark.parametrize("port", [-1, 70000, "9464", True, 1.5])
def test_bad_ports_are_refused(port):
    with pytest.raises(InputError, match="port must be a whole number"):
        check_port(port)


def test_port_zero_is_for_the_api_only():
    with pytest.raises(InputError):
        check_port(0)
    assert check_port(0, allow_ephemeral=True) == 0


@pytest.mark.parametrize("host", ["", "bad host!", "a;b", "http://x"])
def test_bad_hosts_are_refused_before_any_lookup(host):
    with pytest.raises(InputError, match="not an IP address or host name"):
        check_host(host)


def test_a_taken_port_and_a_foreign_address_are_clear_errors():
    port = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        with pytest.raises(InputError, match=f"Port {port} on 127.0.0.1 is already in use"):
            serve(VatioCollector(host="h"), "127.0.0.1", port)
    with pytest.raises(InputError, match="not an address of this machine"):
        serve(VatioCollector(host="h"), "192.0.2.1", free_port())  # TEST-NET-1, never local


def test_every_metric_of_the_grafana_dashboard_is_exposed(tmp_path):
    import json
    import re
    from pathlib import Path

    from vatio.api import Tracker

    dashboard = json.loads(
        (Path(__file__).parents[2] / "docs" / "grafana-vatio.json").read_text(encoding="utf-8")
    )
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    wanted = {name for e in exprs for name in re.findall(r"\bvatio_[a-z0-9_]+", e)}

    store = tmp_path / "runs.db"
    record_runs(store, ["completed"])
    counts = RunCounts(f"sqlite:///{store}")
    counts.refresh(force=True)
    sensor = ConstantPowerSensor(
        "memory", watts=2.0, device="memory", method="estimated:memory", spread=0.5
    )
    tracker = Tracker("dash", store=False, sensors=[sensor], interval_s=60)
    tracker.start()
    try:
        view = LiveView(tracker)
        for _ in range(2):  # two readings: energy and power
            sampler_of(tracker).tick()
            view.update()
        collector = VatioCollector(view, intensity=GridIntensity("ES"), counts=counts, run=tracker)
        exposed = {name for name, _ in samples(exposition(collector))}
    finally:
        tracker.stop()
    assert wanted, "no vatio metric found in the dashboard"
    assert wanted <= exposed, wanted - exposed


def test_serve_run_metrics_shows_a_child_jobs_share_as_vatio_run_would():
    import subprocess
    import sys

    from vatio.measure.sampler import CHILD_LATER
    from vatio.record import RecordingTracker

    busy = "import time\nend = time.time() + 1.5\nwhile time.time() < end: pass"
    tracker = RecordingTracker(
        command=[sys.executable, "-c", busy],
        store=False,
        interval_s=0.05,
        pid=CHILD_LATER,
        sensors=[ConstantPowerSensor(watts=40.0)],
    )
    server = serve_run_metrics(tracker, "127.0.0.1", 0)  # as `vatio run --metrics-port`
    try:
        tracker.start()
        child = subprocess.Popen(tracker.command)
        tracker.attach(child.pid)
        deadline = time.monotonic() + 10
        share = 0.0
        while share <= 0 and time.monotonic() < deadline:
            time.sleep(0.1)
            found = samples(scrape(server.url))
            share = sum(named(found, "vatio_process_energy_joules_total").values())
        child.wait(timeout=20)
        result = tracker.stop("completed", exit_code=0)
    finally:
        server()
    machine = sum(named(found, "vatio_energy_joules_total").values())
    assert 0 < share <= machine
    assert result.process_energy_j > 0
