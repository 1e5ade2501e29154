"""Structure of feed-forward stacks, so pruning and distillation can rebuild them smaller.

Supported: an `nn.Sequential` (nested ones are flattened) whose Linear layers
are separated only by elementwise modules (activations, dropout) or
BatchNorm1d. Anything before the first or after the last Linear is kept as is.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from vatio.optimize.variant import VariantError

ELEMENTWISE = (
    "ReLU", "ReLU6", "LeakyReLU", "GELU", "SiLU", "Tanh", "Sigmoid", "ELU", "SELU", "CELU",
    "Hardswish", "Hardsigmoid", "Hardtanh", "Mish", "Softplus", "Dropout", "AlphaDropout",
    "Identity",
)  # fmt: skip


def flatten(model: Any) -> list[Any]:
    import torch.nn as nn

    if not isinstance(model, nn.Sequential):
        raise VariantError(
            "structured rebuild needs an nn.Sequential of Linear layers; "
            f"got {type(model).__name__}"
        )
    layers: list[Any] = []
    for module in model:
        layers.extend(flatten(module) if isinstance(module, nn.Sequential) else [module])
    return layers


def linear_positions(layers: list[Any]) -> list[int]:
    """Indices of the Linear layers, after checking what sits between them."""
    import torch.nn as nn

    found = [i for i, layer in enumerate(layers) if isinstance(layer, nn.Linear)]
    if len(found) < 2:
        raise VariantError(
            "nothing to shrink: the model has fewer than two Linear layers, so no hidden units"
        )
    for a, b in itertools.pairwise(found):
        for layer in layers[a + 1 : b]:
            kind = type(layer).__name__
            if kind not in ELEMENTWISE and kind != "BatchNorm1d":
                raise VariantError(
                    f"cannot shrink hidden units through a {kind} layer "
                    "(only activations, dropout and BatchNorm1d may sit between Linear layers)"
                )
    return found


def hidden_widths(model: Any) -> list[int]:
    layers = flatten(model)
    return [layers[i].out_features for i in linear_positions(layers)[:-1]]


def rebuild(model: Any, keep: list[Any | None], fresh: bool = False, seed: int = 0) -> Any:
    """A new Sequential keeping, for each hidden Linear, the output units in `keep[j]`.

    With fresh=False the kept weights are copied (pruning); with fresh=True the
    smaller layers start from a new random initialisation (a distillation student).
    """
    import torch
    import torch.nn as nn

    torch.manual_seed(seed)
    layers = flatten(model)
    positions = linear_positions(layers)
    out: list[Any] = [copy.deepcopy(layer) for layer in layers]
    previous = None
    for j, i in enumerate(positions):
        old = layers[i]
        weight = old.weight.detach()
        bias = old.bias.detach() if old.bias is not None else None
        if previous is not None:
            weight = weight[:, previous]
        rows = keep[j] if j < len(keep) else None
        if rows is not None:
            weight = weight[rows]
            bias = bias[rows] if bias is not None else None
        new = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
        if not fresh:
            with torch.no_grad():
                new.weight.copy_(weight)
                if bias is not None:
                    new.bias.copy_(bias)
        out[i] = new
        if rows is not None:
            end = positions[j + 1]
            for k in range(i + 1, end):
                if type(layers[k]).__name__ == "BatchNorm1d":
                    out[k] = _slice_norm(layers[k], rows, fresh)
        previous = rows
    return nn.Sequential(*out).eval()


def _slice_norm(norm: Any, rows: Any, fresh: bool) -> Any:
    import torch
    import torch.nn as nn

    new = nn.BatchNorm1d(len(rows), eps=norm.eps, momentum=norm.momentum, affine=norm.affine)
    if not fresh:
        with torch.no_grad():
            if norm.affine:
                new.weight.copy_(norm.weight[rows])
                new.bias.copy_(norm.bias[rows])
            if norm.running_mean is not None:
                new.running_mean.copy_(norm.running_mean[rows])
                new.running_var.copy_(norm.running_var[rows])
    return new


def l1_keep(model: Any, ratio: float) -> list[Any]:
    """For each hidden Linear, the units with the largest L1 norm of incoming weights."""
    import torch

    layers = flatten(model)
    positions = linear_positions(layers)
    keep = []
    for i in positions[:-1]:
        weight = layers[i].weight.detach()
        k = max(1, round(weight.shape[0] * (1 - ratio)))
        scores = weight.abs().sum(dim=1)
        keep.append(torch.sort(torch.topk(scores, k).indices).values)
    return keep
