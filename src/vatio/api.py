"""The public Python API: `vatio.track()` and `vatio.Tracker`.

A thin face over `vatio.record.RecordingTracker` that speaks Python: profile
names as keywords (`interval="1s"`, `zone=`, `pue=`, `idle_baseline=`),
errors that name the keyword rather than a CLI flag, and a bare `@vatio.track`
decorator. Features never import this module; they use `vatio.record`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, overload

from vatio.config import Profile, load_profile
from vatio.record.multinode import AUTO
from vatio.record.tracker import RecordingTracker

F = TypeVar("F", bound=Callable[..., Any])

#: keywords of track()/Tracker() that set profile values, and their profile names
PROFILE_KEYWORDS = {
    "zone": "zone",
    "pue": "pue",
    "interval": "interval",
    "interval_s": "interval",
    "idle_baseline": "idle_baseline",
    "idle_baseline_s": "idle_baseline",
    "store": "store",
    "intensity": "intensity",
    "cpu_tdp_w": "cpu_tdp_w",
    "project": "project",
}


class Tracker(RecordingTracker):
    """Measures a run, accounts its carbon and records it (unless store=False)."""

    def __init__(
        self,
        name: str | None = None,
        *,
        command: list[str] | None = None,
        profile: Profile | None = None,
        profile_sources: dict[str, str] | None = None,
        store: str | bool | None = None,
        cwd: Path | None = None,
        mlflow: bool = False,
        sinks: list[Any] | None = None,
        **options: Any,
    ) -> None:
        record_options = {
            k: options.pop(k) for k in ("kind", "parent_id", "forecast") if k in options
        }
        # a rank of torchrun/Slurm/MPI joins its job's logical run unless group=None
        record_options["group"] = options.pop("group", AUTO)
        measure_keys = ("sensors", "pid", "max_points", "discovery_options", "clock")
        measure = {k: options.pop(k) for k in measure_keys if k in options}
        if profile is None:
            profile, profile_sources = _profile(name, store, cwd, options)
        elif options:
            raise TypeError(f"Tracker() got profile= and {', '.join(sorted(options))}")
        sinks = list(sinks or [])
        if mlflow:
            from vatio.integrations.mlflow import MlflowSink

            sinks.append(MlflowSink())
        super().__init__(
            name,
            command=command,
            profile=profile,
            profile_sources=profile_sources,
            store=False if store is False else None,
            cwd=cwd,
            sinks=sinks,
            **record_options,
            **measure,
        )


def _profile(
    name: str | None, store: str | bool | None, cwd: Path | None, options: dict[str, Any]
) -> tuple[Profile, dict[str, str]]:
    unknown = sorted(set(options) - set(PROFILE_KEYWORDS))
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], list(PROFILE_KEYWORDS), n=1)
        hint = f" Did you mean {close[0]}=?" if close else ""
        raise TypeError(f"track() got an unexpected keyword argument {unknown[0]!r}.{hint}")
    overrides: dict[str, Any] = {"name": name}
    if isinstance(store, str):
        overrides["store"] = store
    for keyword, value in options.items():
        overrides[PROFILE_KEYWORDS[keyword]] = value
    return load_profile(
        cwd=cwd, overrides=overrides, label=lambda key: f"the keyword {key}= of vatio.track()"
    )


@overload
def track(name: F, **options: Any) -> F: ...
@overload
def track(name: str | None = None, **options: Any) -> Tracker: ...
def track(name: Any = None, **options: Any) -> Any:
    """A tracker for `with vatio.track(...) as t:`, `@vatio.track(...)` or bare `@vatio.track`."""
    if callable(name):  # bare @vatio.track
        return Tracker(None, **options)(name)
    return Tracker(name, **options)
