"""`vatio exporter` end to end: the real process, scraped over loopback, parsed by
prometheus_client's parser; hostile flags exit 2 with one sentence."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("prometheus_client")

from tests.cli.helpers import VATIO, env_for, vatio
from tests.integrations.helpers import (
    families,
    free_port,
    named,
    record_runs,
    samples,
    scrape_when_ready,
)

pytestmark = pytest.mark.e2e


def test_exporter_serves_sensors_grid_and_store(tmp_path):
    store = tmp_path / "team.db"
    record_runs(store, ["completed", "completed", "failed"])
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    command = [
        *VATIO, "exporter", "--port", str(port), "--zone", "ES",
        "--store", str(store), "--interval", "100ms",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for()
    )
    try:
        first = samples(scrape_when_ready(url, process=process))
        time.sleep(0.5)
        text = scrape_when_ready(url, process=process)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "serving Prometheus metrics on http://127.0.0.1:" in err
    assert "exporter stopped" in err and "Traceback" not in err

    kinds = families(text)
    assert kinds["vatio_energy_joules"] == "counter"
    assert kinds["vatio_power_watts"] == "gauge"
    assert kinds["vatio_grid_intensity_gco2e_per_kwh"] == "gauge"
    assert kinds["vatio_runs"] == "counter"
    found = samples(text)
    energy = named(found, "vatio_energy_joules_total")
    assert energy, "no device energy exposed"
    for labels, value in energy.items():
        assert {k for k, _ in labels} == {"device", "family", "method", "host"}
        assert dict(labels)["method"].split(":")[0] in ("measured", "estimated")
        assert value >= named(first, "vatio_energy_joules_total").get(labels, 0.0)
    assert sum(energy.values()) > sum(named(first, "vatio_energy_joules_total").values())
    assert set(named(found, "vatio_power_watts")) == set(energy)
    ((labels, intensity),) = named(found, "vatio_grid_intensity_gco2e_per_kwh").items()
    assert dict(labels)["zone"] == "ES" and intensity > 0
    assert named(found, "vatio_runs_total") == {
        (("kind", "run"), ("status", "completed")): 2.0,
        (("kind", "run"), ("status", "failed")): 1.0,
    }
    assert named(found, "vatio_store_up") == {(): 1.0}
    assert named(found, "process_cpu_seconds_total")  # the exporter's own cost, for dashboards


def _taken_port() -> tuple[socket.socket, int]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder, holder.getsockname()[1]


def test_a_taken_port_stops_the_real_process_with_exit_2():
    holder, taken = _taken_port()
    with holder:
        done = vatio("exporter", "--port", str(taken), timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(f"vatio: error: Port {taken} on 127.0.0.1 is already in use.")
    assert "Traceback" not in done.stderr


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """The real CLI entry point in this process (what the `vatio` script calls)."""
    from vatio.cli.app import main

    monkeypatch.setattr(sys, "argv", ["vatio", "exporter", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    return stopped.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "0"], "port must be a whole number from 1 to 65535, not 0."),
        (["--port", "-1"], "port must be a whole number from 1 to 65535, not -1."),
        (["--port", "70000"], "port must be a whole number from 1 to 65535, not 70000."),
        (["--host", "bad host!"], "'bad host!' is not an IP address or host name"),
        (["--host", "192.0.2.1", "--port", "{free}"], "not an address of this machine"),
        (["--store", "{tmp}/no.db"], "There is no run store at"),
        (["--zone", "XX-NOWHERE"], "Unknown grid zone 'XX-NOWHERE'"),
        (["--interval", "-5s"], "interval"),
    ],
)
def test_hostile_flags_exit_2_with_one_sentence(monkeypatch, capsys, tmp_path, args, message):
    args = [a.format(free=free_port(), tmp=tmp_path) for a in args]
    code, err = run_main(monkeypatch, capsys, *args)
    assert code == 2, err
    assert message in err
    assert err.startswith("vatio: error:") and "Traceback" not in err
