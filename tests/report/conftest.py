"""Stores with runs for report tests."""

from __future__ import annotations

import pytest

from tests.report.records import device, make_result, manifest, save


@pytest.fixture
def store(tmp_path):
    return tmp_path / "runs.db"


@pytest.fixture
def demo_run(store):
    """An estimated CPU run with phases and work, in a zone with hourly data."""
    return save(store, make_result(name="baseline", work={"samples": 6000.0}, phases=3))


@pytest.fixture
def gpu_run(store):
    """A run with a measured GPU next to estimated CPU and memory (mixed methods)."""
    duration = 120.0
    devices = [
        device("gpu", 250.0, duration),
        device("cpu", 40.0, duration),
        device("memory", 6.0, duration),
    ]
    packages = {"numpy": "2.1.0", "torch": "2.4.0", "onnxruntime": "1.18.0"}
    gpus = [{"index": 0, "name": "NVIDIA A100", "power_limit_w": 400.0}]
    result = make_result(
        devices=devices,
        duration=duration,
        name="candidate",
        work={"samples": 6000.0, "flops": 3.0e15},
        manifest=manifest(packages=packages, gpus=gpus, commit="c" * 40),
    )
    return save(store, result)
