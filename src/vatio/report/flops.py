"""Training compute in FLOPs, for Annex XI §1.2(d) of the EU AI Act.

Count one training step with PyTorch's `FlopCounterMode`, multiply by the
number of steps, and record it on the run so the report finds it:

    per_step = count_training_flops(model, (inputs, targets), loss_fn)
    tracker.add_work(flops=per_step * steps)

The counter sees matrix multiplications, convolutions and attention, which
dominate training compute; element-wise operations are not counted, so the
figure is a slight underestimate. A figure known otherwise can be recorded the
same way, or given to `vatio report --flops`.
"""

from __future__ import annotations

from typing import Any

from vatio.report.sci import FLOP_UNITS

COUNTED_METHOD = "PyTorch FlopCounterMode on a sample training step (forward + backward)"


def count_training_flops(model: Any, sample_batch: Any, loss_fn: Any) -> int:
    """FLOPs of one training step: forward, loss and backward on `sample_batch`.

    `sample_batch` is `(inputs, targets)` (the loss is `loss_fn(model(inputs), targets)`)
    or the inputs alone (the loss is `loss_fn(model(inputs))`). Gradients the model
    held before are restored, so counting does not disturb training.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    if isinstance(sample_batch, tuple | list) and len(sample_batch) == 2:
        inputs, targets = sample_batch
        compute_loss = lambda out: loss_fn(out, targets)  # noqa: E731
    else:
        inputs = sample_batch
        compute_loss = loss_fn
    params = [p for p in model.parameters() if p.requires_grad]
    saved = [p.grad for p in params]
    for p in params:
        p.grad = None
    try:
        with torch.enable_grad(), FlopCounterMode(display=False) as counter:
            loss = compute_loss(model(inputs))
            loss.backward()
        return int(counter.get_total_flops())
    finally:
        for p, grad in zip(params, saved, strict=True):
            p.grad = grad


def recorded_flops(record: dict[str, Any], given: float | None = None) -> dict[str, Any] | None:
    """Training FLOPs of a run: given on the command line, else recorded on the run."""
    if given is not None:
        return {"value": float(given), "source": "user", "method": "given to `vatio report`"}
    training = (record.get("extensions") or {}).get("training") or {}
    if isinstance(training.get("flops"), int | float) and training["flops"] >= 0:
        method = str(training.get("flops_method") or "recorded by a training callback")
        return {"value": float(training["flops"]), "source": "training", "method": method}
    metadata = record.get("metadata") or {}
    for key in ("training_flops", "flops"):
        if isinstance(metadata.get(key), int | float):
            method = str(metadata.get("flops_method") or f"recorded in the run's metadata ({key})")
            return {"value": float(metadata[key]), "source": "metadata", "method": method}
    work = record.get("work") or {}
    for key in sorted(FLOP_UNITS):
        if work.get(key):
            return {
                "value": float(work[key]),
                "source": "work",
                "method": f"recorded with add_work({key}=...), e.g. counted with {COUNTED_METHOD}",
            }
    return None
