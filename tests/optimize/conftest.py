"""Fixtures for the optimize tests: a context on the tiny model, fake energy sensors."""

from __future__ import annotations

import pytest

from tests.measure.fakes import ConstantPowerSensor
from tests.optimize import tiny


@pytest.fixture(scope="session")
def tiny_model():
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    return tiny.trained()


@pytest.fixture
def ctx(tmp_path, tiny_model):
    from vatio.optimize.variant import Context, Dataset

    x, y = tiny.data(96, 1)
    tx, ty = tiny.data(256, 2)
    return Context(
        workdir=tmp_path,
        eval=Dataset(x, y),
        torch_model=tiny_model,
        train=Dataset(tx, ty),
        options={"finetune_epochs": 2, "distill_epochs": 3},
    )


@pytest.fixture
def fake_tracker():
    """Measurement trackers on a scripted 20 W sensor: fast and independent of the machine."""
    from vatio.measure.tracker import Tracker

    def make():
        return Tracker(
            "test",
            interval_s=10.0,
            sensors=[ConstantPowerSensor(watts=20.0, method="estimated:tdp", spread=0.5)],
        )

    return make
