"""A tiny classifier and data for the optimize tests (trains in well under a second)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

USER_MODULE = """
import numpy as np
import torch.nn as nn


def build():
    return nn.Sequential(
        nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3)
    )


def wide():
    return nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 3))


def _data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64")
    return x, y


def eval_set():
    return _data(96, 1)


def train_set():
    return _data(256, 2)


def wrong_shape():
    x, y = _data(16, 3)
    return x[:, :5], y


def wrong_type():
    return ["a", "b"], [0, 1]


def f1_like(y_true, outputs):
    return float((outputs.argmax(1) == y_true).mean())
"""


def data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64")
    return x, y


def build(hidden: int = 32):
    import torch.nn as nn

    return nn.Sequential(
        nn.Linear(8, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 3)
    )


def trained(seed: int = 0):
    """A tiny model trained a few epochs, so quantisation and pruning have real weights."""
    import torch

    from vatio.optimize.torchutil import fit

    torch.manual_seed(seed)
    model = build()
    x, y = data(256, 2)
    return fit(model, x, y, epochs=15, batch_size=32, lr=1e-2, seed=seed)


def write_user_module(folder: Path, with_weights: bool = True) -> Path:
    """The tiny model as a user package in `folder` (as `usermod`), and its weights."""
    import torch

    (folder / "usermod.py").write_text(USER_MODULE, encoding="utf-8")
    weights = folder / "model.pt"
    if with_weights:
        torch.manual_seed(0)
        torch.save(build().state_dict(), weights)
    return weights
