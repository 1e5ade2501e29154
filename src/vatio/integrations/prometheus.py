"""Prometheus metrics: `vatio exporter` and `vatio run --metrics-port`, with prometheus-client.

A custom collector turns live figures (see `live.py`) into metric families at
scrape time; nothing is read from a sensor or the store during a scrape, so a
scrape costs only the text formatting. Names follow Prometheus' rules: base
units (joules, watts, seconds), `_total` only on counters. Energy counters
carry the method that produced them (`measured:rapl`, `estimated:tdp`, ...);
sum measured and estimated series only knowingly.

Metrics (labels in braces):
- vatio_energy_joules_total{device,family,method,host}: energy since the exporter (or run)
  started; vatio_energy_low_joules_total / vatio_energy_high_joules_total: its range
  (equal to it for measured devices)
- vatio_power_watts{device,family,method,host}: average power over the last sampling interval
- vatio_sensor_read_errors_total{device,host}: failed sensor reads (the reading is held)
- vatio_sampling_interval_seconds{host}
- vatio_grid_intensity_gco2e_per_kwh{zone,basis,kind}: intensity of this UTC hour (bundled data)
- vatio_runs_total{status,kind}: finished runs in the store (completed, failed, interrupted,
  killed); vatio_runs_running{kind}, vatio_runs_abandoned{kind}: open ones
- vatio_runs_energy_joules_total{kind,method}, vatio_runs_co2e_grams_total{kind,zone}:
  energy and carbon of the finished runs in the store, as recorded
- vatio_store_up, vatio_store_read_duration_seconds, vatio_store_read_timestamp_seconds
- with a tracked run (`serve_run_metrics`): vatio_run_info{run_id,name,host},
  vatio_run_running, vatio_process_energy_joules_total{device,family,method,host}
- vatio_build_info{version}, and process_* of the exporter itself
"""

from __future__ import annotations

import errno
import re
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from vatio.errors import InputError
from vatio.integrations.live import GridIntensity, LiveView, RunCounts

DEFAULT_PORT = 9464
DEFAULT_HOST = "127.0.0.1"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
SENSOR_LABELS = ("device", "family", "method", "host")
_HOST = re.compile(r"^[A-Za-z0-9._:%-]+$")


def require_client() -> Any:
    try:
        import prometheus_client
    except ImportError:
        raise InputError(
            "Prometheus metrics need the prometheus-client package.",
            "Install it with: pip install 'vatio[prometheus]'",
        ) from None
    return prometheus_client


