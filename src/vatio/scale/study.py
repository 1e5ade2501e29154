"""A scaling study: each configuration run under the tracker, stored, compared, advised.

Each configuration is one run in the store (kind "scale", parent_id = the
study id); the study itself is a record of kind "scale-study" holding the
comparison and the advice, without energy of its own so that nothing is
counted twice. A configuration that fails is kept with its error and the
study goes on; Ctrl-C stops the study and keeps what finished.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatio.config import Profile
from vatio.measure.result import RunResult
from vatio.measure.tracker import new_run_id
from vatio.record.tracker import RecordingTracker
from vatio.scale import analysis, collect, launch
from vatio.scale.configs import Config, Nodes
from vatio.scale.record import StudyRecord

Event = Callable[[str, int, Config, dict[str, Any] | None], None]


@dataclass
class StudySpec:
    """Everything a study needs besides the profile."""

    mode: str
    configs: list[Config]
    target: launch.Target | None = None
    scaling: str = "strong"
    nodes: Nodes = field(default_factory=Nodes)
    backend: str = "gloo"
    timeout_s: float | None = None
    study_id: str | None = None
    name: str | None = None
    command: list[str] | None = None
    merge_timeout_s: float = 120.0
    limits: dict[str, float | None] = field(default_factory=dict)
    batch: Any = None  # batch.BatchJob for inference sweeps
    warnings: list[str] = field(default_factory=list)
    store: bool = True


def run_study(
    spec: StudySpec, profile: Profile, sources: dict[str, str], on_event: Event | None = None
) -> dict[str, Any]:
    """Run every configuration in order and return the study (rows, comparison, advice)."""
    study_id = spec.study_id or new_run_id()
    cwd = Path.cwd()
    work_dir = cwd / ".vatio" / "scale" / study_id
    if spec.nodes.multi:  # nodes may share a folder (NFS, or a test on one machine)
        work_dir = work_dir / f"node-{spec.nodes.node_rank}"
    record = StudyRecord(study_id, spec, profile, cwd)
    rows: list[dict[str, Any]] = []
    notify = on_event or (lambda *_: None)
    for index, config in enumerate(spec.configs):
        notify("start", index, config, None)
        if spec.mode == "batch":
            from vatio.scale.batch import run_batch_config

            row = run_batch_config(spec, config, profile, sources, study_id)
        else:
            row = run_launched_config(
                spec, config, profile, sources, study_id, work_dir / config.key
            )
        rows.append(row)
        notify("done", index, config, row)
        if row["status"] == "interrupted":
            break
    if spec.nodes.multi and spec.nodes.node_rank != 0:
        spec.warnings.append(
            f"This is node {spec.nodes.node_rank} of {spec.nodes.nnodes}: the figures cover this "
            "node only; node 0 merges all nodes (through a shared store)."
        )
    study = summarise(spec, rows, study_id, work_dir)
    record.finish(study, "interrupted" if rows and rows[-1]["status"] == "interrupted" else None)
    study["store_error"] = record.error
    return study


def run_launched_config(
    spec: StudySpec,
    config: Config,
    profile: Profile,
    sources: dict[str, str],
    study_id: str,
    directory: Path,
) -> dict[str, Any]:
    """One configuration through torchrun (or python): run, collect, measure, store."""
    assert spec.target is not None
    shutil.rmtree(directory, ignore_errors=True)
    report_dir, log_dir, log_path = (
        directory / "ranks",
        directory / "torchrun",
        directory / "output.log",
    )
    command = launch.build_command(config, spec.target, spec.nodes, log_dir)
    env = launch.build_env(config, report_dir, spec.scaling, spec.backend)
    row: dict[str, Any] = {
        "config": config.to_dict(),
        "node_rank": spec.nodes.node_rank,
        "logs": str(directory),
    }
    tracker = _tracker(spec, config, profile, sources, study_id, command, row)
    kind = "no_sync" if config.no_sync else "train"

    @tracker.on_finish
    def collect_figures(result: RunResult) -> None:
        figures = collect.node_figures(collect.read_rank_reports(report_dir), kind)
        collect.add_energy(figures, result)
        collect.per_sample(figures)
        row.update(figures)

    _scale_section(tracker, spec, study_id, row)
    tracker.start()
    try:
        launched = launch.run_logged(command, env, log_path, spec.timeout_s)
    except BaseException as error:
        tracker.stop("failed", error=f"vatio: {error!r}")
        raise
    if launched.status in ("failed", "killed"):
        launch.explain_failure(launched, log_path, log_dir if config.mode == "workers" else None)
    row.update(
        status=launched.status,
        exit_code=launched.exit_code,
        error=launched.error,
        failed_rank=launched.failed_rank,
        error_tail=launched.error_tail,
    )
    result = tracker.stop(launched.status, exit_code=launched.exit_code, error=launched.error)
    _finish_row(row, result, tracker)
    if spec.nodes.multi and spec.nodes.node_rank == 0 and row["status"] == "completed":
        _merge_other_nodes(spec, row, tracker, study_id)
    return row


def _tracker(
    spec: StudySpec,
    config: Config,
    profile: Profile,
    sources: dict[str, str],
    study_id: str,
    command: list[str],
    row: dict[str, Any],
) -> RecordingTracker:
    """A tracker whose record carries this configuration's figures (`row`, filled later)."""
    tracker = RecordingTracker(
        f"{spec.name or 'scale'} · {config.label}",
        profile=profile,
        profile_sources=sources,
        command=command,
        kind="scale",
        parent_id=study_id,
        store=None if spec.store else False,
        # the nodes' runs of one multi-node configuration are parts of one logical run
        group=config_group(study_id, config.key) if spec.nodes.multi else None,
    )

    return tracker


