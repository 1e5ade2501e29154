"""Recording runs: one path from a measured result to the store and the signed log.

Features use `RecordingTracker` (measure + record) with its public extension
points `set_extension(name, data)` and `on_finish(callback)`, or
`record_result(result, context)` for a record no tracker measured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vatio.lazy import lazy_attributes

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


__getattr__ = lazy_attributes(__name__, _LAZY)
