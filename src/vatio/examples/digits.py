"""A small PyTorch MLP trained on scikit-learn's bundled 8x8 digits (no download).

Used by `vatio demo` and the benchmarks; `python -m vatio.examples.digits` runs
it alone, which is also how `vatio run` can be tried on it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vatio.errors import VatioError


def require_ml() -> None:
    try:
        import sklearn  # noqa: F401
        import torch  # noqa: F401
    except ImportError as error:
        raise VatioError(
            f"This needs the machine-learning extra ({error.name} is not installed).",
            "Install it with: pip install torch==2.13.0 'vatio[ml]'",
        ) from None


@dataclass
class DigitsData:
    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any


def load_digits_data(seed: int = 0) -> DigitsData:
    """Standardised digits split 80/20, as float32 tensors."""
    require_ml()
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=seed, stratify=y
    )
    return DigitsData(
        torch.tensor(x_train, dtype=torch.float32),
        torch.tensor(y_train, dtype=torch.long),
        torch.tensor(x_test, dtype=torch.float32),
        torch.tensor(y_test, dtype=torch.long),
    )


def build_model(hidden: int = 256):
    import torch.nn as nn

    return nn.Sequential(
        nn.Linear(64, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, 10),
    )


def accuracy(model, x, y) -> float:
    import torch

    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean())


def train(
    epochs: int = 20,
    batch_size: int = 64,
    seed: int = 0,
    on_epoch: Callable[[int, float], None] | None = None,
    phase: Callable[[str], Any] | None = None,
) -> tuple[Any, float, int]:
    """Train and return (model, test accuracy, samples seen)."""
    import contextlib

    import torch

    from vatio.power import step as power_step

    torch.manual_seed(seed)
    data = load_digits_data(seed)
    model = build_model()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    samples = 0
    for epoch in range(1, epochs + 1):
        context = phase(f"epoch-{epoch}") if phase else contextlib.nullcontext()
        with context:
            order = torch.randperm(len(data.x_train))
            model.train()
            for start in range(0, len(order), batch_size):
                index = order[start : start + batch_size]
                optimiser.zero_grad()
                loss = loss_fn(model(data.x_train[index]), data.y_train[index])
                loss.backward()
                optimiser.step()
                samples += len(index)
                power_step(len(index))  # one check outside `vatio power sweep --steps`
        if on_epoch:
            on_epoch(epoch, accuracy(model, data.x_test, data.y_test))
    return model, accuracy(model, data.x_test, data.y_test), samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train an MLP on scikit-learn's digits.")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    _, acc, samples = train(epochs=args.epochs)
    print(f"trained on {samples} samples, test accuracy {acc:.3f}")


if __name__ == "__main__":
    main()
