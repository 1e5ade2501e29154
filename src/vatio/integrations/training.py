"""What the Transformers and Lightning callbacks share: one tracker, epoch phases, work.

All tracker use of the framework callbacks is here, so that the record layer
can be adopted in one place. Work is counted from the batches that went
through training, never from the dataset size:
- samples: the batch dimension of each training batch;
- tokens: non-padding tokens, the sum of `attention_mask` when the batch has
  one; else every position of `input_ids` (padding included). The record says
  which (`extensions.training.tokens_method`).
Counts of tensors on an accelerator stay there until an epoch ends, so that
counting never forces a device synchronisation per step.
"""

from __future__ import annotations

import atexit
import contextlib
import sys
from collections.abc import Mapping
from typing import Any

TOKENS_FROM_MASK = "attention_mask sum (non-padding tokens)"
TOKENS_FROM_IDS = "input_ids positions (padding included)"


class TrainingRun:
    """A vatio run around one training: start, one phase per epoch, work, FLOPs, stop."""

    def __init__(self, framework: str, name: str | None, tracker_options: dict[str, Any]):
        self.framework = framework
        self.name = name
        self.tracker_options = dict(tracker_options)
        self.tracker: Any = None
        self.result: Any = None
        self._phase: contextlib.AbstractContextManager | None = None
        self._samples = 0
        self._batches = 0
        self._tokens: Any = 0  # an int, or a tensor still on its device
        self._token_methods: set[str] = set()
        self._epochs = 0
        self._flushed = (0, 0)
        self.section: dict[str, Any] = {"framework": framework}

    @property
    def batches(self) -> int:
        """Training batches counted so far."""
        return self._batches

    @property
    def running(self) -> bool:
        return self.tracker is not None and self.result is None

    # -- lifecycle ------------------------------------------------------------------------
    def begin(self, default_name: str, **section: Any) -> None:
        if self.running:  # a previous training of this callback ended without its end hook
            self.end("failed", error="training ended without its end callback")
        from vatio.api import Tracker  # the public tracker: options as in vatio.track()

        self.tracker = Tracker(self.name or default_name, **self.tracker_options)
        self.result = None
        self._samples, self._batches, self._tokens, self._epochs = 0, 0, 0, 0
        self._flushed = (0, 0)
        self._token_methods = set()
        self.section = {"framework": self.framework, **section}
        self.tracker.start()
        atexit.register(self._at_exit)

    def begin_epoch(self, epoch: int) -> None:
        if not self.running:
            return
        self.end_epoch()
        self._phase = self.tracker.phase(f"epoch-{epoch}")
        self._phase.__enter__()
        self._epochs += 1

    def end_epoch(self) -> None:
        if self._phase is not None:
            phase, self._phase = self._phase, None
            phase.__exit__(None, None, None)
            self._flush_work()

    def end(
        self,
        status: str = "completed",
        *,
        error: str | None = None,
        flops: float | None = None,
        flops_method: str | None = None,
        **section: Any,
    ) -> Any:
        """Close the open epoch, record work and the training section, stop the tracker."""
        if not self.running:
            return self.result
        self.end_epoch()
        self._flush_work()
        self.section.update({k: v for k, v in section.items() if v is not None})
        self.section["epochs_measured"] = self._epochs
        self.section["batches"] = self._batches
        self.section["samples"] = self._samples
        tokens = int(self._tokens)
        self.section["tokens"] = tokens if self._token_methods else None
        self.section["tokens_method"] = " and ".join(sorted(self._token_methods)) or None
        if flops is not None:
            self.section["flops"] = float(flops)
            self.section["flops_method"] = flops_method
        self.tracker.set_extension("training", dict(self.section))
        code = 0 if status == "completed" else None
        self.result = self.tracker.stop(status, exit_code=code, error=error)
        atexit.unregister(self._at_exit)
        return self.result

    def _at_exit(self) -> None:
        """The interpreter is leaving with training still measured: record why."""
        if not self.running:
            return
        kind = getattr(sys, "last_type", None)
        if kind is not None and issubclass(kind, KeyboardInterrupt):
            self.end("interrupted", error="KeyboardInterrupt")
        else:
            name = kind.__name__ if kind is not None else "exit"
            self.end("failed", error=f"training ended without its end callback ({name})")

    # -- work -----------------------------------------------------------------------------
    def count_batch(self, batch: Any) -> None:
        """Count the samples and tokens of one training batch (see the module docstring)."""
        if not self.running:
            return
        samples, tokens, method = batch_work(batch)
        self._batches += 1
        self._samples += samples
        if method is not None:
            self._tokens = self._tokens + tokens
            self._token_methods.add(method)

    def _flush_work(self) -> None:
        """Hand the counts since the last flush to the tracker (one device sync per epoch)."""
        if not self.running:
            return
        tokens = int(self._tokens)
        new_samples, new_tokens = self._samples - self._flushed[0], tokens - self._flushed[1]
        work = {}
        if new_samples > 0:
            work["samples"] = new_samples
        if new_tokens > 0:
            work["tokens"] = new_tokens
        if work:
            self.tracker.add_work(**work)
        self._tokens = tokens
        self._flushed = (self._samples, tokens)


class MeasuredTraining:
    """What both framework callbacks expose: the run they hold and its result."""

    training: TrainingRun

    @property
    def result(self) -> Any:
        """The vatio RunResult of the last training (None until it ends)."""
        return self.training.result

    @property
    def tracker(self) -> Any:
        """The live tracker while training runs (None before it starts)."""
        return self.training.tracker


def batch_work(batch: Any) -> tuple[int, Any, str | None]:
    """(samples, tokens, how tokens were counted) of a batch; tokens may be a device tensor."""
    if isinstance(batch, Mapping):
        mask = batch.get("attention_mask")
        ids = batch.get("input_ids")
        if _is_tensor(mask):
            return _rows(mask), mask.sum(), TOKENS_FROM_MASK
        if _is_tensor(ids):
            return _rows(ids), ids.numel(), TOKENS_FROM_IDS
        for value in batch.values():
            if _is_tensor(value) and value.dim() > 0:
                return _rows(value), 0, None
        return 0, 0, None
    if _is_tensor(batch):
        return _rows(batch), 0, None
    if isinstance(batch, list | tuple):
        for item in batch:
            samples, tokens, method = batch_work(item)
            if samples:
                return samples, tokens, method
    return 0, 0, None


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "sum") and hasattr(value, "numel")


def _rows(tensor: Any) -> int:
    return int(tensor.shape[0]) if len(tensor.shape) else 1


def training_section(result: Any) -> dict[str, Any] | None:
    """The training section of a finished result (record extension "training")."""
    return (getattr(result, "extensions", None) or {}).get("training")
