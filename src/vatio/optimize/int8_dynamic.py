"""INT8 dynamic quantisation: weights stored in INT8, activations quantised on the fly."""

from __future__ import annotations

from vatio.optimize.ort_fp32 import ort_runtime
from vatio.optimize.quantutil import preprocess, quiet_quantizer
from vatio.optimize.variant import Artefact, Context, OnnxVariant


class OrtInt8Dynamic(OnnxVariant):
    name = "ort-int8-dynamic"
    technique = "ONNX Runtime INT8 dynamic quantisation"

    def prepare(self, ctx: Context) -> Artefact:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        source = preprocess(ctx.baseline_onnx(), ctx.workdir / "int8-dynamic-pre.onnx")
        path = ctx.workdir / "int8-dynamic.onnx"
        with quiet_quantizer():
            quantize_dynamic(str(source), str(path), weight_type=QuantType.QInt8)
        recipe = {
            "technique": self.technique,
            "weights": "int8 (per tensor)",
            "activations": "uint8, range computed per batch at run time",
            "tool": "onnxruntime.quantization.quantize_dynamic",
        }
        return Artefact(path, "onnx", ort_runtime(), recipe)