def _scale_section(
    tracker: RecordingTracker, spec: StudySpec, study_id: str, row: dict[str, Any]
) -> None:
    """Register, last, the callback that stores the configuration's figures with its record."""

    @tracker.on_finish
    def scale_section(_result: RunResult) -> None:
        tracker.set_extension(
            "scale",
            {
                "study_id": study_id,
                "mode": spec.mode,
                "scaling": spec.scaling,
                "nnodes": spec.nodes.nnodes,
                "figures": row,
            },
        )


def _finish_row(row: dict[str, Any], result: RunResult, tracker: RecordingTracker) -> None:
    row["run_id"] = result.id
    row["co2e_g"] = result.co2e_g
    row["store_error"] = getattr(tracker, "store_error", None)


def config_group(study_id: str, key: str) -> str:
    """The logical run (group id) of one configuration of a multi-node study."""
    return f"scale-{study_id}-{key}"[:128]


def _merge_other_nodes(
    spec: StudySpec, row: dict[str, Any], tracker: RecordingTracker, study_id: str
) -> None:
    """Node 0 waits for the other nodes' parts of this configuration (one logical run, found
    by its group id), then merges them: the training figures with `collect.merge_nodes`,
    the whole run with the common multi-node merge (no device counted twice)."""
    from vatio.record.group import merge_group
    from vatio.store.runstore import RunStore

    if tracker.store_url is None:
        return
    store = RunStore(tracker.store_url)
    group = config_group(study_id, row["config"]["key"])
    found: dict[int, dict[str, Any]] = {}
    parts: dict[str, dict[str, Any]] = {}

    def others_done() -> bool:
        for summary in store.group_summaries(group):
            if summary.get("status") == "running" or summary["id"] in parts:
                continue
            record = store.get(summary["id"])
            parts[summary["id"]] = record
            figures = ((record.get("extensions") or {}).get("scale") or {}).get("figures") or {}
            if figures.get("node_rank", 0) != 0:
                found[figures["node_rank"]] = figures
        return len(found) >= spec.nodes.nnodes - 1

    complete = launch.wait_for(others_done, spec.merge_timeout_s)
    row["node_figures"] = [{k: v for k, v in row.items() if k != "per_rank"}, *found.values()]
    merged = collect.merge_nodes([row, *found.values()])
    row.update({k: v for k, v in merged.items() if v is not None})
    collect.per_sample(row)
    if parts:
        whole = merge_group(list(parts.values()))
        row["run_energy_j"] = whole["totals"]["energy_j"]
        row["group_id"] = group
        row["slowest_node"] = whole["group"]["slowest"]
        row["devices_double_counted"] = whole["group"]["devices_double_counted"]
    if not complete:
        missing = sorted(set(range(1, spec.nodes.nnodes)) - set(found))
        row["merge_note"] = (
            f"nodes {missing} not found in the store within {spec.merge_timeout_s:g}s;"
            " figures cover the nodes found (use a shared store, e.g. PostgreSQL)"
        )


def summarise(
    spec: StudySpec, rows: list[dict[str, Any]], study_id: str, work_dir: Path
) -> dict[str, Any]:
    """Pair the no_sync checks, compare with the baseline, and advise."""
    checks = {r["config"]["key"].removesuffix("-nosync"): r for r in rows if r["config"]["no_sync"]}
    for row in rows:
        check = checks.get(row["config"]["key"])
        if check is not None and check.get("step_s"):
            row["no_sync_step_s"] = check["step_s"]
            row["no_sync_source"] = "separate no_sync run"
        elif row.get("no_sync_step_s"):
            row["no_sync_source"] = "no_sync steps in the same run"
        comm_split(row)
    base = analysis.compare(rows, spec.scaling) if spec.mode != "batch" else None
    advice = analysis.advise(rows, **spec.limits)
    return {
        "study_id": study_id,
        "mode": spec.mode,
        "scaling": spec.scaling if spec.mode != "batch" else None,
        "efficiency_definition": analysis.DEFINITIONS[spec.scaling]
        if spec.mode != "batch"
        else None,
        "baseline": base["config"]["key"] if base else None,
        "nodes": spec.nodes.nnodes,
        "node_rank": spec.nodes.node_rank,
        "backend": spec.backend if spec.mode == "workers" else None,
        "configs": rows,
        "advice": advice,
        "warnings": spec.warnings,
        "logs": str(work_dir) if spec.mode != "batch" else None,
    }


def comm_split(row: dict[str, Any]) -> None:
    """Compute vs communication per step, and the no_sync cross-check of the hook's figure."""
    step, comm = row.get("step_s"), row.get("comm_s")
    if step and comm is not None:
        row["compute_s"] = max(step - comm, 0.0)
        row["comm_share"] = comm / step
    no_sync = row.get("no_sync_step_s")
    if step and no_sync:
        row["exposed_comm_s"] = max(step - no_sync, 0.0)
