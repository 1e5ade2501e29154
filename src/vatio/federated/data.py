"""The bundled health data: scikit-learn's breast-cancer set split across clients.

569 tumours, 30 features, benign/malignant (Wolberg, Street and Mangasarian,
UCI, as shipped with scikit-learn). The CSV is read straight from the
installed scikit-learn package (no download, and without importing
scikit-learn, whose import costs seconds on a small machine).

Features are scaled to [0, 1] with fixed per-feature ranges: public schema
knowledge (the same minima and maxima are printed in the data set's
description), so no client shares anything to compute them and the
centralised baseline uses exactly the same preprocessing.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vatio.errors import InputError

TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Split:
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


def _csv_path() -> Path:
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "The bundled health example needs scikit-learn's bundled data set.",
            "Install it with: pip install 'vatio[fl]'",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets/data/breast_cancer.csv"
    if not path.is_file():
        raise InputError(f"scikit-learn's breast-cancer data is missing ({path}).")
    return path


def load_health() -> tuple[np.ndarray, np.ndarray]:
    """All 569 samples: features (569, 30) float64 and labels (569,) int (1 = benign)."""
    table = np.loadtxt(_csv_path(), delimiter=",", skiprows=1)
    return table[:, :-1], table[:, -1].astype(np.int64)


def scale(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return (x - lo) / np.where(hi > lo, hi - lo, 1.0)


def train_test(seed: int = 0) -> tuple[Split, Split]:
    """A stratified 80/20 split, scaled to [0, 1] with the public feature ranges."""
    x, y = load_health()
    lo, hi = x.min(axis=0), x.max(axis=0)
    x = scale(x, lo, hi)
    rng = np.random.default_rng(seed)
    test_idx: list[int] = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        test_idx.extend(members[: round(len(members) * TEST_FRACTION)].tolist())
    test_mask = np.zeros(len(y), dtype=bool)
    test_mask[test_idx] = True
    train = np.flatnonzero(~test_mask)
    rng.shuffle(train)
    return Split(x[train], y[train]), Split(x[test_mask], y[test_mask])


def partition(
    n_samples: int,
    labels: np.ndarray,
    clients: int,
    *,
    non_iid: bool,
    seed: int = 0,
    alpha: float = 0.5,
    min_size: int = 10,
) -> list[np.ndarray]:
    """Indices of each client's share: IID (random, equal sizes) or label-skewed (Dirichlet).

    Non-IID draws each class's split across clients from Dirichlet(alpha), the
    usual label-skew benchmark (Hsu et al., 2019); it redraws until every
    client holds at least `min_size` samples.
    """
    if clients < 1:
        raise InputError("A federated run needs at least one client.")
    if n_samples < clients * min_size:
        raise InputError(
            f"{n_samples} training samples cannot give {clients} clients {min_size} samples each.",
            "Use fewer clients.",
        )
    rng = np.random.default_rng(seed)
    if not non_iid:
        order = rng.permutation(n_samples)
        return [np.sort(part) for part in np.array_split(order, clients)]
    for _ in range(1000):
        shares: list[list[int]] = [[] for _ in range(clients)]
        for label in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == label))
            weights = rng.dirichlet(np.full(clients, alpha))
            cuts = (np.cumsum(weights) * len(members)).astype(int)[:-1]
            for client, part in enumerate(np.split(members, cuts)):
                shares[client].extend(part.tolist())
        if min(len(s) for s in shares) >= min_size:
            return [np.sort(np.array(s, dtype=np.int64)) for s in shares]
    raise InputError(f"Cannot draw a non-IID split of {n_samples} samples for {clients} clients.")


def client_split(index: int, clients: int, *, non_iid: bool, seed: int = 0) -> Split:
    """Client `index`'s training data for a run with `clients` clients."""
    train, _ = train_test(seed)
    parts = partition(len(train), train.y, clients, non_iid=non_iid, seed=seed)
    idx = parts[index]
    return Split(train.x[idx], train.y[idx])
