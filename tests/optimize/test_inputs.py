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


def test_calibration_takes_inputs_alone():
    """Calibration needs no labels: a bare array or tensor is a calibration set."""
    x = np.ones((5, 3), dtype="float64")
    calib = as_dataset(x, "calibration set", inputs_alone=True)
    assert calib.x.shape == (5, 3) and calib.x.dtype == np.float32 and calib.y is None
    assert as_dataset((x, np.arange(5)), "calibration set", inputs_alone=True).x.shape == (5, 3)
    with pytest.raises(InputError, match="is a ndarray, not inputs and targets"):
        as_dataset(x, "eval set")  # an eval set still needs its (x, y) form
    with pytest.raises(InputError, match="is a str, not inputs") as caught:
        as_dataset("x", "calibration set", inputs_alone=True)
    assert "an array or tensor of inputs" in caught.value.hint
    torch = pytest.importorskip("torch")
    assert as_dataset(torch.ones(4, 3), "calibration set", inputs_alone=True).y is None


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_calib_flag_accepts_a_function_returning_inputs(tmp_path, monkeypatch):
    """`--calib pkg:calib_set` where calib_set() returns inputs only, through load_inputs."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from vatio.optimize.inputs import load_inputs

    (tmp_path / "calibmod.py").write_text(
        "import numpy as np\n"
        "def calib_set():\n    return np.zeros((16, 3), dtype='float32')\n"
        "def eval_set():\n    return np.zeros((8, 3), 'float32'), np.zeros(8, 'int64')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "m.onnx"
    torch.onnx.export(
        torch.nn.Linear(3, 2), (torch.zeros(1, 3),), str(path), dynamo=False,
        input_names=["x"], dynamic_axes={"x": {0: "batch"}},
    )  # fmt: skip
    found = load_inputs(
        None, None, path, "calibmod:eval_set", "calibmod:calib_set", None, None, None
    )
    assert found["calib"].x.shape == (16, 3) and found["calib"].y is None
    assert found["source"]["calib"] == "calibmod:calib_set"
