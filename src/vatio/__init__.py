"""vatio: measure and reduce the energy and carbon of AI workloads.

Only names are defined here; the modules behind them load on first use so
that ``import vatio`` stays cheap inside training scripts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["RunResult", "Tracker", "VatioError", "__version__", "track"]

if TYPE_CHECKING:
    from vatio.api import Tracker, track
    from vatio.errors import VatioError
    from vatio.measure.result import RunResult

_LAZY = {
    "Tracker": "vatio.api",
    "track": "vatio.api",
    "RunResult": "vatio.measure.result",
    "VatioError": "vatio.errors",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'vatio' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
