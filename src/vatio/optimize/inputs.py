"""The user's inputs (import paths, weights, ONNX files, data sets), checked with clear errors.

Every mistake becomes one InputError sentence naming the cause, before any
measurement starts; the CLI turns it into exit code 2 without a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vatio.errors import InputError, VatioError
from vatio.optimize.variant import Dataset, one_line

DATA_FORMS = "an (x, y) pair, a dict with 'x' and 'y', or a torch TensorDataset"
CALIB_FORMS = f"an array or tensor of inputs, or {DATA_FORMS} (targets unused)"


def resolve(spec: str, flag: str) -> Any:
    """The object at 'package.module:attribute' (the working directory is importable)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise InputError(
            f"{flag} {spec!r} is not an import path.", "Write it as package.module:attribute."
        )
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise InputError(
            f"{flag} {spec!r}: module {error.name!r} cannot be imported.",
            "Check the spelling and run vatio from the folder that holds the package.",
        ) from None
    except Exception as error:
        raise InputError(
            f"{flag} {spec!r}: importing {module_name} failed ({one_line(error)})."
        ) from None
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise InputError(f"{flag} {spec!r}: {module_name} has no attribute {attr!r}.")
        target = getattr(target, part)
    return target


def _call(value: Any, flag: str, spec: str) -> Any:
    if not callable(value):
        return value
    try:
        return value()
    except Exception as error:
        raise InputError(f"{flag} {spec!r}: calling it failed ({one_line(error)}).") from None


def to_numpy(value: Any, what: str) -> Any:
    import numpy as np

    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except Exception as error:
        raise InputError(f"The {what} cannot be read as an array ({one_line(error)}).") from None
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise InputError(f"The {what} are of type {array.dtype}, not numbers.")
    if np.issubdtype(array.dtype, np.floating):
        return np.ascontiguousarray(array, dtype=np.float32)
    return np.ascontiguousarray(array)


def as_dataset(value: Any, what: str, need_y: bool = False, inputs_alone: bool = False) -> Dataset:
    """A Dataset from the accepted forms, with lengths and ranks checked.

    With `inputs_alone` (calibration needs no labels), a bare array or tensor of
    inputs is accepted too, as are all the other forms (their targets unused).
    """
    if hasattr(value, "tensors"):  # torch TensorDataset
        value = value.tensors
    if inputs_alone and _array_like(value):
        value = (value,)
    if isinstance(value, dict):
        if "x" not in value:
            raise InputError(f"The {what} is a dict without an 'x' entry.", f"Give {DATA_FORMS}.")
        value = (value["x"], value.get("y"))
    if not isinstance(value, tuple | list) or len(value) not in (1, 2):
        wanted = "inputs" if inputs_alone else "inputs and targets"
        raise InputError(
            f"The {what} is a {type(value).__name__}, not {wanted}.",
            f"Give {CALIB_FORMS if inputs_alone else DATA_FORMS}.",
        )
    x = to_numpy(value[0], f"{what} inputs")
    y = to_numpy(value[1], f"{what} targets") if len(value) == 2 and value[1] is not None else None
    if x.ndim < 2 or len(x) == 0:
        raise InputError(
            f"The {what} inputs have shape {x.shape}; expected (samples, features...) "
            "with at least one sample."
        )
    if y is not None and len(y) != len(x):
        raise InputError(f"The {what} has {len(x)} inputs but {len(y)} targets.")
    if need_y and y is None:
        raise InputError(f"The {what} has no targets (y).", f"Give {DATA_FORMS}.")
    return Dataset(x, y)


def _array_like(value: Any) -> bool:
    """A numpy array, a torch tensor or another object with a shape (not a container)."""
    return not isinstance(value, tuple | list | dict | str | bytes) and (
        hasattr(value, "shape") or hasattr(value, "__array__")
    )


def load_dataset(
    spec: str, flag: str, what: str, need_y: bool = False, inputs_alone: bool = False
) -> Dataset:
    return as_dataset(_call(resolve(spec, flag), flag, spec), what, need_y, inputs_alone)


def load_metric(spec: str) -> Callable[[Any, Any], float]:
    metric = resolve(spec, "--metric")
    if not callable(metric):
        raise InputError(f"--metric {spec!r} is not a function metric(y_true, y_pred).")
    return metric


def load_torch_model(build_spec: str, weights: Path | None) -> Any:
    """Build the model, then load the state dict; a mismatch names the first bad tensors."""
    import torch

    model = _call(resolve(build_spec, "--model"), "--model", build_spec)
    if not isinstance(model, torch.nn.Module):
        raise InputError(
            f"--model {build_spec!r} gave a {type(model).__name__}, not a torch.nn.Module."
        )
    if weights is not None:
        state = _state_dict(weights)
        _check(model, state, weights, build_spec)
        try:
            model.load_state_dict(state, strict=True)
        except Exception as error:
            raise InputError(
                f"The weights in {weights} do not load into {build_spec} ({one_line(error)})."
            ) from None
    return model.eval()


