"""Hugging Face Transformers: `VatioCallback` measures a Trainer's training as one vatio run.

    trainer = Trainer(..., callbacks=[VatioCallback(zone="ES")])

One phase per epoch (`epoch-1`, `epoch-2`, ...: the epoch's training steps; the
Trainer's evaluation after an epoch falls between phases), samples and tokens
as work counted from every training forward pass (see `training.py` for how
tokens are counted), and the Trainer's own FLOPs estimate (`state.total_flos`)
in the record's "training" extension. The run stops at the end of training;
if training dies first, at interpreter exit, as failed or interrupted.

Only the main process (world rank 0) is measured unless `all_processes=True`,
so that a machine is not measured once per rank.
"""

from __future__ import annotations

import math
from typing import Any

from vatio.errors import InputError
from vatio.integrations.training import MeasuredTraining, TrainingRun

try:
    import transformers
    from transformers import TrainerCallback
except ImportError:  # pragma: no cover - exercised only without the extra
    raise InputError(
        "The Transformers integration needs the transformers package.",
        "Install it with: pip install 'vatio[transformers]'",
    ) from None

FLOPS_METHOD = (
    "estimated by the transformers Trainer (state.total_flos): 6 x non-embedding parameters "
    "x input positions of each training batch (padding included)"
)


class VatioCallback(MeasuredTraining, TrainerCallback):
    """Measure a Trainer's training with vatio (options go to `vatio.track`)."""

    def __init__(
        self, name: str | None = None, *, all_processes: bool = False, **tracker_options: Any
    ) -> None:
        self.training = TrainingRun("transformers", name, tracker_options)
        self.all_processes = all_processes
        self._hook: Any = None
        self._flos_at_start = 0.0

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if not (state.is_world_process_zero or self.all_processes):
            return
        model_name = type(model).__name__ if model is not None else "model"
        self.training.begin(
            f"train-{model_name}",
            framework_version=transformers.__version__,
            model=model_name,
            world_size=args.world_size,
            process_index=args.process_index,
            per_device_train_batch_size=args.per_device_train_batch_size,
            gradient_accumulation_steps=args.gradient_accumulation_steps,
        )
        self._flos_at_start = float(state.total_flos or 0.0)
        if model is not None:
            self._hook = model.register_forward_pre_hook(self._count, with_kwargs=True)

    def _count(self, module: Any, args: tuple, kwargs: dict) -> None:
        if module.training:  # evaluation passes run in eval mode and are not work
            self.training.count_batch(kwargs if kwargs else args)

    def on_epoch_begin(self, args, state, control, **kwargs):
        epoch = math.floor((state.epoch or 0.0) + 1e-9) + 1
        self.training.begin_epoch(epoch)

    def on_epoch_end(self, args, state, control, **kwargs):
        self.training.end_epoch()

    def on_train_end(self, args, state, control, **kwargs):
        self._remove_hook()
        if not self.training.running:
            return
        flops = float(state.total_flos or 0.0) - self._flos_at_start
        seen = getattr(state, "num_input_tokens_seen", 0) or 0
        self.training.end(
            "completed",
            flops=flops if flops > 0 else None,
            flops_method=FLOPS_METHOD if flops > 0 else None,
            global_steps=state.global_step,
            trainer_num_input_tokens_seen=seen if seen > 0 else None,
        )

    def _remove_hook(self) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
