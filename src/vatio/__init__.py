"""vatio: measure and reduce the energy and carbon of AI workloads.

Only names are defined here; the modules behind them load on first use so
that ``import vatio`` stays cheap inside training scripts.
"""

from __future__ import annotations

from vatio.lazy import lazy_attributes

TYPE_CHECKING = False  # not typing's: `import vatio` stays free of the typing module

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


__getattr__ = lazy_attributes(__name__, _LAZY)
