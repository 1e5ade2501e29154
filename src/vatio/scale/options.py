"""From the command's options to a StudySpec: checks that run before any configuration.

Kept apart from the command so that `vatio demo` and the benchmark build
studies the same way; user mistakes raise InputError (one sentence, a hint).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from vatio.errors import InputError, VatioError

EXAMPLES = {"digits": "vatio.examples.digits_ddp"}
ML_HINT = "Install it with: pip install torch==2.13.0 'vatio[ml]'"


DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(
        (
            "args",
            "workers",
            "threads",
            "batch_sizes",
            "script",
            "example",
            "model",
            "eval_set",
            "max_slowdown",
            "deadline",
            "job_samples",
            "max_latency",
            "rdzv_endpoint",
            "rdzv_backend",
            "rdzv_id",
            "study",
            "backend",
            "timeout",
            "zone",
            "name",
            "store",
            "interval",
            "pue",
            "plot",
        )
    ),
    "scaling": "strong",
    "no_sync_check": False,
    "nnodes": 1,
    "node_rank": 0,
    "merge_timeout": "120s",
    "min_time": "2s",
    "no_store": False,
    "json_output": False,
    "quiet": False,
    "from_cli": False,
}  # the command's defaults, for callers that are not the command (demo, benchmark)


def default_options(**given: Any) -> dict[str, Any]:
    unknown = set(given) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown scale options: {sorted(unknown)}")
    return {**DEFAULTS, **given}


def _require(*modules: str) -> None:
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise VatioError(
                f"This needs the machine-learning extra ({module} is not installed).", ML_HINT
            )


def _cuda_build() -> bool:
    """Whether the installed torch has CUDA, without importing it (that takes seconds)."""
    spec = importlib.util.find_spec("torch")
    folders = list(spec.submodule_search_locations or []) if spec else []
    return any(any((Path(f) / "lib").glob("libc10_cuda*")) for f in folders)


def _limits(opts: dict[str, Any]) -> dict[str, float | None]:
    from vatio.units import parse_duration, parse_time

    given = [k for k in ("max_slowdown", "deadline", "max_latency") if opts[k] is not None]
    if len(given) > 1:
        raise InputError("Give one limit: --max-slowdown, --deadline or --max-latency.")
    if opts["max_slowdown"] is not None and opts["max_slowdown"] < 1:
        raise InputError(
            f"--max-slowdown must be 1 or more; got {opts['max_slowdown']:g}.",
            "1.2 means at most 20 % slower than the fastest configuration.",
        )
    deadline_s = None
    if opts["deadline"]:
        try:
            deadline_s = parse_duration(opts["deadline"], what="--deadline")
        except InputError:
            from datetime import UTC, datetime

            when = parse_time(
                opts["deadline"], what="--deadline (a duration such as 2h, or a time)"
            )
            deadline_s = (when - datetime.now(UTC)).total_seconds()
            if deadline_s <= 0:
                raise InputError(f"The --deadline {opts['deadline']!r} has passed.") from None
    latency = (
        parse_duration(opts["max_latency"], what="--max-latency") if opts["max_latency"] else None
    )
    if opts["job_samples"] is not None and deadline_s is None:
        raise InputError("--job-samples is used with --deadline.")
    return {
        "max_slowdown": opts["max_slowdown"],
        "deadline_s": deadline_s,
        "job_samples": opts["job_samples"],
        "max_latency_s": latency,
    }


def build_spec(opts: dict[str, Any]) -> Any:
    """Check the flags and turn them into a StudySpec (no configuration runs yet)."""
    import sys

    from vatio.devices.nvidia import gpu_inventory
    from vatio.scale.configs import (
        Nodes,
        oversubscription_warnings,
        parse_counts,
        plan,
        visible_cores,
    )
    from vatio.scale.launch import Target
    from vatio.scale.study import StudySpec
    from vatio.units import parse_duration

    if opts["scaling"] not in ("strong", "weak"):
        raise InputError(f"Unknown --scaling {opts['scaling']!r}.", "Use strong or weak.")
    sources = [k for k in ("script", "example", "model") if opts[k]]
    if len(sources) > 1:
        raise InputError("Give one of --script, --example or --model.")
    workers = parse_counts(opts["workers"], "--workers")
    threads = parse_counts(opts["threads"], "--threads")
    batches = parse_counts(opts["batch_sizes"], "--batch-sizes")
    target = None
    if opts["example"]:
        if opts["example"] not in EXAMPLES:
            raise InputError(f"Unknown example {opts['example']!r}.", f"Use {', '.join(EXAMPLES)}.")
        _require("torch", "sklearn")
        target = Target(module=EXAMPLES[opts["example"]], args=tuple(opts["args"] or ()))
        if not (workers or threads):
            workers = [1, visible_cores()] if visible_cores() > 1 else [1, 2]
    elif opts["script"]:
        if not Path(opts["script"]).is_file():
            raise InputError(
                f"No script {str(opts['script'])!r}.", "Give the path of a Python file."
            )
        target = Target(script=str(opts["script"]), args=tuple(opts["args"] or ()))
    elif batches or opts["model"]:
        if not (opts["model"] and opts["eval_set"] and batches):
            raise InputError(
                "The batch sweep needs --batch-sizes, --model and --eval.",
                "e.g. --batch-sizes 1,8,64 --model mymodels:build --eval mymodels:inputs",
            )
    else:
        raise InputError(
            "Nothing to run.", "Give --script train.py, --example digits, or --model with --eval."
        )
    if batches and target is not None:
        raise InputError("--batch-sizes measures a model (--model, --eval), not a script.")
    if workers or batches:
        _require("torch")
    nodes = Nodes(
        opts["nnodes"],
        opts["node_rank"],
        opts["rdzv_endpoint"],
        opts["rdzv_backend"],
        opts["rdzv_id"],
    )
    if nodes.multi and not opts["rdzv_endpoint"]:
        raise InputError(
            "--nnodes above 1 needs --rdzv-endpoint host:port (the same on every node)."
        )
    study_id = opts["study"] or (opts["rdzv_id"] if nodes.multi else None)
    if nodes.multi and not study_id:
        raise InputError(
            "Several nodes need one study id.",
            "Give --study NAME (the same on every node) or --rdzv-id.",
        )
    mode, configs = plan(workers, threads, batches, nodes, opts["no_sync_check"])
    gpus = len(gpu_inventory()) if mode == "workers" else 0
    backend = opts["backend"] or ("nccl" if gpus and _cuda_build() else "gloo")
    if backend not in ("gloo", "nccl"):
        raise InputError(f"Unknown --backend {backend!r}.", "Use gloo or nccl.")
    spec = StudySpec(
        mode=mode,
        configs=configs,
        target=target,
        scaling=opts["scaling"],
        nodes=nodes,
        backend=backend,
        study_id=study_id,
        name=opts["name"],
        command=["vatio", "scale", *sys.argv[2:]] if opts.get("from_cli", True) else None,
        merge_timeout_s=parse_duration(opts["merge_timeout"], what="--merge-timeout"),
        timeout_s=parse_duration(opts["timeout"], what="--timeout") if opts["timeout"] else None,
        limits=_limits(opts),
        store=not opts["no_store"],
    )
    spec.warnings = oversubscription_warnings(configs, visible_cores(), gpus, backend == "nccl")
    if mode == "batch":
        from vatio.scale.batch import load_job

        spec.batch = load_job(
            opts["model"], opts["eval_set"], parse_duration(opts["min_time"], what="--min-time")
        )
    return spec
