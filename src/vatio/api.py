"""The public tracker: measurement plus profile, carbon, manifest and the run store.

`vatio.track()` and `vatio.Tracker` point here. The store write and the
manifest are prepared in a background thread while the workload runs, so
start() and stop() stay cheap; a run whose store cannot be written is saved
as JSON under `.vatio/unsaved/` instead of being lost.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

from vatio.config import Profile, load_profile
from vatio.measure.result import RunResult
from vatio.measure.tracker import Tracker as MeasureTracker

HEARTBEAT_S = 60.0


class Tracker(MeasureTracker):
    """Measures a run, accounts its carbon and records it (unless store=False)."""

    def __init__(
        self,
        name: str | None = None,
        *,
        zone: str | None = None,
        pue: float | None = None,
        store: str | bool | None = None,
        interval_s: float | None = None,
        idle_baseline_s: float | None = None,
        command: list[str] | None = None,
        profile: Profile | None = None,
        profile_sources: dict[str, str] | None = None,
        kind: str = "run",
        parent_id: str | None = None,
        cwd: Path | None = None,
        **measure_options: Any,
    ) -> None:
        if profile is None:
            overrides = {
                "zone": zone,
                "pue": pue,
                "interval": interval_s,
                "idle_baseline": idle_baseline_s,
                "store": store if isinstance(store, str) else None,
                "name": name,
            }
            profile, profile_sources = load_profile(cwd=cwd, overrides=overrides)
        self.profile = profile
        self.profile_sources = dict(profile_sources or {})
        self.store_enabled = store is not False
        self.kind = kind
        self.parent_id = parent_id
        self.cwd = cwd or Path.cwd()
        self.store_error: str | None = None
        self.unsaved_path: Path | None = None
        if profile.zone:
            from vatio.carbon.zones import resolve_zone

            resolve_zone(profile.zone)
        self.store_url: str | None = None
        if self.store_enabled:
            from vatio.store.location import resolve_url

            self.store_url = resolve_url(profile.store, self.cwd)
        options = {"cpu_tdp_w": profile.cpu_tdp_w, "memory_w_per_gb": profile.memory_w_per_gb}
        options.update(measure_options.pop("discovery_options", None) or {})
        super().__init__(
            profile.name,
            interval_s=profile.interval,
            idle_baseline_s=profile.idle_baseline,
            command=command,
            discovery_options=options,
            **measure_options,
        )
        self._background: threading.Thread | None = None
        self._stop_background = threading.Event()
        self._manifest: dict[str, Any] | None = None
        self._store = None
        #: the greenest-window plan this run followed, when it was scheduled
        self.schedule: dict[str, Any] | None = None
        self._artifacts: list[dict[str, Any]] = []

    def _settings(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "profile_sources": self.profile_sources,
            "store": self.store_enabled,
            "command": self.command,
            "kind": self.kind,
            "parent_id": self.parent_id,
            "cwd": self.cwd,
            "sensors": self._given_sensors,
            "pid": self._pid,
            "max_points": self.max_points,
        }

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

    # -- hooks ------------------------------------------------------------------
    def _on_start(self, result: RunResult) -> None:
        result.profile = self._profile_record()
        self._background = threading.Thread(
            target=self._background_work, args=(result,), name="vatio-recorder", daemon=True
        )
        self._background.start()

    def _background_work(self, result: RunResult) -> None:
        """Collect the manifest and register the run while the workload runs."""
        self._warm_carbon()
        try:
            self._manifest = self._collect_manifest()
        except Exception as error:  # the manifest must never break a run
            self._manifest = {"collection_errors": [f"manifest: {error!r}"]}
        if not self.store_enabled:
            return
        try:
            from vatio.store.runstore import RunStore

            assert self.store_url is not None
            self._store = RunStore(self.store_url)
            self._store.begin(result, kind=self.kind, parent_id=self.parent_id)
            while not self._stop_background.wait(HEARTBEAT_S):
                self._store.heartbeat(result.id)
        except Exception as error:
            self.store_error = str(error)

    def _warm_carbon(self) -> None:
        """Load the intensity data now, so that stop() does not pay for numpy and parsing."""
        if not self.profile.zone:
            return
        try:
            import time

            from vatio.carbon.accounting import intensity_for_hour
            from vatio.carbon.zones import resolve_zone

            hour = time.time() // 3600 * 3600
            intensity_for_hour(resolve_zone(self.profile.zone), hour, self.profile.intensity)
        except Exception:  # stop() will compute it anyway, and report a real error there
            return

    def _collect_manifest(self) -> dict[str, Any]:
        from vatio.devices.nvidia import gpu_inventory
        from vatio.provenance.manifest import collect_manifest

        return collect_manifest(
            command=self.command or list(sys.argv),
            profile=self._profile_record(),
            cwd=self.cwd,
            gpus=gpu_inventory(),
        )

    def _profile_record(self) -> dict[str, Any]:
        return {**self.profile.model_dump(), "sources": self.profile_sources}

    def _on_finish(self, result: RunResult) -> None:
        self._stop_background.set()
        if self._background is not None:
            self._background.join(timeout=30)
        result.manifest = self._manifest
        result.profile = self._profile_record()
        result.schedule = self.schedule
        result.artifacts = list(self._artifacts)
        self._add_carbon(result)
        if self.store_enabled:
            self._save(result)

    def _add_carbon(self, result: RunResult) -> None:
        if not self.profile.zone:
            result.carbon = None
            return
        from vatio.carbon.accounting import mean_intensity, run_carbon
        from vatio.carbon.intensity import resolve_zone
        from vatio.measure.tracker import parse_iso

        kind = self.profile.intensity
        carbon = run_carbon(result.hourly, self.profile.zone, self.profile.pue, kind)
        if result.process_energy_j is None:
            carbon["process_co2e_g"] = None
        result.carbon = carbon
        zone = resolve_zone(self.profile.zone)
        for phase in result.phases:
            intensity = mean_intensity(
                zone, parse_iso(phase.started_at), parse_iso(phase.ended_at), kind
            )
            phase.co2e_g = phase.energy_j / 3.6e6 * self.profile.pue * intensity

    def _save(self, result: RunResult) -> None:
        from vatio.errors import StoreError

        try:
            if self._store is None:
                from vatio.store.runstore import RunStore

                assert self.store_url is not None
                self._store = RunStore(self.store_url)
            self._store.finish(result, kind=self.kind, parent_id=self.parent_id)
        except StoreError as error:
            self.store_error = error.message
            folder = self.cwd / ".vatio" / "unsaved"
            folder.mkdir(parents=True, exist_ok=True)
            self.unsaved_path = folder / f"{result.id}.json"
            self.unsaved_path.write_text(
                json.dumps(result.to_dict(), default=str), encoding="utf-8"
            )
            sys.stderr.write(
                f"vatio: warning: the run store could not be written ({error.message}); "
                f"the run is saved in {self.unsaved_path}\n"
            )


def track(name: str | None = None, **options: Any) -> Tracker:
    """A tracker to use as `with vatio.track(...) as t:` or as `@vatio.track(...)`."""
    return Tracker(name, **options)
