"""The pytest plugin's options, checked before any test runs: a gate fails closed.

A typo in a threshold, a negative noise floor or a baseline that does not exist
must not turn the energy gate into a silent pass. Bad values stop the session
at start-up with `pytest.UsageError` (exit 4) and one sentence; a baseline that
cannot be read fails the session under `--vatio-fail-on-regression`, and is
reported loudly otherwise. Light imports only: this runs on every pytest start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest

MAX_TOP = 1_000_000
MAX_INCREASE = 10.0  # +1000 %


@dataclass(frozen=True)
class GateOptions:
    enabled: bool
    threshold: float
    min_joules: float
    top: int
    baseline: str | None
    fail_on_regression: bool


def check_options(config: Any) -> GateOptions:
    """The plugin's options, validated; raises pytest.UsageError naming the bad one."""
    from vatio.errors import InputError
    from vatio.units import parse_fraction

    option = config.getoption
    raw = option("vatio_max_increase")
    try:
        threshold = parse_fraction(str(raw))
    except InputError:
        threshold = math.nan
    if not (math.isfinite(threshold) and 0 <= threshold <= MAX_INCREASE):
        raise pytest.UsageError(
            f"--vatio-max-increase {raw!r} is not a change between 0 and +1000 % "
            "(use e.g. 20% or 0.2)."
        )
    min_joules = option("vatio_min_joules")
    if not (isinstance(min_joules, float) and math.isfinite(min_joules) and min_joules >= 0):
        raise pytest.UsageError(
            f"--vatio-min-joules {min_joules!r} must be a finite number of joules >= 0 (e.g. 1)."
        )
    top = option("vatio_top")
    if not (isinstance(top, int) and 0 <= top <= MAX_TOP):
        raise pytest.UsageError(f"--vatio-top {top!r} must be a whole number from 0 to {MAX_TOP}.")
    for name in ("vatio_baseline", "vatio_tag", "vatio_zone", "vatio_store"):
        value = option(name)
        if value is not None and (not str(value).strip() or any(ord(c) < 32 for c in value)):
            flag = "--" + name.replace("_", "-")
            raise pytest.UsageError(f"{flag} {value!r} is empty or has control characters.")
    enabled = bool(option("vatio"))
    baseline = option("vatio_baseline")
    fail = bool(option("vatio_fail_on_regression"))
    if fail and not enabled:
        raise pytest.UsageError(
            "--vatio-fail-on-regression needs --vatio: without it no energy is measured and "
            "the gate would pass silently."
        )
    if fail and not baseline:
        raise pytest.UsageError(
            "--vatio-fail-on-regression needs --vatio-baseline TAG: there is nothing to "
            "compare with."
        )
    return GateOptions(enabled, threshold, min_joules, top, baseline, fail)


def check_baseline(store_spec: str | None, ref: str) -> str:
    """The session run the baseline names; raises VatioError when it cannot be used."""
    from vatio.errors import InputError
    from vatio.store.runstore import open_store

    store = open_store(store_spec, readonly=True)
    session_id = store.resolve_ref(ref)[-1]
    kind = store.row(session_id).get("kind")
    if kind != "test-session":
        raise InputError(
            f"The baseline {ref!r} names run {session_id} of kind {kind!r}, not a pytest session.",
            "Tag a session with pytest --vatio --vatio-tag NAME and use that name.",
        )
    return session_id
