"""Baseline: the FP32 model in eager PyTorch, as it would be deployed without optimisation."""

from __future__ import annotations

from vatio.optimize.runners import TorchRunner
from vatio.optimize.variant import Artefact, Context, Runner, Variant


class Fp32Eager(Variant):
    name = "fp32-eager"
    technique = "FP32, eager PyTorch (baseline)"
    needs_torch = True

    def prepare(self, ctx: Context) -> Artefact:
        import torch

        path = ctx.workdir / "fp32-eager.pt"
        torch.save(ctx.torch_model.state_dict(), path)
        return Artefact(
            path,
            "pytorch-state-dict",
            f"PyTorch {torch.__version__} eager",
            {"technique": self.technique, "precision": "fp32"},
            payload=ctx.torch_model,
        )

    def open(self, artefact: Artefact) -> Runner:
        return TorchRunner(artefact.payload, artefact.threads)
