"""PyTorch helpers shared by the variants: ONNX export, training with distillation, threads."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OPSET = 17
#: models below this many parameters train faster on one thread than on several
SMALL_MODEL_PARAMS = 5_000_000


def export_onnx(model: Any, example: Any, path: Path) -> Path:
    """Export with a dynamic batch axis.

    The TorchScript exporter needs nothing beyond torch; it is deprecated since
    torch 2.9, so when it fails the torch.export-based one (which needs
    `onnxscript`) is tried before giving up with the first error.
    """
    import torch

    model.eval()
    sample = torch.as_tensor(example)
    options: dict[str, Any] = {
        "input_names": ["input"],
        "output_names": ["output"],
        "dynamic_axes": {"input": {0: "batch"}, "output": {0: "batch"}},
        "opset_version": OPSET,
    }
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(model, (sample,), str(path), dynamo=False, **options)
        except Exception as first:
            try:
                torch.onnx.export(model, (sample,), str(path), dynamo=True, **options)
            except Exception:
                raise first from None
    return path


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Set torch's intra-op threads for a block and restore them after."""
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def n_params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def train_threads(model: Any) -> int | None:
    """One thread for small models: thread start-up costs more than it saves on them."""
    return 1 if n_params(model) < SMALL_MODEL_PARAMS else None


def is_classification(y: Any, outputs: Any) -> bool:
    import numpy as np

    y = np.asarray(y)
    return y.ndim == 1 and np.issubdtype(y.dtype, np.integer) and np.ndim(outputs) == 2


def fit(
    student: Any,
    x: Any,
    y: Any | None,
    *,
    teacher: Any | None = None,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 1e-3,
    temperature: float = 4.0,
    alpha: float = 0.7,
    seed: int = 0,
) -> Any:
    """Train `student` on (x, y), distilling from `teacher`'s outputs when given.

    Classification uses Hinton's loss (soft targets at `temperature`, weight
    `alpha`, plus cross-entropy on labels); other outputs match the teacher by MSE.
    """
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    xs = torch.as_tensor(x)
    soft = None
    if teacher is not None:
        teacher.eval()
        with torch.no_grad():
            soft = teacher(xs)
    ys = torch.as_tensor(y) if y is not None else None
    classify = ys is not None and is_classification(
        ys.numpy(), (soft if soft is not None else [[0]])
    )
    optimiser = torch.optim.Adam(student.parameters(), lr=lr)
    with torch_threads(train_threads(student)):
        for _ in range(epochs):
            student.train()
            order = torch.randperm(len(xs))
            for start in range(0, len(order), batch_size):
                index = order[start : start + batch_size]
                out = student(xs[index])
                if soft is None:
                    assert ys is not None
                    loss = F.cross_entropy(out, ys[index])
                elif classify:
                    assert ys is not None
                    kd = F.kl_div(
                        F.log_softmax(out / temperature, dim=1),
                        F.softmax(soft[index] / temperature, dim=1),
                        reduction="batchmean",
                    )
                    loss = alpha * temperature**2 * kd + (1 - alpha) * F.cross_entropy(
                        out, ys[index]
                    )
                else:
                    loss = F.mse_loss(out, soft[index])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
    student.eval()
    return student
