"""What the checklist looks at: the project folder, its profile, its runs, this environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatio.report.settings import Settings, load_settings, project_root

DEFAULT_RECENT_RUNS = 20


@dataclass
class Context:
    """Evidence gathered once; the items only read it (tests build one directly)."""

    root: Path
    settings: Settings
    store_label: str
    summaries: list[dict[str, Any]] = field(default_factory=list)  # every run, newest first
    records: list[dict[str, Any]] = field(default_factory=list)  # full records of recent runs
    skipped: list[str] = field(default_factory=list)  # runs not read, and why
    installed: dict[str, str] | None = None  # name -> version of this environment
    environment: dict[str, Any] | None = None  # isolation of this process
    gpu_capabilities: list[dict[str, Any]] | None = None  # NVML probe of this machine's GPUs

    def installed_packages(self) -> dict[str, str]:
        if self.installed is None:
            from vatio.provenance.system import installed_packages

            self.installed = {p["name"]: p["version"] for p in installed_packages()}
        return self.installed

    def gpus(self) -> list[dict[str, Any]]:
        if self.gpu_capabilities is None:
            from vatio.devices.nvidia import capabilities

            self.gpu_capabilities = capabilities()
        return self.gpu_capabilities

    def current_environment(self) -> dict[str, Any]:
        if self.environment is None:
            from vatio.provenance.system import detect_environment

            self.environment = detect_environment()
        return self.environment


def gather(store: str | None = None, cwd: Path | None = None) -> Context:
    """Read the profile and the store (without creating a store where there is none)."""
    from vatio.measure.result import SCHEMA_VERSION
    from vatio.report.load import open_run_store, store_exists

    cwd = cwd or Path.cwd()
    settings = load_settings(store, cwd)
    root = project_root(settings, cwd)
    context = Context(root=root, settings=settings, store_label=settings.store or ".vatio/vatio.db")
    if not store_exists(settings.store, cwd):
        context.store_label += " (not created yet)"
        return context
    run_store = open_run_store(settings.store)
    context.store_label = run_store.url
    context.summaries = run_store.list_runs(limit=None)
    recent = int(settings.check.get("recent_runs") or DEFAULT_RECENT_RUNS)
    for summary in [s for s in context.summaries if s.get("status") == "completed"][:recent]:
        record = run_store.get(summary["id"])
        if record.get("schema_version") != SCHEMA_VERSION:
            context.skipped.append(
                f"{summary['id']} (record schema version {record.get('schema_version')})"
            )
            continue
        record.setdefault("kind", summary.get("kind"))
        context.records.append(record)
    return context
