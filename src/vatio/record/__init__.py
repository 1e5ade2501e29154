"""Recording runs: one path from a measured result to the store and the signed log.

Features use `RecordingTracker` (measure + record) with its public extension
points `set_extension(name, data)` and `on_finish(callback)`, or
`record_result(result, context)` for a record no tracker measured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["RecordContext", "Recorder", "RecordingTracker", "record_result"]

if TYPE_CHECKING:
    from vatio.record.context import RecordContext
    from vatio.record.recorder import Recorder
    from vatio.record.tracker import RecordingTracker, record_result

_LAZY = {
    "RecordContext": "vatio.record.context",
    "Recorder": "vatio.record.recorder",
    "RecordingTracker": "vatio.record.tracker",
    "record_result": "vatio.record.tracker",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'vatio.record' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
