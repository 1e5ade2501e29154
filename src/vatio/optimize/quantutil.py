"""Shared steps of the ONNX Runtime quantisers: pre-processing and a quiet logger."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def quiet_quantizer() -> Iterator[None]:
    """The quantisers log advice to the root logger; keep the console for our table."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def preprocess(source: Path, target: Path) -> Path:
    """Shape inference and graph clean-up the quantisers recommend; the source if it fails."""
    try:
        from onnxruntime.quantization.shape_inference import quant_pre_process

        with quiet_quantizer():
            quant_pre_process(str(source), str(target), skip_symbolic_shape=False)
        return target
    except Exception:
        return source
