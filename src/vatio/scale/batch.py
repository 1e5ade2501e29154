"""Inference batch-size sweep in this process: throughput, latency, energy per sample.

The model and the inputs are loaded once (`--model mod:build`, `--eval
mod:eval_set`); each batch size is measured under its own tracker for at
least `min_time_s` after a warm-up, so every configuration's energy covers
only its own timed loop.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vatio.config import Profile
from vatio.errors import InputError
from vatio.scale import collect
from vatio.scale.configs import Config

WARMUP_BATCHES = 2
MIN_BATCHES = 3


@dataclass
class BatchJob:
    model: Any
    inputs: Any
    min_time_s: float = 2.0
    description: str = ""


def load_target(spec: str, what: str) -> Any:
    """The object named by 'module:attr' or 'path/to/file.py:attr' (the working folder first)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise InputError(
            f"{what} {spec!r} is not of the form module:name.",
            f"For example {what} mymodels:build.",
        )
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            loader_spec = importlib.util.spec_from_file_location(path.stem, path)
            if loader_spec is None or loader_spec.loader is None or not path.exists():
                raise ImportError(f"no file {path}")
            module = importlib.util.module_from_spec(loader_spec)
            loader_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ImportError as error:
        raise InputError(
            f"Cannot import {module_name!r} for {what}: {error}.",
            "Run vatio from the folder that holds it, or install it.",
        ) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise InputError(f"{module_name!r} has no {attr!r} (from {what} {spec!r}).") from None


def load_job(model_spec: str, eval_spec: str, min_time_s: float) -> BatchJob:
    """Build the model (eval mode) and the input tensor once."""
    import torch

    builder = load_target(model_spec, "--model")
    model = builder() if callable(builder) and not isinstance(builder, torch.nn.Module) else builder
    if not isinstance(model, torch.nn.Module):
        raise InputError(
            f"--model {model_spec} gave a {type(model).__name__}, not a torch module.",
            "Point it at a function that returns the model.",
        )
    model.eval()
    data = load_target(eval_spec, "--eval")
    data = data() if callable(data) and not isinstance(data, torch.Tensor) else data
    inputs = _as_inputs(data, eval_spec)
    device = next(model.parameters(), torch.empty(0)).device
    return BatchJob(model, inputs.to(device), min_time_s, f"{model_spec} on {eval_spec}")


def _as_inputs(data: Any, spec: str) -> Any:
    import torch

    if isinstance(data, tuple | list) and data and not isinstance(data[0], int | float):
        first = data[0]
        if isinstance(first, torch.Tensor) and first.dim() > 0 and len(data) == 2:
            data = first  # (inputs, labels)
        elif isinstance(first, tuple | list):
            data = torch.stack([torch.as_tensor(item[0]) for item in data])
        else:
            data = torch.stack([torch.as_tensor(item) for item in data])
    if not isinstance(data, torch.Tensor):
        try:
            data = torch.as_tensor(data)
        except (TypeError, ValueError, RuntimeError):
            raise InputError(
                f"--eval {spec} gave a {type(data).__name__}, not inputs.",
                "Return a tensor or array of inputs, or (inputs, labels).",
            ) from None
    if data.dim() == 0 or len(data) == 0:
        raise InputError(f"--eval {spec} gave no samples.")
    if data.is_floating_point() is False and data.dtype not in (torch.long, torch.int):
        data = data.float()
    return data


def measure(job: BatchJob, batch_size: int) -> dict[str, Any]:
    """Time full batches, cycling through the inputs, for at least min_time_s."""
    import torch

    inputs = job.inputs
    if len(inputs) < batch_size:
        inputs = inputs.repeat(-(-batch_size // len(inputs)), *([1] * (inputs.dim() - 1)))
    sync = torch.cuda.synchronize if inputs.is_cuda else (lambda: None)
    starts = list(range(0, len(inputs) - batch_size + 1, batch_size))
    latencies: list[float] = []
    with torch.inference_mode():
        for i in range(WARMUP_BATCHES):
            job.model(inputs[starts[i % len(starts)] : starts[i % len(starts)] + batch_size])
        sync()
        wall0, t0 = time.time(), time.perf_counter()
        while True:
            begin = starts[len(latencies) % len(starts)]
            b0 = time.perf_counter()
            job.model(inputs[begin : begin + batch_size])
            sync()
            latencies.append(time.perf_counter() - b0)
            elapsed = time.perf_counter() - t0
            if elapsed >= job.min_time_s and len(latencies) >= MIN_BATCHES:
                break
    ordered = sorted(latencies)
    samples = batch_size * len(latencies)
    return {
        "start": wall0,
        "end": wall0 + elapsed,
        "window_s": elapsed,
        "samples": samples,
        "steps": len(latencies),
        "throughput": samples / elapsed,
        "p50_latency_s": ordered[len(ordered) // 2],
        "p95_latency_s": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
    }


def run_batch_config(
    spec: Any, config: Config, profile: Profile, sources: dict[str, str], study_id: str
) -> dict[str, Any]:
    """One batch size under its own tracker, stored as a run of the study."""
    import torch

    from vatio.record.tracker import RecordingTracker

    job: BatchJob = spec.batch
    assert config.batch_size is not None
    row: dict[str, Any] = {"config": config.to_dict(), "node_rank": 0}
    tracker = RecordingTracker(
        f"{spec.name or 'scale'} · {config.label}",
        profile=profile,
        profile_sources=sources,
        command=spec.command,
        kind="scale",
        parent_id=study_id,
        store=None if spec.store else False,
    )

    @tracker.on_finish
    def collect_figures(result: Any) -> None:
        collect.add_energy(row, result)
        collect.per_sample(row)

    @tracker.on_finish
    def scale_section(_result: Any) -> None:
        tracker.set_extension(
            "scale",
            {"study_id": study_id, "mode": "batch", "model": job.description, "figures": row},
        )

    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    row["threads"] = torch.get_num_threads()
    tracker.start()
    try:
        row.update(measure(job, config.batch_size))
    except KeyboardInterrupt:
        row.update(status="interrupted", error="interrupted by SIGINT")
        tracker.stop("interrupted", error="KeyboardInterrupt")
        return row
    except Exception as error:  # the model failed at this batch size (e.g. out of memory)
        row.update(
            status="failed",
            error=f"{type(error).__name__}: {error}",
            error_tail=[f"{type(error).__name__}: {error}"],
        )
        result = tracker.stop("failed", error=row["error"])
        row["run_id"] = result.id
        return row
    finally:
        torch.set_num_threads(threads)
    row["status"] = "completed"
    result = tracker.stop("completed", exit_code=0)
    row.update(run_id=result.id, co2e_g=result.co2e_g, store_error=tracker.store_error)
    return row
