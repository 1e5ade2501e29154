"""Running the checklist: each item's outcome, the profile's severity and waivers, the exit code.

An item finds PASS, WARN (partly done), FAIL or N/A. Its severity, set per item
in the profile (`[tool.vatio.check] severity = {item = "fail" | "warn" | "off"}`),
decides what a failure means: "fail" (a required item: `vatio check` exits 1),
"warn" (reported, exit 0) or "off" (not checked). `waive = {item = "reason"}`
records a decision not to apply an item, shown as N/A with the reason.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from vatio.errors import ProfileError
from vatio.report.checklist.context import Context

PASS, WARN, FAIL, NA = "PASS", "WARN", "FAIL", "N/A"
SEVERITIES = ("fail", "warn", "off")


@dataclass
class Outcome:
    """What an item found: status, the evidence behind it, and how to fix it."""

    status: str
    evidence: str
    fix: str | None = None


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    severity: str  # default: "fail" for required items, "warn" for advice
    check: Callable[[Context], Outcome]


@dataclass
class Result:
    id: str
    title: str
    status: str
    severity: str
    evidence: str
    fix: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _profile_choices(ctx: Context, items: list[Item]) -> tuple[dict[str, str], dict[str, str]]:
    """Severity overrides and waivers from the profile, with unknown names refused."""
    known = [item.id for item in items]
    severity = dict(ctx.settings.check.get("severity") or {})
    waive = {k: str(v) for k, v in dict(ctx.settings.check.get("waive") or {}).items()}
    for key in [*severity, *waive]:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"Did you mean `{close[0]}`?" if close else f"Items: {', '.join(known)}."
            raise ProfileError(f"[tool.vatio.check]: unknown checklist item `{key}`.", hint)
    for key, value in severity.items():
        if value not in SEVERITIES:
            raise ProfileError(
                f"[tool.vatio.check] severity of `{key}` is {value!r}.",
                f"Use one of: {', '.join(SEVERITIES)}.",
            )
    return severity, waive


def run_checklist(ctx: Context, items: list[Item] | None = None) -> list[Result]:
    """One result per item, in the guide's order."""
    if items is None:
        from vatio.report.checklist.items import ITEMS

        items = list(ITEMS)
    severity, waive = _profile_choices(ctx, items)
    results = []
    for item in items:
        level = severity.get(item.id, item.severity)
        if level == "off":
            outcome = Outcome(NA, "turned off in the profile ([tool.vatio.check] severity)")
        elif item.id in waive:
            outcome = Outcome(NA, f"waived in the profile: {waive[item.id]}")
        else:
            outcome = item.check(ctx)
            if outcome.status == FAIL and level == "warn":
                outcome.status = WARN
        results.append(
            Result(
                item.id,
                item.title,
                outcome.status,
                level,
                outcome.evidence,
                outcome.fix if outcome.status in (WARN, FAIL) else None,
            )
        )
    return results


def exit_code(results: list[Result]) -> int:
    """1 when a required item failed, else 0."""
    return 1 if any(r.status == FAIL for r in results) else 0


def summary(results: list[Result]) -> dict[str, int]:
    return {status: sum(r.status == status for r in results) for status in (PASS, WARN, FAIL, NA)}
