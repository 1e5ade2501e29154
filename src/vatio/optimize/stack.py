"""Stacked techniques: a pruned or distilled model, then INT8 static quantisation.

Deployments combine techniques; measuring the combination tells whether the
savings add up on this machine or cancel out (a small model may not gain from INT8).
"""

from __future__ import annotations

from vatio.optimize.distill import Distilled, student_model
from vatio.optimize.int8_static import calibration_set, quantize_static_onnx
from vatio.optimize.ort_fp32 import ort_runtime
from vatio.optimize.prune import Pruned, pruned_model
from vatio.optimize.torchutil import export_onnx
from vatio.optimize.variant import Artefact, Context


class _Int8Stack:
    """Mixin: quantise the base variant's torch model to INT8 QDQ."""

    base_tag = ""
    name = ""

    def skip_reason(self, ctx: Context) -> str | None:
        if calibration_set(ctx)[0] is None:
            return "needs calibration inputs (--calib or --train)"
        return super().skip_reason(ctx)  # type: ignore[misc]

    def prepare(self, ctx: Context) -> Artefact:
        builder = pruned_model if self.base_tag == "pruned" else student_model
        model, recipe = builder(ctx)
        fp32 = export_onnx(model, ctx.eval.x[:1], ctx.workdir / f"{self.base_tag}-fp32.onnx")
        path, quant = quantize_static_onnx(fp32, ctx, self.name.replace("+", "-"))
        return Artefact(
            path,
            "onnx",
            ort_runtime(),
            {"technique": self.technique, **recipe, "quantisation": quant},  # type: ignore[attr-defined]
        )


class PrunedInt8(_Int8Stack, Pruned):
    name = "pruned+int8-static"
    technique = "structured pruning (L1), then ONNX Runtime INT8 static (QDQ)"
    base_tag = "pruned"


class DistilledInt8(_Int8Stack, Distilled):
    name = "distilled+int8-static"
    technique = "distillation into a narrower student, then ONNX Runtime INT8 static (QDQ)"
    base_tag = "distilled"
