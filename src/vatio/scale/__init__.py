"""Scale out only when it pays: the reporting API for training scripts.

    import vatio.scale

    model = vatio.scale.instrument(DistributedDataParallel(net))  # times the all-reduce
    for x, y in loader:
        ...
        vatio.scale.step(samples=len(x))  # this rank's samples in this step

Both are no-ops outside `vatio scale` (one check, no torch import), so they
can stay in the script. Under it they record per-rank step times, samples,
all-reduce time and bytes, CPU time and memory, and write them at exit. The
study itself (`vatio scale`) lives in the modules next to this one and is
imported only by the command.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TypeVar

from vatio.scale.reporter import (
    ENV_BACKEND,
    ENV_NO_SYNC,
    ENV_SCALING,
    current,
    step,
)

__all__ = ["backend", "enabled", "flush", "instrument", "pause", "scaling", "step"]

M = TypeVar("M")


def enabled() -> bool:
    """True when running under `vatio scale`."""
    return current() is not None


def flush() -> None:
    """Write this rank's report now (it is also written at exit)."""
    recorder = current()
    if recorder is not None:
        recorder.flush()


@contextlib.contextmanager
def pause() -> Iterator[None]:
    """Leave evaluation or checkpointing between steps out of the step times.

    The time still counts in the training window (throughput, energy): it is
    only kept out of the per-step figures and their compute/communication split.
    """
    try:
        yield
    finally:
        recorder = current()
        if recorder is not None:
            recorder.restart_clock()


def instrument(model: M) -> M:
    """Time the gradient all-reduce of a DistributedDataParallel model (returns it unchanged).

    In the `no_sync` check run of `vatio scale --no-sync-check`, it also turns
    gradient synchronisation off, as `model.no_sync()` does, so the study can
    compare steps with and without communication.
    """
    recorder = current()
    if recorder is None or recorder.instrumented:
        return model
    from vatio.scale.comm import register_timing_hook

    try:
        recorder.instrumented = register_timing_hook(model, recorder)
    except (RuntimeError, ValueError) as error:  # e.g. the script has its own hook already
        sys.stderr.write(f"vatio.scale: all-reduce not timed: {error}\n")
        return model
    if recorder.instrumented:
        recorder.parameters = sum(p.numel() for p in model.parameters())  # type: ignore[attr-defined]
        if os.environ.get(ENV_NO_SYNC) == "1":
            model.require_backward_grad_sync = False  # type: ignore[attr-defined]
    return model


def scaling() -> str:
    """'strong' (fixed global work, split across ranks) or 'weak' (fixed work per rank)."""
    return os.environ.get(ENV_SCALING, "strong")


def backend() -> str:
    """The process-group backend `vatio scale` chose: nccl with CUDA, else gloo."""
    chosen = os.environ.get(ENV_BACKEND)
    if chosen:
        return chosen
    try:
        import torch

        return "nccl" if torch.cuda.is_available() else "gloo"
    except ImportError:
        return "gloo"
