"""The items of the guide's §5.1 checklist, each a function of the gathered evidence."""

from __future__ import annotations

from pathlib import Path

from vatio.report.checklist.context import Context
from vatio.report.checklist.evidence import find_reports, is_distributed, lockfile_outcome
from vatio.report.checklist.runner import FAIL, NA, PASS, WARN, Item, Outcome
from vatio.report.utilisation import main_device

DEFAULT_THRESHOLD = 0.3
MIN_FIT_DURATION_S = 5.0
RUNTIMES = (
    "onnxruntime", "onnxruntime-gpu", "openvino", "tensorrt", "tflite-runtime",
    "ctranslate2", "vllm", "llama-cpp-python", "optimum",
)  # fmt: skip


def check_lockfile(ctx: Context) -> Outcome:
    return lockfile_outcome(ctx.root, ctx.installed_packages())


def check_isolation(ctx: Context) -> Outcome:
    if ctx.records:
        latest = ctx.records[0]
        environment = (latest.get("manifest") or {}).get("environment") or {}
        where = f"the latest run {latest['id']}"
    else:
        environment = ctx.current_environment()
        where = "this Python (no run recorded yet)"
    kinds = environment.get("kinds") or []
    if kinds:
        prefix = environment.get("prefix")
        return Outcome(
            PASS, f"{where} ran in {', '.join(kinds)}" + (f" ({prefix})" if prefix else "")
        )
    return Outcome(
        FAIL,
        f"{where} used the system Python, outside any venv, conda environment or container",
        "create one: python -m venv .venv && .venv/bin/pip install -r requirements.txt "
        "(or uv sync, conda env create, a container image)",
    )


def check_baseline(ctx: Context) -> Outcome:
    done = [s for s in ctx.summaries if s.get("status") == "completed"]
    if done:
        latest = done[0]
        return Outcome(
            PASS,
            f"{len(done)} completed run(s) in {ctx.store_label}; latest {latest['id']} "
            f"({str(latest.get('started_at'))[:16]})",
        )
    return Outcome(
        FAIL,
        f"no completed run in {ctx.store_label}",
        "measure a baseline first: vatio run -- python train.py",
    )


def check_optimisation(ctx: Context) -> Outcome:
    studies = [s for s in ctx.summaries if str(s.get("kind")).startswith("optimize")]
    if studies:
        return Outcome(PASS, f"{len(studies)} optimisation run(s); latest {studies[0]['id']}")
    return Outcome(
        FAIL,
        "no optimisation study recorded (quantisation, pruning, distillation, ONNX export)",
        "compare model variants with `vatio optimize` before training or deploying at scale",
    )


def _recorded_fit(record: dict, threshold: float) -> list:
    """vatio rightsize's findings for the main device, when the record holds real utilisation
    (GPU utilisation from NVML, or the job's CPU time); [] for older records."""
    from vatio.rightsize.advise import advise
    from vatio.rightsize.evidence import run_fit

    fit = run_fit(record)
    kind = "gpu" if fit.gpus else "cpu"
    return [
        f
        for f in advise([fit], threshold)
        if f.device.startswith(kind) and f.status in ("fits", "under-used")
    ]


def check_hardware_fit(ctx: Context) -> Outcome:
    threshold = float(ctx.settings.check.get("utilisation_threshold", DEFAULT_THRESHOLD))
    judged, low, fixes = [], [], []
    for record in ctx.records:
        if (
            record.get("kind", "run") != "run"
            or (record.get("duration_s") or 0) < MIN_FIT_DURATION_S
        ):
            continue
        found = _recorded_fit(record, threshold)
        if found:
            judged.append(record["id"])
            for finding in (f for f in found if f.status == "under-used"):
                low.append(f"{record['id']}: {finding.evidence}")
                fixes += finding.suggestions[:1]
            continue
        main = main_device(record)
        if not main or main["value"] is None:
            continue
        judged.append(record["id"])
        if main["value"] < threshold:
            low.append(
                f"{record['id']}: {main['device'].upper()} {main['value']:.0%} "
                f"({main['quality']}: {main['method']})"
            )
    if not judged:
        return Outcome(
            NA,
            f"no recent run of {MIN_FIT_DURATION_S:g} s or more whose utilisation can be derived",
        )
    if low:
        fix = (
            fixes[0]
            if fixes
            else "use a smaller GPU or instance, raise the batch size or data-loader workers, "
            "or share the device (MIG, MPS)"
        )
        return Outcome(
            FAIL,
            f"{len(low)} of {len(judged)} recent runs used their main device under "
            f"{threshold:.0%}: " + "; ".join(low[:3]),
            f"{fix}; `vatio rightsize` shows the evidence and the estimated saving",
        )
    return Outcome(
        PASS, f"all {len(judged)} recent runs kept their main device at {threshold:.0%} or more"
    )