def _state_dict(path: Path) -> dict[str, Any]:
    import torch

    if not path.is_file():
        raise InputError(f"The weights file {path} does not exist.")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise InputError(
            f"{path} cannot be read as a PyTorch state dict with torch.load(weights_only=True) "
            f"({type(error).__name__}).",
            "Save it with torch.save(model.state_dict(), path); pickled whole models are not "
            "loaded, since unpickling can run code.",
        ) from None
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            data = data[key]
    if not isinstance(data, dict):
        raise InputError(f"{path} holds a {type(data).__name__}, not a state dict.")
    return data


def _check(model: Any, state: dict[str, Any], path: Path, build_spec: str) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and hasattr(state[k], "shape") and tuple(state[k].shape) != tuple(v.shape)
    ]
    problems = [
        *(f"missing {k}" for k in missing[:2]),
        *(f"unexpected {k}" for k in unexpected[:2]),
        *(f"shape of {s}" for s in shapes[:2]),
    ]
    if problems:
        raise InputError(
            f"The weights in {path} do not match the model built by {build_spec} "
            f"({'; '.join(problems)}).",
            "Pass the weights saved from this architecture.",
        )


def load_onnx(path: Path) -> Path:
    """Check the file is a valid ONNX model that ONNX Runtime can open."""
    import onnx

    if not path.is_file():
        raise InputError(f"The ONNX file {path} does not exist.")
    from vatio.optimize.runners import ort_input_spec

    try:
        onnx.checker.check_model(onnx.load(str(path)))
        shape, _ = ort_input_spec(path)
    except Exception as error:
        raise InputError(f"{path} is not a valid ONNX model ({one_line(error)}).") from None
    if shape and isinstance(shape[0], int) and shape[0] > 0:
        raise InputError(
            f"{path} has a fixed batch size of {shape[0]}; vatio measures several batch sizes.",
            "Export it with a dynamic first axis, e.g. torch.onnx.export(..., "
            "dynamic_axes={'input': {0: 'batch'}}).",
        )
    return path


def load_inputs(
    model: str | None,
    weights: Path | None,
    onnx_file: Path | None,
    eval_set: str | None,
    calib: str | None,
    train: str | None,
    metric: str | None,
    example: str | None,
) -> dict[str, Any]:
    """The model, data and metric, each checked with a one-sentence error."""
    given = [
        name for name, v in (("--model", model), ("--onnx", onnx_file), ("--example", example)) if v
    ]
    if len(given) != 1:
        raise InputError(
            "Give exactly one model: --model (with --weights), --onnx or --example.",
            "Example: vatio optimize --example digits",
        )
    require_runtime(torch=onnx_file is None)
    source: dict[str, Any] = {}
    found: dict[str, Any] = {"torch_model": None, "onnx_path": None, "train": None, "calib": None}
    if example is not None:
        from vatio.optimize.example import EXAMPLES, digits

        if example not in EXAMPLES:
            raise InputError(
                f"Unknown example {example!r}.", f"Choose from: {', '.join(EXAMPLES)}."
            )
        ex = digits()
        found.update(torch_model=ex.model, eval=ex.eval, train=ex.train)
        source = ex.source
    else:
        if eval_set is None:
            raise InputError("--eval is required with --model or --onnx.")
        if model is not None:
            found["torch_model"] = load_torch_model(model, weights)
            source = {"model": model, "weights": file_source(weights)}
        else:
            assert onnx_file is not None
            found["onnx_path"] = load_onnx(onnx_file)
            source = {"onnx": file_source(onnx_file)}
        need_y = metric is None
        found["eval"] = load_dataset(eval_set, "--eval", "eval set", need_y=need_y)
        source["eval"] = eval_set
    if train is not None:
        found["train"] = load_dataset(train, "--train", "training set")
        source["train"] = train
    if calib is not None:
        found["calib"] = load_dataset(calib, "--calib", "calibration set", inputs_alone=True)
        source["calib"] = calib
    found["metric"] = load_metric(metric) if metric else None
    found["metric_name"] = metric or "accuracy"
    found["source"] = source
    return found


def file_source(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    from vatio.optimize.artefacts import file_sha256

    return {"path": str(path), "sha256": file_sha256(path) if path.is_file() else None}


def require_runtime(torch: bool) -> None:
    names = ["numpy", "onnx", "onnxruntime", *(["torch"] if torch else [])]
    for name in names:
        try:
            __import__(name)
        except ImportError:
            raise VatioError(
                f"vatio optimize needs {name}, which is not installed.",
                "Install the machine-learning extra: pip install torch==2.13.0 'vatio[ml]'",
            ) from None
