"""Knowledge distillation into a narrower student of the same depth, trained on --train.

The student starts from a fresh initialisation (unlike pruning) and learns
from the teacher's softened outputs plus the labels (Hinton et al., 2015).
"""

from __future__ import annotations

import math
from typing import Any

from vatio.optimize.mlp import hidden_widths, rebuild
from vatio.optimize.ort_fp32 import ort_runtime
from vatio.optimize.torchutil import export_onnx, fit, n_params
from vatio.optimize.variant import Artefact, Context, OnnxVariant

DEFAULT_WIDTH = 0.25
DEFAULT_EPOCHS = 40


def student_model(ctx: Context) -> tuple[Any, dict[str, Any]]:
    """The trained student, built once and shared with stacked variants."""
    if "student" in ctx.cache:
        return ctx.cache["student"]
    import torch

    assert ctx.train is not None
    width = float(ctx.options.get("student_width", DEFAULT_WIDTH))
    epochs = int(ctx.options.get("distill_epochs", DEFAULT_EPOCHS))
    teacher = ctx.torch_model
    sizes = [max(4, math.ceil(w * width)) for w in hidden_widths(teacher)]
    student = rebuild(teacher, [torch.arange(n) for n in sizes], fresh=True, seed=ctx.seed)
    fit(student, ctx.train.x, ctx.train.y, teacher=teacher, epochs=epochs, seed=ctx.seed)
    recipe = {
        "distillation": "soft targets at T=4 (weight 0.7) + labels (0.3); MSE to the teacher "
        "when the targets are not class labels",
        "student": f"same layers, hidden widths x{width:g}, fresh initialisation",
        "hidden_widths": {"teacher": hidden_widths(teacher), "student": sizes},
        "parameters": {"teacher": n_params(teacher), "student": n_params(student)},
        "training": f"{epochs} epochs on --train ({len(ctx.train)} samples), Adam 1e-3",
    }
    ctx.cache["student"] = (student, recipe)
    return student, recipe


class Distilled(OnnxVariant):
    name = "distilled"
    technique = "knowledge distillation into a narrower student, ONNX Runtime FP32"
    needs_torch = True

    def skip_reason(self, ctx: Context) -> str | None:
        if ctx.train is None:
            return "needs training data (--train)"
        return super().skip_reason(ctx)

    def prepare(self, ctx: Context) -> Artefact:
        model, recipe = student_model(ctx)
        path = export_onnx(model, ctx.eval.x[:1], ctx.workdir / "distilled.onnx")
        return Artefact(
            path, "onnx", ort_runtime(), {"technique": self.technique, **recipe}, payload=model
        )
