"""The accepted data forms and the one-sentence errors of the input loaders (in process)."""

from __future__ import annotations

import numpy as np
import pytest

from vatio.errors import InputError
from vatio.optimize.inputs import as_dataset, load_onnx, resolve


def test_accepted_data_forms():
    x = np.zeros((4, 3), dtype="float64")
    y = np.arange(4)
    for form in ((x, y), [x, y], {"x": x, "y": y}):
        data = as_dataset(form, "eval set")
        assert data.x.dtype == np.float32 and data.x.shape == (4, 3) and len(data.y) == 4
    torch = pytest.importorskip("torch")
    tensors = torch.utils.data.TensorDataset(torch.zeros(4, 3), torch.arange(4))
    assert as_dataset(tensors, "eval set").y.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ((np.zeros((4, 3)), np.arange(3)), "has 4 inputs but 3 targets"),
        ((np.zeros(4), np.arange(4)), "expected (samples, features...)"),
        ("not data", "is a str, not inputs and targets"),
        ({"y": [1]}, "without an 'x' entry"),
        ((np.array([object(), object()]).reshape(2, 1), [0, 1]), "of type object"),
    ],
)
def test_bad_data_is_one_sentence(value, needle):
    with pytest.raises(InputError) as caught:
        as_dataset(value, "eval set", need_y=True)
    assert needle in caught.value.message


def test_resolve_messages(tmp_path):
    with pytest.raises(InputError, match="not an import path"):
        resolve("no_colon_here", "--model")
    with pytest.raises(InputError, match="has no attribute 'nope'"):
        resolve("json:nope", "--eval")
    assert resolve("json:dumps", "--metric").__name__ == "dumps"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_fixed_batch_onnx_is_refused_with_a_hint(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    path = tmp_path / "fixed.onnx"
    torch.onnx.export(torch.nn.Linear(3, 2), (torch.zeros(1, 3),), str(path), dynamo=False)
    with pytest.raises(InputError, match="fixed batch size of 1") as caught:
        load_onnx(path)
    assert "dynamic_axes" in caught.value.hint
