"""Runners: the same call (numpy in, numpy out) over PyTorch eager and ONNX Runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class TorchRunner:
    """Eager PyTorch in inference mode; threads are process-wide in torch, set on activate."""

    def __init__(self, model: Any, threads: int | None = None) -> None:
        import torch

        self.model = model.eval()
        self.threads = threads
        self._torch = torch
        self._before: int | None = None

    def activate(self) -> None:
        self._before = self._torch.get_num_threads()
        if self.threads:
            self._torch.set_num_threads(self.threads)

    def release(self) -> None:
        if self._before is not None:
            self._torch.set_num_threads(self._before)
            self._before = None

    def __call__(self, x: Any) -> Any:
        with self._torch.inference_mode():
            return self.model(self._torch.from_numpy(x)).numpy()


class OrtRunner:
    """An ONNX Runtime CPU session with all graph optimisations; threads are per session."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.threads = threads

    def activate(self) -> None:
        """Nothing process-wide to set: the thread count lives in the session."""

    def release(self) -> None:
        """Nothing to undo."""

    def __call__(self, x: Any) -> Any:
        return self.session.run(None, {self.input_name: x})[0]


def ort_input_spec(path: Path) -> tuple[list[Any], str]:
    """Shape (ints for fixed axes, names or None for free ones) and element type of input 0."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    spec = session.get_inputs()[0]
    return list(spec.shape), spec.type
