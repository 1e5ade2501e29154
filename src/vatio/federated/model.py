"""The compact models of the bundled example, in plain numpy (no framework to load).

`logreg`: logistic regression, 31 parameters. `mlp`: one hidden layer of 16
(513 parameters). Both train with mini-batch SGD on binary cross-entropy, the
same code for every client and for the centralised baseline, so the only
difference between the two is where the data is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vatio.errors import InputError

MODELS = ("logreg", "mlp")
HIDDEN = 16

Params = dict[str, np.ndarray]


def init_params(model: str, features: int, seed: int = 0) -> Params:
    rng = np.random.default_rng(seed)
    if model == "logreg":
        return {"w": np.zeros(features, np.float32), "b": np.zeros(1, np.float32)}
    if model == "mlp":
        scale = np.sqrt(2.0 / features)
        return {
            "w1": (rng.standard_normal((features, HIDDEN)) * scale).astype(np.float32),
            "b1": np.zeros(HIDDEN, np.float32),
            "w2": (rng.standard_normal(HIDDEN) * np.sqrt(1.0 / HIDDEN)).astype(np.float32),
            "b2": np.zeros(1, np.float32),
        }
    raise InputError(f"Unknown model {model!r}.", f"Choose one of: {', '.join(MODELS)}.")


def count_params(params: Params) -> int:
    return int(sum(v.size for v in params.values()))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def predict_proba(params: Params, x: np.ndarray) -> np.ndarray:
    if "w" in params:
        return _sigmoid(x @ params["w"] + params["b"][0])
    hidden = np.maximum(x @ params["w1"] + params["b1"], 0.0)
    return _sigmoid(hidden @ params["w2"] + params["b2"][0])


def _gradients(params: Params, x: np.ndarray, y: np.ndarray) -> Params:
    n = len(y)
    if "w" in params:
        err = predict_proba(params, x) - y
        return {"w": x.T @ err / n, "b": np.array([err.mean()])}
    pre = x @ params["w1"] + params["b1"]
    hidden = np.maximum(pre, 0.0)
    err = _sigmoid(hidden @ params["w2"] + params["b2"][0]) - y
    back = np.outer(err, params["w2"]) * (pre > 0)
    return {
        "w1": x.T @ back / n,
        "b1": back.mean(axis=0),
        "w2": hidden.T @ err / n,
        "b2": np.array([err.mean()]),
    }


@dataclass(frozen=True)
class TrainStats:
    samples: int  # sample-gradient evaluations (examples × epochs)
    loss: float


def train(
    params: Params,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int = 0,
) -> tuple[Params, TrainStats]:
    """Mini-batch SGD from `params`; returns new parameters (float32) and what was done."""
    work = {k: v.astype(np.float64) for k, v in params.items()}
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            batch = order[start : start + batch_size]
            grads = _gradients(work, x[batch], y[batch])
            for name, grad in grads.items():
                work[name] -= lr * grad
    out = {k: v.astype(np.float32) for k, v in work.items()}
    return out, TrainStats(samples=epochs * len(y), loss=log_loss(out, x, y))


def log_loss(params: Params, x: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(predict_proba(params, x), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def accuracy(params: Params, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((predict_proba(params, x) >= 0.5) == y))
