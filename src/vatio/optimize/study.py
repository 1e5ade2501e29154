"""A study: prepare every variant, score it, measure it side by side, tune threads, recommend.

A variant that fails (an operator ONNX Runtime cannot quantise, a model the
pruner cannot rebuild) is kept as a failed row and the others still run; only
a baseline that cannot run stops the study, since every Δ is measured against it.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from vatio.errors import InputError, VatioError
from vatio.optimize.harness import Measurement, Metric, batch_input, score
from vatio.optimize.pareto import Recommendation, pareto_front, recommend
from vatio.optimize.registry import select
from vatio.optimize.results import VariantResult
from vatio.optimize.threads import row_name, thread_counts, with_threads
from vatio.optimize.variant import Context, Variant, VariantError, one_line

#: what an INT8 / FP16 row is compared with, to say when the technique does not pay here
COUNTERPART = {
    "ort-int8-dynamic": "ort-fp32",
    "ort-int8-static": "ort-fp32",
    "ort-fp16": "ort-fp32",
    "pruned+int8-static": "pruned",
    "distilled+int8-static": "distilled",
}


TAIL_RATIO = 10.0  # p95 / p50 above which a row is flagged as unsteady


@dataclass
class StudyConfig:
    batch_sizes: list[int] = field(default_factory=lambda: [1, 32, 256])
    repeats: int = 5
    phase_s: float = 0.25
    max_drop_pts: float = 0.5
    chosen: set[str] | None = None
    sweep_threads: bool = True


class Progress(Protocol):
    def stage(self, label: str, total: int) -> None: ...

    def advance(self, label: str | None = None) -> None: ...

    def working(self, label: str) -> None: ...


class NoProgress:
    def stage(self, label: str, total: int) -> None:
        """Nothing to show."""

    def advance(self, label: str | None = None) -> None:
        """Nothing to show."""

    def working(self, label: str) -> None:
        """Nothing to show."""


@dataclass
class Study:
    rows: list[VariantResult]
    baseline: str
    batch: int
    metric_name: str
    energy_basis: str
    method: str
    recommendation: Recommendation
    config: StudyConfig

    def row(self, name: str) -> VariantResult:
        return next(r for r in self.rows if r.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "reference_batch": self.batch,
            "metric": self.metric_name,
            "max_drop_pts": self.config.max_drop_pts,
            "batch_sizes": self.config.batch_sizes,
            "repeats": self.config.repeats,
            "energy_method": self.method,
            "energy_basis": self.energy_basis,
            "recommended": self.recommendation.to_dict(),
            "pareto_front": [r.name for r in self.rows if r.on_front],
            "variants": [r.to_dict() for r in self.rows],
        }


def baseline_name(ctx: Context) -> str:
    return "fp32-eager" if ctx.torch_model is not None else "ort-fp32"


def validate(ctx: Context, metric: Metric) -> None:
    """Run the baseline on two eval samples, so a wrong eval set fails before anything else."""
    from vatio.optimize.runners import OrtRunner, TorchRunner

    head = ctx.eval.head(2)
    try:
        runner = (
            TorchRunner(ctx.torch_model)
            if ctx.torch_model is not None
            else OrtRunner(ctx.baseline_onnx())
        )
        outputs = runner(head.x)
    except Exception as error:
        raise InputError(
            f"The model cannot run on the eval inputs of shape {ctx.eval.x.shape} and type "
            f"{ctx.eval.x.dtype} ({one_line(error)}).",
            "Check that --eval gives inputs shaped like the model's input.",
        ) from None
    try:
        metric(head.y, outputs)
    except InputError:
        raise
    except Exception as error:
        raise InputError(f"The metric fails on the model's outputs ({one_line(error)}).") from None


def _prepare(variant: Variant, ctx: Context, metric: Metric, batch: int) -> VariantResult:
    row = VariantResult(variant.name, variant.technique)
    reason = variant.skip_reason(ctx)
    if reason is not None:
        row.status, row.reason = "skipped", reason
        return row
    began = time.perf_counter()
    try:
        row.artefact = variant.prepare(ctx)
        row.metric = score(variant.open(row.artefact), ctx.eval, metric, batch)
        row.opener = functools.partial(variant.open, row.artefact)
    except Exception as error:
        row.fail(str(error) if isinstance(error, VariantError) else one_line(error))
    row.prepare_s = time.perf_counter() - began
    return row


def run_study(
    ctx: Context,
    config: StudyConfig,
    *,
    metric: Metric,
    metric_name: str,
    new_tracker: Callable[[], Any],
    phase: Callable[[str], Any] | None = None,
    progress: Progress | None = None,
) -> Study:
    """Everything `vatio optimize` reports, measured on this machine."""
    progress = progress or NoProgress()
    phase = phase or (lambda _name: contextlib.nullcontext())
    baseline = baseline_name(ctx)
    variants = {v.name: v for v in select(config.chosen, baseline)}
    eval_batch = max(config.batch_sizes)
    rows: list[VariantResult] = []
    progress.stage("preparing variants", len(variants))
    with phase("prepare"):
        for variant in variants.values():
            progress.working(variant.name)  # named while it is prepared, counted once done
            rows.append(_prepare(variant, ctx, metric, eval_batch))
            progress.advance()
    base = rows[0]
    if not base.ok:
        raise VatioError(f"The baseline {baseline} could not run ({base.reason}).")
    inputs = {b: batch_input(ctx.eval.x, b) for b in config.batch_sizes}
    progress.stage("measuring", len(rows) * len(inputs) * config.repeats)
    with phase("measure"):
        measurement = Measurement(new_tracker().start(), inputs, config.phase_s)
        measurement.run(rows, config.repeats, "main", progress.advance)
        basis = measurement.collect()
        method = measurement.tracker.result.method
    batch = _reference_batch(base, config.batch_sizes)
    _set_deltas(rows, base)
    rec = recommend(rows, baseline, config.max_drop_pts, batch, method, metric_name)
    if config.sweep_threads:
        chosen = next(r for r in rows if r.name == rec.name)
        sweep = _thread_rows(chosen, variants[chosen.name], ctx, metric, eval_batch)
        if chosen is not base:  # how much of the saving would threads alone give?
            sweep += _thread_rows(base, variants[baseline], ctx, metric, eval_batch)
        rows.extend(sweep)
        label = f"threads for {chosen.name}"
        progress.stage(label, (len(sweep) + 1) * len(inputs) * config.repeats)
        with phase("threads"):
            measurement = Measurement(new_tracker().start(), inputs, config.phase_s)
            measurement.run([base, *sweep], config.repeats, "threads", progress.advance)
            measurement.collect()
        _set_deltas(rows, base)
        rec = recommend(rows, baseline, config.max_drop_pts, batch, method, metric_name)
    _mark_front(rows, batch)
    _add_notes(rows, batch)
    for row in rows:
        row.opener = None
    return Study(rows, baseline, batch, metric_name, basis, method, rec, config)


def _reference_batch(base: VariantResult, sizes: list[int]) -> int:
    """The largest batch size the baseline ran at (Pareto front and recommendation use it)."""
    ok = [b for b in sizes if base.energy(b) is not None]
    if not ok:
        errors = "; ".join(f"batch {b}: {s.error}" for b, s in base.batches.items() if s.error)
        raise VatioError(f"The baseline could not be measured at any batch size ({errors}).")
    return max(ok)


def _set_deltas(rows: list[VariantResult], base: VariantResult) -> None:
    assert base.metric is not None
    for row in rows:
        if row.metric is not None:
            row.delta_pts = (base.metric - row.metric) * 100


def _thread_rows(
    chosen: VariantResult, variant: Variant, ctx: Context, metric: Metric, batch: int
) -> list[VariantResult]:
    rows = []
    for n in thread_counts():
        row = VariantResult(row_name(chosen.name, n), f"{chosen.technique}; {n} intra-op threads")
        row.base = chosen.name
        assert chosen.artefact is not None
        try:
            row.artefact = with_threads(chosen.artefact, n)
            row.metric = score(variant.open(row.artefact), ctx.eval, metric, batch)
            row.opener = functools.partial(variant.open, row.artefact)
        except Exception as error:
            row.fail(one_line(error))
        rows.append(row)
    return rows


def _mark_front(rows: list[VariantResult], batch: int) -> None:
    points = [(r, r.metric, r.energy(batch)) for r in rows]
    usable = [(r, m, e) for r, m, e in points if r.ok and m is not None and e is not None]
    for i in pareto_front([(m, e) for _, m, e in usable]):
        usable[i][0].on_front = True


def _add_notes(rows: list[VariantResult], batch: int) -> None:
    by_name = {r.name: r for r in rows}
    for row in rows:
        stats = row.batches.get(batch)
        p50, p95 = (stats.p50_ms, stats.p95_ms) if stats is not None else (None, None)
        if p50 and p95 and p95 > TAIL_RATIO * p50:
            row.notes.append(
                f"unsteady: p95 latency is {p95 / p50:.0f}x p50 at batch {batch} "
                "(other load on the machine competing for its threads?)"
            )
        other = by_name.get(COUNTERPART.get(row.name, ""))
        mine = row.energy(batch)
        theirs = other.energy(batch) if other is not None else None
        if mine is None or theirs is None or other is None:
            continue
        if mine >= theirs:
            what = "FP16" if "fp16" in row.name else "INT8"
            row.notes.append(
                f"{what} does not pay on this CPU: {mine / theirs:.2f}x the energy of "
                f"{other.name} at batch {batch}"
            )