class VatioCollector:
    """Builds vatio's metric families from live figures each time Prometheus scrapes."""

    def __init__(
        self,
        view: LiveView | None = None,
        *,
        host: str | None = None,
        intensity: GridIntensity | None = None,
        counts: RunCounts | None = None,
        run: Any = None,
    ) -> None:
        self.view = view
        self.host = host or socket.gethostname()
        self.intensity = intensity
        self.counts = counts
        self.run = run

    def describe(self) -> list:
        return []  # families vary with the sensors found; describe nothing up front

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from vatio import __version__

        build = GaugeMetricFamily("vatio_build_info", "vatio version", labels=["version"])
        build.add_metric([__version__], 1.0)
        yield build
        if self.view is not None:
            yield from self._sensors()
        if self.intensity is not None:
            yield from self._intensity()
        if self.counts is not None:
            yield from self._store()
        if self.run is not None:
            yield from self._run()

    # -- live sensors -------------------------------------------------------------------
    def _sensors(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        assert self.view is not None
        snap = self.view.snapshot()
        labels = list(SENSOR_LABELS)
        energy = CounterMetricFamily(
            "vatio_energy_joules",
            "Energy of each device since sampling started (method says measured or estimated)",
            labels=labels,
        )
        low = CounterMetricFamily(
            "vatio_energy_low_joules",
            "Low bound of vatio_energy_joules_total (equal to it for measured devices)",
            labels=labels,
        )
        high = CounterMetricFamily(
            "vatio_energy_high_joules",
            "High bound of vatio_energy_joules_total (equal to it for measured devices)",
            labels=labels,
        )
        power = GaugeMetricFamily(
            "vatio_power_watts", "Average power over the last sampling interval", labels=labels
        )
        errors = CounterMetricFamily(
            "vatio_sensor_read_errors",
            "Failed sensor reads (the last good reading is held)",
            labels=["device", "host"],
        )
        for s in snap.sensors:
            values = [s.name, s.device, s.method, self.host]
            energy.add_metric(values, s.energy_j, created=snap.started_at)
            low.add_metric(values, s.low_j, created=snap.started_at)
            high.add_metric(values, s.high_j, created=snap.started_at)
            if s.power_w is not None:
                power.add_metric(values, s.power_w)
            errors.add_metric([s.name, self.host], float(s.errors), created=snap.started_at)
        yield from (energy, low, high, power, errors)
        if snap.interval_s is not None:
            interval = GaugeMetricFamily(
                "vatio_sampling_interval_seconds", "Sampling interval", labels=["host"]
            )
            interval.add_metric([self.host], snap.interval_s)
            yield interval

    # -- the grid -------------------------------------------------------------------------
    def _intensity(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        assert self.intensity is not None
        figure = self.intensity.current
        if figure is None:
            return
        gauge = GaugeMetricFamily(
            "vatio_grid_intensity_gco2e_per_kwh",
            "Grid carbon intensity of the current UTC hour (basis: hourly, hourly-proxy or "
            "yearly-average bundled data; kind: lca or direct)",
            labels=["zone", "basis", "kind"],
        )
        gauge.add_metric([figure.zone, figure.basis, figure.kind], figure.value)
        yield gauge

    # -- the run store ----------------------------------------------------------------------
    def _store(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        assert self.counts is not None
        up = GaugeMetricFamily("vatio_store_up", "1 when the run store was read at last try")
        up.add_metric([], 1.0 if self.counts.up else 0.0)
        yield up
        figures = self.counts.current
        if figures is None:
            return
        runs = CounterMetricFamily(
            "vatio_runs", "Finished runs in the store by final status", labels=["status", "kind"]
        )
        for (status, kind), count in sorted(figures.finished.items()):
            runs.add_metric([status, kind], float(count))
        running = GaugeMetricFamily(
            "vatio_runs_running", "Runs in progress in the store", labels=["kind"]
        )
        abandoned = GaugeMetricFamily(
            "vatio_runs_abandoned",
            "Runs marked running whose vatio process is gone",
            labels=["kind"],
        )
        # every kind the store holds, 0 included, so that dashboards show 0 rather than no data
        kinds = {k for _, k in figures.finished} | set(figures.running) | set(figures.abandoned)
        for kind in sorted(kinds or {"run"}):
            running.add_metric([kind], float(figures.running.get(kind, 0)))
            abandoned.add_metric([kind], float(figures.abandoned.get(kind, 0)))
        energy = CounterMetricFamily(
            "vatio_runs_energy_joules",
            "Machine energy of the finished runs in the store, by kind and method",
            labels=["kind", "method"],
        )
        for (kind, method), joules in sorted(figures.energy_j.items()):
            energy.add_metric([kind, method], joules)
        carbon = CounterMetricFamily(
            "vatio_runs_co2e_grams",
            "Carbon of the finished runs in the store as recorded, by kind and grid zone",
            labels=["kind", "zone"],
        )
        for (kind, zone), grams in sorted(figures.co2e_g.items()):
            carbon.add_metric([kind, zone], grams)
        read_time = GaugeMetricFamily(
            "vatio_store_read_duration_seconds", "Time the last read of the store took"
        )
        read_time.add_metric([], figures.read_cost_s)
        read_at = GaugeMetricFamily(
            "vatio_store_read_timestamp_seconds", "When the store figures were read (Unix time)"
        )
        read_at.add_metric([], figures.read_at)
        yield from (runs, running, abandoned, energy, carbon, read_time, read_at)

    # -- a tracked run ---------------------------------------------------------------------
    def _run(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        run = self.run
        info = GaugeMetricFamily(
            "vatio_run_info", "The run these metrics follow", labels=["run_id", "name", "host"]
        )
        info.add_metric(
            [str(getattr(run, "run_id", "") or ""), str(getattr(run, "name", "") or ""), self.host],
            1.0,
        )
        yield info
        result = getattr(run, "result", None)
        running = GaugeMetricFamily("vatio_run_running", "1 while the run is being measured")
        running.add_metric([], 1.0 if getattr(result, "status", None) == "running" else 0.0)
        yield running
        if self.view is None:
            return
        snap = self.view.snapshot()
        process = CounterMetricFamily(
            "vatio_process_energy_joules",
            "The run's share of each device's energy (its process tree's CPU time, GPU use "
            "and memory)",
            labels=list(SENSOR_LABELS),
        )
        for s in snap.sensors:
            process.add_metric(
                [s.name, s.device, s.method, self.host], s.process_j, created=snap.started_at
            )
        yield process


# -- serving ----------------------------------------------------------------------------------
def check_port(port: int, *, allow_ephemeral: bool = False) -> int:
    low = 0 if allow_ephemeral else 1
    if not isinstance(port, int) or isinstance(port, bool) or not low <= port <= 65535:
        raise InputError(
            f"The metrics port must be a whole number from {low} to 65535, not {port!r}.",
            f"Prometheus' usual port for vatio is {DEFAULT_PORT}.",
        )
    return port


def check_host(host: str) -> str:
    """An IP address or host name, without brackets; checked before any name lookup."""
    bare = host.strip()
    if bare.startswith("[") and bare.endswith("]"):
        bare = bare[1:-1]
    if not bare or not _HOST.match(bare):
        raise InputError(
            f"{host!r} is not an IP address or host name to listen on.",
            "Use e.g. 127.0.0.1 (default), ::1, 0.0.0.0 (all addresses) or a name of this host.",
        )
    return bare


@dataclass
class MetricsServer:
    """A running /metrics endpoint; call it (or `.stop()`) to stop serving and sampling."""

    host: str
    port: int
    httpd: Any
    thread: threading.Thread
    view: LiveView | None = None
    sampler: Any = None  # a sampler this server started itself, stopped with it
    _stopped: bool = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        if self.view is not None:
            self.view.stop()
        if self.sampler is not None:
            self.sampler.stop()
            for sensor in self.sampler.sensors:
                sensor.close()

    __call__ = stop


def serve(
    collector: VatioCollector, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> MetricsServer:
    """Serve the collector (and the exporter's own process metrics) on http://host:port/."""
    client = require_client()
    from prometheus_client import CollectorRegistry, ProcessCollector

    check_port(port, allow_ephemeral=True)
    host = check_host(host)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    ProcessCollector(registry=registry)
    try:
        httpd, thread = client.start_http_server(port, addr=host, registry=registry)
    except socket.gaierror:
        raise InputError(
            f"Cannot serve metrics on host {host!r}: it is not a known name or address.",
            "Use an address of this machine, e.g. 127.0.0.1 (default) or 0.0.0.0 (all).",
        ) from None
    except OSError as error:
        raise _bind_error(error, host, port) from None
    bound = httpd.server_address[1]
    return MetricsServer(host=host, port=bound, httpd=httpd, thread=thread)


def _bind_error(error: OSError, host: str, port: int) -> InputError:
    if error.errno == errno.EADDRINUSE:
        return InputError(
            f"Port {port} on {host} is already in use.",
            "Stop the program that holds it, or choose another --port.",
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return InputError(
            f"Cannot serve metrics on {host}: it is not an address of this machine.",
            "Use 127.0.0.1 (default), 0.0.0.0 (all addresses) or one of this machine's own.",
        )
    if error.errno == errno.EACCES:
        return InputError(
            f"Not allowed to listen on port {port} of {host}.",
            "Ports below 1024 need privileges; use a higher --port such as 9464.",
        )
    return InputError(f"Cannot serve metrics on {host}:{port}: {error.strerror or error}.")


def warn_if_exposed(host: str) -> None:
    if host not in LOOPBACK:
        sys.stderr.write(
            f"vatio: note: metrics on {host} can be read by anyone who can reach this machine "
            "(host name, devices, run names); firewall the port or use --host 127.0.0.1.\n"
        )


def serve_run_metrics(
    sampler_or_tracker: Any, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> MetricsServer:
    """Expose a running tracker's (or sampler's) live figures on /metrics; returns the stop.

    The tracker may be started after this call; its figures appear from its first
    sampling tick. Its grid zone, if any, adds the intensity gauge. Nothing is read
    from its sensors here, so the run records exactly what it would without metrics.
    """
    view = LiveView(sampler_or_tracker)
    intensity = None
    zone, kind = _zone_of(sampler_or_tracker)
    if zone:
        intensity = GridIntensity(zone, kind)
        view.hooks.append(intensity.refresh)
    is_tracker = hasattr(sampler_or_tracker, "run_id")
    collector = VatioCollector(
        view, intensity=intensity, run=sampler_or_tracker if is_tracker else None
    )
    server = serve(collector, host, port)
    warn_if_exposed(host)
    server.view = view.start()
    return server


def _zone_of(source: Any) -> tuple[str | None, str]:
    profile = getattr(source, "profile", None)
    if profile is None:
        profile = getattr(getattr(source, "context", None), "profile", None)
    if profile is None:
        return None, "lca"
    return getattr(profile, "zone", None), getattr(profile, "intensity", "lca")


def start_exporter(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    interval_s: float = 1.0,
    zone: str | None = None,
    intensity_kind: str = "lca",
    store_url: str | None = None,
    discovery_options: dict[str, Any] | None = None,
    sensors: list | None = None,
) -> MetricsServer:
    """The machine-wide exporter: its own sampler over every sensor found, the grid, the store.

    Nothing is attributed to a process (the whole machine is measured).
    """
    from vatio.measure.sampler import Sampler

    check_port(port, allow_ephemeral=True)
    host = check_host(host)
    intensity = GridIntensity(zone, intensity_kind) if zone else None
    counts = RunCounts(store_url) if store_url else None
    if sensors is None:
        from vatio.devices.discovery import discover

        sensors = discover(**(discovery_options or {})).sensors
    sampler = Sampler(sensors, interval_s, pid=None, max_points=4)
    view = LiveView(sampler, prune_hours=True)
    if intensity is not None:
        view.hooks.append(intensity.refresh)
    if counts is not None:
        counts.refresh(force=True)
        view.hooks.append(counts.refresh)
    collector = VatioCollector(view, intensity=intensity, counts=counts)
    server = serve(collector, host, port)
    try:
        start = sampler.start()
    except BaseException:
        server.stop()
        raise
    view.started_at = start.wall
    server.sampler = sampler
    server.view = view.start()
    return server