def check_drivers(ctx: Context) -> Outcome:
    """§3.1 "actualizar drivers/firmware": is the driver new enough for what vatio uses?"""
    from vatio.provenance.compat import nvidia_driver

    finding = nvidia_driver(ctx.gpus())
    status = {"PASS": PASS, "WARN": WARN, "FAIL": FAIL}.get(finding.status, NA)
    return Outcome(status, finding.evidence, finding.fix if status in (WARN, FAIL) else None)


def check_scheduling(ctx: Context) -> Outcome:
    scheduled = [r["id"] for r in ctx.records if (r.get("extensions") or {}).get("schedule")]
    if scheduled:
        return Outcome(PASS, f"{len(scheduled)} recent run(s) followed a greenest-window plan")
    if ctx.settings.profile.get("schedule"):
        return Outcome(PASS, "scheduling is configured in the profile")
    return Outcome(
        FAIL,
        "no recent run was scheduled in clean hours, and the profile says nothing about it",
        "run deferrable jobs with `vatio run --greenest --within 24h -- ...` (see `vatio "
        "schedule`), or record why they cannot move: [tool.vatio.check] waive = "
        '{scheduling = "reason"}',
    )


def check_runtime(ctx: Context) -> Outcome:
    installed = ctx.installed_packages()
    found = [f"{name} {installed[name]}" for name in RUNTIMES if name in installed]
    if not found and ctx.records:
        packages = (ctx.records[0].get("manifest") or {}).get("packages") or []
        names = {p.get("name"): p.get("version") for p in packages if isinstance(p, dict)}
        found = [f"{name} {names[name]} (in the latest run)" for name in RUNTIMES if name in names]
    if found:
        return Outcome(PASS, "optimised runtime available: " + ", ".join(found))
    return Outcome(
        FAIL,
        "no optimised inference runtime installed (onnxruntime, OpenVINO, TensorRT, ...)",
        "export the model to ONNX and serve it with onnxruntime: pip install onnxruntime",
    )


def check_parallel(ctx: Context) -> Outcome:
    distributed = [r["id"] for r in ctx.records if is_distributed(r)]
    if not distributed:
        return Outcome(NA, "no recent run used several workers or GPUs")
    studies = [s["id"] for s in ctx.summaries if str(s.get("kind")).startswith("scale")]
    if studies:
        return Outcome(PASS, f"scaling study {studies[0]} measured parallel efficiency")
    return Outcome(
        FAIL,
        f"run(s) {', '.join(distributed[:3])} used several workers, but no scaling study exists",
        "measure energy and speed-up against the number of workers with `vatio scale`",
    )


def check_documented(ctx: Context) -> Outcome:
    profile: Path | None = ctx.settings.profile_path
    reports = find_reports(ctx.root)
    versions = sum(1 for r in ctx.records if (r.get("manifest") or {}).get("packages"))
    have: list[str] = []
    missing: list[str] = []
    (have if profile else missing).append(f"profile {profile}" if profile else "a profile")
    (have if reports else missing).append(f"report {reports[0]}" if reports else "a report")
    if versions:
        have.append(f"versions in {versions} run manifest(s)")
    evidence = ("found " + ", ".join(have) if have else "nothing found") + (
        "; missing " + " and ".join(missing) if missing else ""
    )
    if not missing:
        return Outcome(PASS, evidence)
    fix = []
    if not profile:
        fix.append("add [tool.vatio] to pyproject.toml (zone, pue, store)")
    if not reports:
        fix.append("keep a report with the project: vatio report RUN_ID -o docs/energy.html")
    return Outcome(WARN if profile or reports else FAIL, evidence, "; ".join(fix))


ITEMS: tuple[Item, ...] = (
    Item(
        "lockfile",
        "Library versions pinned with hashes, matching what is installed",
        "fail",
        check_lockfile,
    ),
    Item(
        "isolated_env", "Isolated environment (venv, conda or container)", "fail", check_isolation
    ),
    Item("baseline", "Baseline energy measured", "fail", check_baseline),
    Item("optimization", "Model optimisation evaluated", "warn", check_optimisation),
    Item(
        "hardware_fit",
        "Hardware fits the job (main device not underused)",
        "warn",
        check_hardware_fit,
    ),
    Item(
        "drivers",
        "GPU driver current enough for the energy counter and power control",
        "warn",
        check_drivers,
    ),
    Item("scheduling", "Scheduling in clean hours used or considered", "warn", check_scheduling),
    Item("runtime", "Optimised runtime in use", "warn", check_runtime),
    Item(
        "parallel_efficiency",
        "Parallel efficiency measured for distributed runs",
        "warn",
        check_parallel,
    ),
    Item("documented", "Configuration, metrics and versions documented", "fail", check_documented),
)
