"""INT8 static quantisation (QDQ) calibrated on sample inputs: no range computed at run time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vatio.optimize.ort_fp32 import ort_runtime
from vatio.optimize.quantutil import preprocess, quiet_quantizer
from vatio.optimize.runners import ort_input_spec
from vatio.optimize.variant import (
    Artefact,
    Context,
    Dataset,
    OnnxVariant,
    VariantError,
)

CALIB_SAMPLES = 512
CALIB_BATCH = 64


def calibration_set(ctx: Context) -> tuple[Dataset | None, str]:
    """--calib, else the head of --train; never the eval set (that would flatter accuracy)."""
    if ctx.calib is not None:
        return ctx.calib.head(CALIB_SAMPLES), "--calib"
    if ctx.train is not None:
        return ctx.train.head(CALIB_SAMPLES), "first samples of --train"
    return None, ""


class _Reader:
    """CalibrationDataReader over a numpy array, in batches the graph accepts."""

    def __init__(self, name: str, x: Any, batch: int) -> None:
        whole = (len(x) // batch) * batch or len(x)  # full batches only, for fixed-size graphs
        self._batches = iter([{name: x[i : i + batch]} for i in range(0, whole, batch)])

    def get_next(self) -> dict[str, Any] | None:
        return next(self._batches, None)


class OrtInt8Static(OnnxVariant):
    name = "ort-int8-static"
    technique = "ONNX Runtime INT8 static quantisation (QDQ), calibrated"

    def skip_reason(self, ctx: Context) -> str | None:
        if calibration_set(ctx)[0] is None:
            return "needs calibration inputs (--calib or --train)"
        return super().skip_reason(ctx)

    def prepare(self, ctx: Context) -> Artefact:
        path, recipe = quantize_static_onnx(ctx.baseline_onnx(), ctx, "int8-static")
        return Artefact(path, "onnx", ort_runtime(), {"technique": self.technique, **recipe})


def quantize_static_onnx(source: Path, ctx: Context, tag: str) -> tuple[Path, dict[str, Any]]:
    """Quantise an FP32 ONNX file to INT8 QDQ with ranges from the calibration set."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    calib, origin = calibration_set(ctx)
    if calib is None:
        raise VariantError("needs calibration inputs (--calib or --train)")
    source = preprocess(source, ctx.workdir / f"{tag}-pre.onnx")
    shape, _ = ort_input_spec(source)
    batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else CALIB_BATCH
    reader = _Reader(_input_name(source), calib.x, batch)
    path = ctx.workdir / f"{tag}.onnx"
    with quiet_quantizer():
        quantize_static(
            str(source),
            str(path),
            reader,
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            calibrate_method=CalibrationMethod.MinMax,
        )
    recipe = {
        "format": "QDQ",
        "weights": "int8, per channel",
        "activations": "uint8, ranges fixed by calibration (MinMax)",
        "calibration": f"{len(calib)} samples from {origin}",
        "tool": "onnxruntime.quantization.quantize_static",
    }
    return path, recipe


def _input_name(path: Any) -> str:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    initialisers = {i.name for i in model.graph.initializer}
    return next(i.name for i in model.graph.input if i.name not in initialisers)
