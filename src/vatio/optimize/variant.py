"""The common shape of an optimisation technique: prepare → artefact → runner.

A variant turns the baseline into an artefact on disk (so what is measured is
what gets deployed) and opens a runner on it. Runners take and return numpy
arrays, so the harness measures every runtime the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass
class Dataset:
    """Inputs and (optional) targets as numpy arrays, first axis = samples."""

    x: Any
    y: Any | None = None

    def __len__(self) -> int:
        return len(self.x)

    def head(self, n: int) -> Dataset:
        return Dataset(self.x[:n], None if self.y is None else self.y[:n])


@dataclass
class Context:
    """Everything a variant may build on; the baseline ONNX file is made once and shared."""

    workdir: Path
    eval: Dataset
    torch_model: Any | None = None
    onnx_path: Path | None = None
    calib: Dataset | None = None
    train: Dataset | None = None
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    export_error: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)  # models shared by stacked variants

    def baseline_onnx(self) -> Path:
        """The FP32 ONNX graph of the baseline, exported from PyTorch on first use."""
        if self.onnx_path is not None:
            return self.onnx_path
        if self.export_error is not None:
            raise VariantError(self.export_error)
        from vatio.optimize.torchutil import export_onnx

        try:
            self.onnx_path = export_onnx(
                self.torch_model, self.eval.x[:1], self.workdir / "fp32.onnx"
            )
        except Exception as error:
            self.export_error = f"ONNX export failed: {one_line(error)}"
            raise VariantError(self.export_error) from None
        return self.onnx_path


class Runner(Protocol):
    """Runs a batch; `activate` applies process-wide settings (torch threads) before timing."""

    def __call__(self, x: Any) -> Any: ...

    def activate(self) -> None: ...

    def release(self) -> None: ...


@dataclass
class Artefact:
    """The deployable file of a variant and how it was made."""

    path: Path
    format: str
    runtime: str
    recipe: dict[str, Any]
    payload: Any = None  # an in-memory model the runner may reuse (the torch module)
    threads: int | None = None  # intra-op threads; None = the runtime's default
    size_bytes: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.size_bytes = self.path.stat().st_size  # taken now: the work folder is temporary


class VariantError(Exception):
    """A variant that cannot be built here; reported as failed, the others still run."""


class Variant(ABC):
    """One optimisation technique."""

    name: str = ""
    technique: str = ""
    needs_torch: bool = False

    def skip_reason(self, ctx: Context) -> str | None:
        """Why this variant cannot apply to these inputs (None: it can)."""
        if self.needs_torch and ctx.torch_model is None:
            return "needs a PyTorch model (--model)"
        return None

    @abstractmethod
    def prepare(self, ctx: Context) -> Artefact:
        """Build the artefact under ctx.workdir."""

    @abstractmethod
    def open(self, artefact: Artefact) -> Runner:
        """A runner on the artefact, with its thread setting."""


class OnnxVariant(Variant):
    """A variant whose artefact is an ONNX file run by ONNX Runtime."""

    def open(self, artefact: Artefact) -> Runner:
        from vatio.optimize.runners import OrtRunner

        return OrtRunner(artefact.path, artefact.threads)


def one_line(error: BaseException) -> str:
    """First line of an exception, prefixed by its type, for tables and JSON."""
    text = str(error).strip().splitlines()
    head = text[0] if text else ""
    head = head if len(head) <= 200 else head[:197] + "..."
    return f"{type(error).__name__}: {head}" if head else type(error).__name__
