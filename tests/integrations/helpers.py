"""Shared pieces of the integration tests: free loopback ports, scraping, a small store."""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scrape(url: str, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        assert response.status == 200
        return response.read().decode("utf-8")


def scrape_when_ready(url: str, deadline_s: float = 30.0, process=None) -> str:
    """Scrape once the endpoint answers (a process that died first fails the test)."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            return scrape(url, timeout=2.0)
        except OSError:
            if process is not None and process.poll() is not None:
                raise AssertionError(f"exporter exited with {process.returncode}") from None
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, parsed by prometheus_client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def families(text: str) -> dict[str, str]:
    """Family name -> type."""
    from prometheus_client.parser import text_string_to_metric_families

    return {f.name: f.type for f in text_string_to_metric_families(text)}


def named(found: dict, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for (n, labels), value in found.items() if n == name}


def record_runs(store: Path, statuses: list[str]) -> list[str]:
    """Record one real run per status into a real SQLite store (fake sensors, no waiting)."""
    from tests.measure.fakes import ConstantPowerSensor
    from vatio.api import Tracker

    ids = []
    for status in statuses:
        tracker = Tracker(
            f"run-{status}", store=str(store), zone="ES", sensors=[ConstantPowerSensor(watts=5)]
        )
        tracker.start()
        ids.append(tracker.stop(status).id)
    return ids
