"""VatioCallback in a real Lightning Trainer: a tiny LightningModule built in the test,
random tensors, two epochs on CPU, scripted sensors."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pl = pytest.importorskip("lightning.pytorch")

from tests.measure.fakes import ConstantPowerSensor  # noqa: E402
from vatio.integrations.lightning import VatioCallback  # noqa: E402
from vatio.integrations.training import training_section  # noqa: E402


class Tiny(pl.LightningModule):
    def __init__(self, fail_at_step: int | None = None, flops_per_batch: int | None = None):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.fail_at_step = fail_at_step
        if flops_per_batch is not None:
            self.flops_per_batch = flops_per_batch  # as Lightning's ThroughputMonitor reads it

    def training_step(self, batch, batch_idx):
        if self.fail_at_step is not None and self.global_step >= self.fail_at_step:
            raise RuntimeError("loss exploded")
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def loader(n: int) -> torch.utils.data.DataLoader:
    generator = torch.Generator().manual_seed(n)
    data = torch.utils.data.TensorDataset(
        torch.randn(n, 4, generator=generator), torch.randn(n, 1, generator=generator)
    )
    return torch.utils.data.DataLoader(data, batch_size=4)


def trainer(callback: VatioCallback, epochs: int = 2) -> pl.Trainer:
    return pl.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[callback],
    )


def test_epochs_are_phases_and_training_batches_are_work():
    callback = VatioCallback(store=False, sensors=[ConstantPowerSensor(watts=30)])
    trainer(callback).fit(Tiny(flops_per_batch=1000), loader(10), loader(4))

    result = callback.result
    assert result.status == "completed" and result.name == "fit-Tiny"
    assert [p.name for p in result.phases] == ["epoch-1", "epoch-2"]
    # 10 samples a epoch in batches of 4, 4 and 2; validation batches are not work
    assert result.work == {"samples": 20.0}
    section = training_section(result)
    assert section["framework"] == "lightning"
    assert section["batches"] == 6 and section["samples"] == 20
    assert section["tokens"] is None and section["tokens_method"] is None  # no token inputs
    assert section["flops"] == 6000.0
    assert "LightningModule's flops_per_batch" in section["flops_method"]


def test_a_fit_that_raises_is_recorded_as_failed():
    callback = VatioCallback("exploding", store=False, sensors=[ConstantPowerSensor(watts=30)])
    with pytest.raises(RuntimeError, match="loss exploded"):
        trainer(callback).fit(Tiny(fail_at_step=3), loader(10))
    result = callback.result
    assert result.status == "failed"
    assert "loss exploded" in result.error
    assert [p.name for p in result.phases] == ["epoch-1", "epoch-2"]  # the open epoch is kept
    # steps 0-2 (epoch 1: 4 + 4 + 2 samples) finished; the step that raised is not work
    assert training_section(result)["samples"] == 10
    assert "flops" not in training_section(result)
