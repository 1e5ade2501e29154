"""PyTorch Lightning: `VatioCallback` measures `trainer.fit(...)` as one vatio run.

    trainer = lightning.Trainer(callbacks=[VatioCallback(zone="ES")])

The run spans the fit (setup and sanity checks included); one phase per
training epoch (`epoch-1`, ...: its training steps and the validation Lightning
runs at its end); samples and tokens of every training batch as work (see
`training.py`); FLOPs when the LightningModule has `flops_per_batch` (the
attribute Lightning's ThroughputMonitor reads, e.g. from
`lightning.fabric.utilities.measure_flops`) or one is given here. A fit that
raises is recorded as failed (interrupted for Ctrl-C).

Only global rank 0 is measured unless `all_processes=True`. Works with
`lightning` (preferred) or the older `pytorch_lightning` package.
"""

from __future__ import annotations

from typing import Any

from vatio.errors import InputError
from vatio.integrations.training import MeasuredTraining, TrainingRun

try:
    import lightning.pytorch as pl
except ImportError:  # pragma: no cover - depends on which package is installed
    try:
        import pytorch_lightning as pl
    except ImportError:
        raise InputError(
            "The Lightning integration needs the lightning package.",
            "Install it with: pip install 'vatio[lightning]'",
        ) from None

FLOPS_METHOD = "flops_per_batch x training batches ({source})"


class VatioCallback(MeasuredTraining, pl.Callback):
    """Measure a Lightning fit with vatio (options go to `vatio.track`)."""

    def __init__(
        self,
        name: str | None = None,
        *,
        flops_per_batch: float | None = None,
        all_processes: bool = False,
        **tracker_options: Any,
    ) -> None:
        if flops_per_batch is not None and not flops_per_batch >= 0:
            raise InputError(
                f"flops_per_batch must be a non-negative number, not {flops_per_batch!r}."
            )
        self.training = TrainingRun("lightning", name, tracker_options)
        self.flops_per_batch = flops_per_batch
        self.all_processes = all_processes

    def on_fit_start(self, trainer, pl_module):
        if not (trainer.is_global_zero or self.all_processes):
            return
        model_name = type(pl_module).__name__
        self.training.begin(
            f"fit-{model_name}",
            framework_version=pl.__version__,
            model=model_name,
            world_size=trainer.world_size,
            global_rank=trainer.global_rank,
            max_epochs=trainer.max_epochs,
            accumulate_grad_batches=trainer.accumulate_grad_batches,
        )

    def on_train_epoch_start(self, trainer, pl_module):
        self.training.begin_epoch(trainer.current_epoch + 1)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.training.count_batch(batch)

    def on_train_epoch_end(self, trainer, pl_module):
        self.training.end_epoch()

    def on_fit_end(self, trainer, pl_module):
        if not self.training.running:
            return
        flops, method = self._flops(pl_module)
        self.training.end(
            "completed", flops=flops, flops_method=method, global_steps=trainer.global_step
        )

    def on_exception(self, trainer, pl_module, exception):
        status = "interrupted" if isinstance(exception, KeyboardInterrupt) else "failed"
        self.training.end(status, error=f"{type(exception).__name__}: {exception}")

    def _flops(self, pl_module: Any) -> tuple[float | None, str | None]:
        per_batch, source = self.flops_per_batch, "given to VatioCallback"
        if per_batch is None:
            per_batch = getattr(pl_module, "flops_per_batch", None)
            source = "the LightningModule's flops_per_batch"
        if not isinstance(per_batch, int | float) or per_batch <= 0:
            return None, None
        return float(per_batch) * self.training.batches, FLOPS_METHOD.format(source=source)
