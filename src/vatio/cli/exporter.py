"""`vatio exporter`: serve Prometheus /metrics for this machine, the grid and the run store."""

from __future__ import annotations

import sys

import typer

from vatio.cli.options import ProfileOptions


def register(app: typer.Typer) -> None:
    app.command("exporter")(exporter)


def exporter(
    port: int = typer.Option(9464, "--port", "-p", help="TCP port of /metrics (1-65535)."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on; 0.0.0.0 opens it to the network."
    ),
    zone: str = ProfileOptions.zone,
    store: str = ProfileOptions.store,
    interval: str = ProfileOptions.interval,
) -> None:
    """Serve Prometheus metrics: device power and energy, grid intensity, runs in the store.

    Samples every sensor in the background at the profile's interval; a scrape
    reads nothing itself. Stop with Ctrl-C or SIGTERM.
    """
    import signal
    import threading

    from vatio.config import load_profile
    from vatio.integrations.prometheus import (
        check_host,
        check_port,
        require_client,
        start_exporter,
        warn_if_exposed,
    )

    require_client()
    check_port(port)
    host = check_host(host)
    overrides = ProfileOptions.overrides(zone, None, store, interval, None, None)
    profile, _sources = load_profile(overrides=overrides)
    store_url = _store_url(profile.store, explicit=store is not None)
    server = start_exporter(
        host=host,
        port=port,
        interval_s=profile.interval,
        zone=profile.zone,
        intensity_kind=profile.intensity,
        store_url=store_url,
        discovery_options={
            "cpu_tdp_w": profile.cpu_tdp_w,
            "memory_w_per_gb": profile.memory_w_per_gb,
        },
    )
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    warn_if_exposed(host)
    sensors = server.sampler.sensors if server.sampler else []
    methods = ", ".join(f"{s.name} ({s.method})" for s in sensors)
    sys.stderr.write(
        f"vatio: serving Prometheus metrics on {server.url} every {profile.interval:g} s"
        f" [{methods}]"
        + (f", grid zone {profile.zone}" if profile.zone else ", no grid zone (use --zone)")
        + (f", store {_shown(store_url)}" if store_url else "")
        + "; Ctrl-C stops.\n"
    )
    try:
        while not done.wait(3600):
            pass
    finally:
        server.stop()
    sys.stderr.write("vatio: exporter stopped\n")


def _store_url(spec: str | None, *, explicit: bool) -> str | None:
    """The store to count runs in; a store named on the command line must exist."""
    from pathlib import Path

    from vatio.errors import StoreError
    from vatio.store.location import DEFAULT_PATH

    if spec and "://" in spec:
        return spec
    path = Path(spec).expanduser() if spec else Path.cwd() / DEFAULT_PATH
    if explicit and not path.is_file():
        raise StoreError(
            f"There is no run store at {path}.",
            "Give the path or URL of an existing store, or leave --store out.",
        )
    # the default store may appear later: it is counted once it exists, never created here
    return f"sqlite:///{path.resolve()}"


def _shown(url: str) -> str:
    from vatio.provenance.manifest import redact_credentials

    return redact_credentials(url)
