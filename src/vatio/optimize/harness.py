"""The evaluation harness: the metric on the eval set, then timed, energy-measured phases.

Each (variant, batch size, repeat) is one tracker phase; phase boundaries take
a synchronous sensor reading, so short phases are exact. Repeats go round all
variants in turn (alternating direction) so a change in machine load touches
every variant alike; the median of the repeats is reported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from vatio.errors import InputError
from vatio.optimize.results import BatchStats, VariantResult
from vatio.optimize.variant import Dataset, Runner, one_line

Metric = Callable[[Any, Any], float]
GAP_S = 0.03  # let spinning worker threads settle between phases
MIN_CALLS = 3
WARMUP_CALLS = 2


def accuracy(y_true: Any, outputs: Any) -> float:
    """Share of samples whose highest-scoring class is the label."""
    import numpy as np

    outputs = np.asarray(outputs)
    y = np.asarray(y_true)
    if outputs.ndim != 2 or y.ndim != 1:
        raise InputError(
            f"Accuracy needs class scores of shape (N, classes) and labels of shape (N,); "
            f"the model gives {outputs.shape} for labels {y.shape}.",
            "Pass --metric package.module:function for other outputs.",
        )
    return float((outputs.argmax(axis=1) == y).mean())


def predict(runner: Runner, x: Any, batch: int) -> Any:
    import numpy as np

    runner.activate()
    try:
        return np.concatenate([runner(x[i : i + batch]) for i in range(0, len(x), batch)])
    finally:
        runner.release()


def score(runner: Runner, data: Dataset, metric: Metric, batch: int) -> float:
    outputs = predict(runner, data.x, batch)
    value = float(metric(data.y, outputs))
    if math.isnan(value):
        raise ValueError("the metric returned NaN")
    return value


def batch_input(x: Any, batch: int) -> Any:
    """`batch` rows of eval inputs, repeating them when the eval set is smaller."""
    import numpy as np

    reps = -(-batch // len(x))
    return np.ascontiguousarray(np.concatenate([x] * reps)[:batch]) if reps > 1 else x[:batch]


class Measurement:
    """Runs the phases on a tracker, then reads their energy from its result."""

    def __init__(self, tracker: Any, inputs: dict[int, Any], phase_s: float) -> None:
        self.tracker = tracker
        self.inputs = inputs
        self.phase_s = phase_s
        self._pending: list[tuple[VariantResult, int, str]] = []

    def run(
        self, rows: list[VariantResult], repeats: int, tag: str, tick: Callable[[], None]
    ) -> None:
        for r in range(repeats):
            order = rows if r % 2 == 0 else rows[::-1]
            for row in order:
                if row.ok:
                    self._one_variant(row, r, tag, tick)
                else:
                    for _ in self.inputs:
                        tick()

    def _one_variant(self, row: VariantResult, r: int, tag: str, tick: Callable[[], None]) -> None:
        """Open the runner, measure every batch size, drop it: no idle thread pool of another
        variant stays alive to compete with the one being measured."""
        try:
            runner = row.opener()
        except Exception as error:
            row.fail(one_line(error))
            for _ in self.inputs:
                tick()
            return
        runner.activate()
        try:
            for batch, x in self.inputs.items():
                stats = row.batches.setdefault(batch, BatchStats(batch))
                if stats.error is None:
                    try:
                        self._phase(row, stats, runner, x, f"{tag}|{row.name}|b{batch}|r{r}")
                    except Exception as error:
                        stats.error = one_line(error)
                tick()
                time.sleep(GAP_S)
        finally:
            runner.release()
            del runner

    def _phase(
        self, row: VariantResult, stats: BatchStats, runner: Runner, x: Any, name: str
    ) -> None:
        """Call the runner for `phase_s` seconds: a fixed duration, not a fixed count, so a
        burst of load from elsewhere cannot leave a phase too short to measure."""
        for _ in range(WARMUP_CALLS):
            runner(x)
        clock = time.perf_counter
        latencies = []
        with self.tracker.phase(name):
            began = clock()
            deadline = began + self.phase_s
            while len(latencies) < MIN_CALLS or clock() < deadline:
                t0 = clock()
                runner(x)
                latencies.append(clock() - t0)
            wall = clock() - began
        stats.latencies_s.extend(latencies)
        stats.done.append(len(latencies))
        stats.wall_s.append(wall)
        stats.phases.append(name)
        self._pending.append((row, stats.batch, name))

    def collect(self) -> str:
        """Stop the tracker and turn phase energy into J per 1,000 inferences; the basis used."""
        result = self.tracker.stop()
        phases = result.per_phase
        process = all(phases[n].process_energy_j is not None for _, _, n in self._pending)
        for row, batch, name in self._pending:
            phase = phases[name]
            stats = row.batches[batch]
            count = stats.done[stats.phases.index(name)] * batch
            share = 1.0
            if process and phase.energy_j > 0:
                share = min(1.0, (phase.process_energy_j or 0.0) / phase.energy_j)
            per_k = 1000.0 / count
            stats.energy_j.append(phase.energy_j * share * per_k)
            stats.low_j.append(phase.low_j * share * per_k)
            stats.high_j.append(phase.high_j * share * per_k)
            stats.machine_j.append(phase.energy_j * per_k)
        self._pending.clear()
        return "process" if process else "machine"
