"""ONNX export, run by ONNX Runtime in FP32 with every graph optimisation enabled."""

from __future__ import annotations

from vatio.optimize.variant import Artefact, Context, OnnxVariant


def ort_runtime() -> str:
    import onnxruntime as ort

    return f"ONNX Runtime {ort.__version__} CPU"


class OrtFp32(OnnxVariant):
    name = "ort-fp32"
    technique = "ONNX Runtime FP32, graph optimisations ORT_ENABLE_ALL"

    def prepare(self, ctx: Context) -> Artefact:
        path = ctx.baseline_onnx()
        export = "torch.onnx.export (TorchScript exporter, dynamic batch axis)"
        recipe = {
            "technique": self.technique,
            "precision": "fp32",
            "graph_optimization_level": "ORT_ENABLE_ALL (applied when the session opens)",
            "source": "the given ONNX file" if ctx.torch_model is None else export,
        }
        return Artefact(path, "onnx", ort_runtime(), recipe)
