"""Structured pruning: drop the hidden units with the smallest L1 norm and rebuild smaller
Linear layers, so the artefact really does less work (zeroed weights in a dense
matrix would not); optionally fine-tuned on --train with the original as teacher.
"""

from __future__ import annotations

from typing import Any

from vatio.optimize.mlp import hidden_widths, l1_keep, rebuild
from vatio.optimize.ort_fp32 import ort_runtime
from vatio.optimize.torchutil import export_onnx, fit, n_params
from vatio.optimize.variant import Artefact, Context, OnnxVariant

DEFAULT_RATIO = 0.5
DEFAULT_FINETUNE_EPOCHS = 10


def pruned_model(ctx: Context) -> tuple[Any, dict[str, Any]]:
    """The pruned (and fine-tuned) torch model, built once and shared with stacked variants."""
    if "pruned" in ctx.cache:
        return ctx.cache["pruned"]
    ratio = float(ctx.options.get("prune_ratio", DEFAULT_RATIO))
    epochs = int(ctx.options.get("finetune_epochs", DEFAULT_FINETUNE_EPOCHS))
    teacher = ctx.torch_model
    model = rebuild(teacher, l1_keep(teacher, ratio), seed=ctx.seed)
    recipe: dict[str, Any] = {
        "pruning": "structured, hidden units ranked by L1 norm of their incoming weights",
        "ratio": ratio,
        "hidden_widths": {"before": hidden_widths(teacher), "after": hidden_widths(model)},
        "parameters": {"before": n_params(teacher), "after": n_params(model)},
    }
    if ctx.train is not None and epochs > 0:
        fit(model, ctx.train.x, ctx.train.y, teacher=teacher, epochs=epochs, seed=ctx.seed)
        recipe["fine_tuning"] = (
            f"{epochs} epochs on --train ({len(ctx.train)} samples), Adam 1e-3, "
            "distillation loss from the unpruned model"
        )
    else:
        recipe["fine_tuning"] = "none (no --train given)"
    ctx.cache["pruned"] = (model, recipe)
    return model, recipe


class Pruned(OnnxVariant):
    name = "pruned"
    technique = "structured pruning (L1), smaller Linear layers, ONNX Runtime FP32"
    needs_torch = True

    def prepare(self, ctx: Context) -> Artefact:
        model, recipe = pruned_model(ctx)
        path = export_onnx(model, ctx.eval.x[:1], ctx.workdir / "pruned.onnx")
        return Artefact(
            path, "onnx", ort_runtime(), {"technique": self.technique, **recipe}, payload=model
        )
