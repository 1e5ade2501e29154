"""Features' sections of a run record (`record["extensions"][name]`).

A feature adds its figures to a run through `RecordingTracker.set_extension`
(or an `on_finish` callback that calls it), never by editing other sections.
A section is a JSON object; a feature may register a pydantic model that
validates it. The names in use are listed here so that readers know them.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: sections written by vatio's own features, and what they hold
KNOWN = {
    "schedule": "the greenest-window plan a `--greenest` run followed",
    "scale": "one configuration of a scaling study: its figures and the study id",
    "scale_study": "a scaling study's comparison and advice (kind scale-study)",
    "optimize": "an optimisation study: variants, Pareto front, recommendation",
    "compare": "a regression-gate comparison: baseline, candidate, ratio and decision",
    "pytest": "a pytest session: outcomes, baseline comparison, regressions",
    "power": "a power-setting sweep or the setting a run used",
    "federated": "a federated-learning run: rounds, clients, ledger",
    "training": "training figures from an ML framework callback (FLOPs, tokens)",
    "multinode": "a part of a multi-node job: group id, node and rank",
}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_models: dict[str, Any] = {}


def register_extension(name: str, model: Any) -> None:
    """Validate every `name` section with a pydantic model (its JSON dump is stored)."""
    _check_name(name)
    _models[name] = model


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"extension name {name!r} must be lower case letters, digits and _ "
            "(at most 32, starting with a letter)"
        )


def checked_section(name: str, data: Any) -> dict[str, Any]:
    """The section as stored: validated by its model if one is registered, JSON only."""
    _check_name(name)
    model = _models.get(name)
    if model is not None:
        data = model.model_validate(data).model_dump(mode="json")
    if not isinstance(data, dict):
        raise TypeError(f"extension {name!r} must be a dict, not {type(data).__name__}")
    return jsonable(data)


def jsonable(value: Any) -> Any:
    """A JSON-safe copy: non-finite floats become None, tuples lists, other objects text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    try:
        import numbers

        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            return jsonable(float(value))
    except (TypeError, ValueError):
        pass
    return str(value)
