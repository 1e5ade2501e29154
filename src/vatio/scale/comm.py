"""Timing DDP's gradient all-reduce with a communication hook.

The hook wraps PyTorch's default `allreduce_hook` and records, per bucket, the
time from launch to the completion of its future plus the bucket's bytes. On
CPU (gloo) the future completes when the reduction is done, so host clocks are
right; on GPU (nccl) the future completes when the work is queued, so CUDA
events on the communication stream time it instead. The figure includes the
time a bucket waits behind earlier ones; the `no_sync` check (steps with
gradient sync off) says how much of it the step really pays.
"""

from __future__ import annotations

import time
from typing import Any

from vatio.scale.reporter import Recorder


def register_timing_hook(model: Any, recorder: Recorder) -> bool:
    """Register the timing hook on a DistributedDataParallel model; False if it cannot be."""
    import torch
    from torch.distributed.algorithms.ddp_comm_hooks import default_hooks

    if not hasattr(model, "register_comm_hook"):
        return False

    # No annotations: DDP checks them against GradBucket and Future, and strings fail.
    def timed_allreduce(state, bucket):  # type: ignore[no-untyped-def]
        buffer = bucket.buffer()
        nbytes = buffer.numel() * buffer.element_size()
        if buffer.is_cuda:
            start_event = torch.cuda.Event(enable_timing=True)
            start_event.record()
            future = default_hooks.allreduce_hook(state, bucket)

            def gpu_done(done):  # type: ignore[no-untyped-def]
                end_event = torch.cuda.Event(enable_timing=True)
                end_event.record()
                recorder.add_gpu_comm(start_event, end_event, nbytes)
                return done.value()

            return future.then(gpu_done)
        start = time.perf_counter()
        future = default_hooks.allreduce_hook(state, bucket)

        def cpu_done(done):  # type: ignore[no-untyped-def]
            recorder.add_comm(start, time.perf_counter(), nbytes)
            return done.value()

        return future.then(cpu_done)

    model.register_comm_hook(None, timed_allreduce)
    recorder.comm_timing = "cuda-events" if _on_cuda(model) else "host-clock"
    return True


def _on_cuda(model: Any) -> bool:
    try:
        return next(model.parameters()).is_cuda
    except StopIteration:
        return False
