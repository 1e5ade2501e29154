"""Federated learning, measured and audited (the guide's §4.1 and §5.3).

Advisor (`advise`), real runs on Flower's deployment engine (`vatio fl run`),
a permissioned ledger on vatio's signed file log (`verify_fl_log`), the
centralised comparison, provenance of the final model and the report
section. Nothing here imports Flower until a run starts (extra `vatio[fl]`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vatio.lazy import lazy_attributes

if TYPE_CHECKING:
    from vatio.federated.advisor import Advice, AdviceInputs, advise
    from vatio.federated.ledger import verify_fl_log
    from vatio.federated.provenance import trace_model
    from vatio.federated.report_section import fl_section

__all__ = ["Advice", "AdviceInputs", "advise", "fl_section", "trace_model", "verify_fl_log"]

_LAZY = {
    "Advice": "vatio.federated.advisor",
    "AdviceInputs": "vatio.federated.advisor",
    "advise": "vatio.federated.advisor",
    "verify_fl_log": "vatio.federated.ledger",
    "trace_model": "vatio.federated.provenance",
    "fl_section": "vatio.federated.report_section",
}


__getattr__ = lazy_attributes(__name__, _LAZY)
