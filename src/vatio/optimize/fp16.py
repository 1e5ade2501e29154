"""FP16 weights and compute in ONNX Runtime; on many CPUs it does not help, and we say so."""

from __future__ import annotations

from vatio.optimize.ort_fp32 import ort_runtime
from vatio.optimize.quantutil import quiet_quantizer
from vatio.optimize.variant import Artefact, Context, OnnxVariant


class OrtFp16(OnnxVariant):
    name = "ort-fp16"
    technique = "ONNX Runtime FP16 (inputs and outputs kept FP32)"

    def prepare(self, ctx: Context) -> Artefact:
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16

        with quiet_quantizer():
            model = convert_float_to_float16(
                onnx.load(str(ctx.baseline_onnx())), keep_io_types=True
            )
        path = ctx.workdir / "fp16.onnx"
        onnx.save(model, str(path))
        recipe = {
            "technique": self.technique,
            "precision": "fp16 weights and activations, fp32 at the graph edges",
            "tool": "onnxruntime.transformers.float16.convert_float_to_float16",
            "note": "CPU kernels without native FP16 fall back to casts around FP32 compute",
        }
        return Artefact(path, "onnx", ort_runtime(), recipe)
