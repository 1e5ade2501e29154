"""The bundled example: the digits MLP of `vatio.examples.digits`, trained here (no download).

Eval is the 20 % test split; --train is the 80 % training split, whose first
samples also calibrate INT8 static quantisation. Training uses one thread,
which is faster than several for a model this small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vatio.optimize.variant import Dataset

EXAMPLES = ("digits",)


@dataclass
class ExampleInputs:
    model: Any
    eval: Dataset
    train: Dataset
    source: dict[str, Any]


def digits(epochs: int = 20, seed: int = 0) -> ExampleInputs:
    from vatio.examples.digits import load_digits_data, require_ml, train
    from vatio.optimize.torchutil import torch_threads

    require_ml()
    with torch_threads(1):
        model, acc, _ = train(epochs=epochs, seed=seed)
    data = load_digits_data(seed)
    return ExampleInputs(
        model.eval(),
        Dataset(data.x_test.numpy(), data.y_test.numpy()),
        Dataset(data.x_train.numpy(), data.y_train.numpy()),
        {
            "example": "digits",
            "model": "vatio.examples.digits:build_model (MLP 64-256-256-10)",
            "training": f"{epochs} epochs, seed {seed}, Adam 1e-3, test accuracy {acc:.4f}",
            "data": "scikit-learn load_digits, 80/20 stratified split (random_state=seed)",
        },
    )
