"""The bundled health data and compact models: splits, skew, learning, sample counts."""

from __future__ import annotations

import numpy as np
import pytest

from vatio.errors import InputError
from vatio.federated import data, model


def test_the_data_loads_without_importing_scikit_learn():
    import subprocess
    import sys

    code = (
        "import sys; from vatio.federated import data; x, y = data.load_health(); "
        "print(x.shape, int(y.sum()), 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["(569,", "30)", "357", "False"]


def test_the_split_is_stratified_and_scaled():
    train, test = data.train_test(0)
    assert len(train) + len(test) == 569 and len(test) == 113
    assert abs(train.y.mean() - test.y.mean()) < 0.02
    assert train.x.min() >= 0 and train.x.max() <= 1


def test_iid_partitions_are_even_and_disjoint():
    train, _ = data.train_test(0)
    parts = data.partition(len(train), train.y, 4, non_iid=False)
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1
    assert len(np.unique(np.concatenate(parts))) == len(train)


def test_non_iid_partitions_skew_the_labels():
    train, _ = data.train_test(0)
    parts = data.partition(len(train), train.y, 4, non_iid=True)
    shares = [train.y[p].mean() for p in parts]
    assert max(shares) - min(shares) > 0.3
    assert all(len(p) >= 10 for p in parts)
    assert len(np.unique(np.concatenate(parts))) == len(train)


def test_too_many_clients_is_an_input_error():
    with pytest.raises(InputError):
        data.partition(50, np.zeros(50), 10, non_iid=False)


@pytest.mark.parametrize("name", model.MODELS)
def test_models_learn_and_count_samples(name):
    train, test = data.train_test(0)
    params = model.init_params(name, 30)
    before = model.accuracy(params, test.x, test.y)
    trained, stats = model.train(params, train.x, train.y, epochs=5, batch_size=16, lr=1.0)
    assert stats.samples == 5 * len(train)
    assert model.accuracy(trained, test.x, test.y) > max(before, 0.9)
    assert all(v.dtype == np.float32 for v in trained.values())
    assert model.count_params(trained) == (31 if name == "logreg" else 513)


def test_unknown_model():
    with pytest.raises(InputError):
        model.init_params("transformer", 30)
