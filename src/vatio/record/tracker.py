"""RecordingTracker: measurement plus the one recording path, for features and the API.

While the workload runs, a background thread collects the manifest, opens the
store and marks the run as running (with a heartbeat), and loads the carbon
data, so start() and stop() stay cheap; its CPU time is reported to the
sampler as vatio's overhead. At stop(), features' `on_finish` callbacks run,
then the recorder enriches the result and writes it through its sinks.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vatio.measure.result import RunResult
from vatio.measure.tracker import Tracker as MeasureTracker
from vatio.record import multinode
from vatio.record.context import RecordContext
from vatio.record.extensions import checked_section
from vatio.record.recorder import Outcome, Recorder
from vatio.redact import redact_argv

if TYPE_CHECKING:
    from vatio.config import Profile

HEARTBEAT_S = 60.0


class RecordingTracker(MeasureTracker):
    """Measures a run, accounts its carbon and records it (unless store=False)."""

    def __init__(
        self,
        name: str | None = None,
        *,
        command: list[str] | None = None,
        kind: str = "run",
        parent_id: str | None = None,
        profile: Profile | None = None,
        profile_sources: dict[str, str] | None = None,
        store: str | bool | None = None,
        zone: str | None = None,
        pue: float | None = None,
        interval_s: float | str | None = None,
        idle_baseline_s: float | str | None = None,
        cwd: Path | None = None,
        forecast: Any = None,
        sinks: list[Any] | None = None,
        group: str | None = None,
        **measure_options: Any,
    ) -> None:
        if profile is None:
            from vatio.config import load_profile

            overrides = {
                "zone": zone,
                "pue": pue,
                "interval": interval_s,
                "idle_baseline": idle_baseline_s,
                "store": store if isinstance(store, str) else None,
                "name": name,
            }
            profile, profile_sources = load_profile(cwd=cwd, overrides=overrides)
        elif name is not None:
            profile = profile.model_copy(update={"name": name})
        self.profile = profile
        self.context = RecordContext.build(
            profile,
            profile_sources,
            kind=kind,
            parent_id=parent_id,
            cwd=cwd,
            store=store is not False,
            sinks=sinks,
        )
        self.context.forecast = forecast
        self.recorder = Recorder(self.context)
        options = {"cpu_tdp_w": profile.cpu_tdp_w, "memory_w_per_gb": profile.memory_w_per_gb}
        options.update(measure_options.pop("discovery_options", None) or {})
        super().__init__(
            profile.name,
            interval_s=profile.interval,
            idle_baseline_s=profile.idle_baseline,
            command=redact_argv(command),
            discovery_options=options,
            **measure_options,
        )
        self._extra: dict[str, Any] = {}
        self._given_sinks = list(sinks or [])
        self._background: threading.Thread | None = None
        self._stop_background = threading.Event()
        self._manifest: dict[str, Any] | None = None
        self._artifacts: list[dict[str, Any]] = []
        self._extensions: dict[str, Any] = {}
        self._begun = False
        self.outcome: Outcome | None = None
        #: multi-node jobs: the logical run (group) and this part's role on its node
        self._group = group
        self._plan = multinode.plan(group)
        self._node: multinode.NodePart | None = None

    # -- public extension points --------------------------------------------------
    def set_extension(self, name: str, data: dict[str, Any]) -> None:
        """Store a feature's section with the record (`record["extensions"][name]`)."""
        section = checked_section(name, data)
        self._extensions[name] = section
        if self.result is not None:
            self.result.extensions[name] = section

    def add_artifact(self, path: str | Path, role: str = "artifact") -> dict[str, Any]:
        """Record a file this run produced (a model, a report) by its SHA-256.

        `vatio provenance FILE` later finds the run that produced it.
        """
        from vatio.errors import InputError
        from vatio.provenance.lockfiles import file_sha256

        file = Path(path)
        if not file.is_file():
            raise InputError(f"Cannot record the artifact {file}: it is not a file.")
        item = {
            "path": str(file.resolve()),
            "sha256": file_sha256(file),
            "size": file.stat().st_size,
            "role": role,
        }
        self._artifacts.append(item)
        return item

    @property
    def store_url(self) -> str | None:
        return self.context.store_url

    @property
    def store_error(self) -> str | None:
        return self.outcome.store_error if self.outcome else None

    @property
    def unsaved_path(self) -> Path | None:
        if self.outcome and self.outcome.unsaved:
            return Path(self.outcome.unsaved[0])
        return None

    @property
    def kind(self) -> str:
        return self.context.kind

    @property
    def parent_id(self) -> str | None:
        return self.context.parent_id

    # -- lifecycle ------------------------------------------------------------------
    def start(self, origin: Any = None, *, background: bool = True) -> RecordingTracker:
        """Begin measuring; `background=False` leaves the recorder's background work (manifest,
        store, signing key) to `start_background()`, e.g. once a job has been spawned, so that
        it does not delay the spawn."""
        first = self._sampler is None
        if first:
            self._claim_node()
        super().start(origin)
        if first and self._node is not None:
            self._follow_or_register()
        if first and self.result is not None:
            self.result.extensions.update(self._extensions)
            if background:
                self.start_background()
        return self

    def start_background(self) -> None:
        """Collect the manifest, open the store and mark the run as running, in a thread."""
        if self._background is not None or self.result is None:
            return
        self._background = threading.Thread(
            target=self._background_work,
            args=(self.result,),
            name="vatio-recorder",
            daemon=True,
        )
        self._background.start()

    def stop(
        self, status: str = "completed", exit_code: int | None = None, error: str | None = None
    ) -> RunResult:
        already = self.result is not None and self.result.status != "running"
        if self._node is not None and not already:
            self._node.stop_following()
        result = super().stop(status, exit_code=exit_code, error=error)
        if already or self.outcome is not None:
            return result
        if self._node is not None:
            self.set_extension("multinode", self._node.finish())
        self.start_background()  # when no job was ever spawned, the manifest is still taken
        self._stop_background.set()
        if self._background is not None:
            self._background.join(timeout=30)
        result.manifest = self._manifest
        result.artifacts = list(self._artifacts)
        result.extensions.update(self._extensions)
        self.outcome = self.recorder.record([result], begun=self._begun)
        return result

    def attach(self, pid: int) -> None:
        super().attach(pid)
        if self._node is not None and not self._node.measures:
            self._node.register(pid, 0.0)

    # -- multi-node jobs ------------------------------------------------------------------
    def _claim_node(self) -> None:
        """One part per node measures its devices; the others measure none (see multinode)."""
        if self._plan.warning:
            self.warn(self._plan.warning)
        if self._plan.group_id is None:
            return
        host = self.context.host or "localhost"
        self._node = multinode.NodePart(self._plan, host, self.run_id)
        self.context.group_id = self._plan.group_id
        if self._node.lock_error:
            self.warn(
                f"cannot take this node's measuring slot ({self._node.lock_error}); this part "
                "measures the node's devices, and so may other ranks of this node (the merged "
                "run counts overlapping measurements of one node once); set "
                "VATIO_NODE_LOCK_DIR to a writable node-local folder"
            )
        if not self._node.measures:
            self._given_sensors = []  # its node's energy is the measuring part's

    def _follow_or_register(self) -> None:
        import os

        from vatio.measure.sampler import CHILD_LATER

        node = self._node
        assert node is not None and self._sampler is not None
        if node.measures:
            node.follow(self._sampler, self._sampler.interval_s)
        elif self._pid != CHILD_LATER:  # a child spawned later registers at attach()
            pid = os.getpid() if self._pid is None else self._pid
            node.register(pid, multinode.process_cpu_s(pid))

    def _background_work(self, result: RunResult) -> None:
        """Collect the manifest and register the run while the workload runs."""
        sampler = self._sampler
        if sampler is not None:
            sampler.own_cpu.watch_thread("recorder")
        try:
            self._warm_carbon()
            try:
                self._manifest = self._collect_manifest()
            except Exception as error:  # the manifest must never break a run
                self._manifest = {"collection_errors": [f"manifest: {error!r}"]}
            if sampler is not None:
                sampler.own_cpu.report_thread("recorder", time.thread_time())
            if not self.context.store_enabled:
                return
            try:
                self._warm_signer()
                self.recorder.begin(result)
                store = self.recorder.writer()
                self._begun = True
                while not self._stop_background.wait(HEARTBEAT_S):
                    store.heartbeat(result.id)
            except Exception:  # stop() writes the record, or saves it as unsaved JSON
                return
        finally:
            if sampler is not None:
                sampler.own_cpu.unwatch_thread("recorder")
                sampler.own_cpu.report_thread("recorder", time.thread_time())

    def _warm_carbon(self) -> None:
        """Load the intensity data now, so that stop() does not pay for numpy and parsing."""
        if self.context.zone is None:
            return
        try:
            from vatio.carbon.accounting import intensity_for_hour

            hour = time.time() // 3600 * 3600
            intensity_for_hour(self.context.zone, hour, self.profile.intensity)
        except Exception:  # stop() will compute it anyway, and report a real error there
            return

    def _warm_signer(self) -> None:
        try:
            self.recorder.signer()
            import vatio.ledger.checkpoint
            import vatio.ledger.merkle  # noqa: F401
        except Exception:
            return

    def _collect_manifest(self) -> dict[str, Any]:
        from vatio.devices.nvidia import gpu_inventory
        from vatio.provenance.manifest import collect_manifest

        sampler = self._sampler
        return collect_manifest(
            command=self.command or list(sys.argv),
            profile=self.context.profile_section(),
            cwd=self.context.cwd,
            gpus=gpu_inventory(),
            on_child_cpu=sampler.own_cpu.add_children if sampler is not None else None,
        )

    def _settings(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "kind": self.context.kind,
            "parent_id": self.context.parent_id,
            "profile": self.profile,
            "profile_sources": self.context.profile_sources,
            "store": self.context.store_url if self.context.store_enabled else False,
            "cwd": self.context.cwd,
            "sinks": self._given_sinks,
            "sensors": self._given_sensors,
            "pid": self._pid,
            "max_points": self.max_points,
            "clock": self.clock,
            "group": self._group,
        }


def record_result(result: RunResult, context: RecordContext) -> Outcome:
    """Record a result no tracker measured (a study's summary, a merged multi-node run)."""
    return Recorder(context).record([result], begun=False)
