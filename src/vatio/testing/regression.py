"""Per-test comparison with a baseline session, and the terminal summary."""

from __future__ import annotations

from typing import Any


def _energy(record: dict[str, Any]) -> float | None:
    totals = record.get("totals") or {}
    return totals.get("process_energy_j") or totals.get("energy_j")


def find_regressions(
    store: Any, ref: str, tests: list, threshold: float, min_joules: float
) -> tuple[list[dict[str, Any]], str]:
    """Tests whose job energy grew by more than `threshold` against the baseline session.

    One measurement a side is noisy: tests under `min_joules` in both sessions are
    not judged, and the note says so; `vatio compare --repeat` is the robust gate.
    """
    session_id = store.resolve_ref(ref)[-1]
    import sqlalchemy as sa

    from vatio.store.schema import runs

    query = sa.select(runs.c.name, runs.c.process_energy_j, runs.c.energy_j).where(
        runs.c.parent_id == session_id
    )
    with store.engine.connect() as conn:
        base = {
            row.name: row.process_energy_j if row.process_energy_j is not None else row.energy_j
            for row in conn.execute(query)
        }
    found = []
    judged = 0
    for test in tests:
        before = base.get(test.name)
        now = test.process_energy_j if test.process_energy_j is not None else test.energy_j
        if before is None or now is None or max(before, now) < min_joules:
            continue
        judged += 1
        if before > 0 and now / before - 1 > threshold:
            found.append({"test": test.name, "baseline_j": before, "now_j": now})
    note = (
        f"baseline {ref} (session {session_id}): {judged} tests judged, "
        f"{len(found)} above +{threshold:.0%}; tests under {min_joules:g} J not judged"
    )
    return found, note


def summary_lines(session: Any) -> list[str]:
    from vatio.quantities import carbon, energy

    tests = sorted(session.tests, key=lambda t: t.energy_j or 0.0, reverse=True)
    result = session.result
    lines = ["", "vatio: energy per test (job share of the machine; method in brackets)"]
    if result is not None:
        grams = (result.carbon or {}).get("co2e_g")
        lines.append(
            f"  session {result.id}: {energy(result.energy_j)} machine, "
            f"{energy(result.process_energy_j)} this process"
            + (f", {carbon(grams)}" if grams is not None else "")
            + f" [{result.method}]"
        )
    top = session.options.top
    for test in tests[:top]:
        lines.append(
            f"  {energy(test.process_energy_j):>9}  {test.duration_s or 0:7.2f} s  {test.name}"
        )
    if len(tests) > top:
        lines.append(f"  ... {len(tests) - top} more; `vatio runs list` shows them all")
    if session.baseline_note:
        lines.append("  " + session.baseline_note)
    if session.gate_error:
        closed = session.options.fail_on_regression
        lines.append(
            f"  {'GATE FAILED CLOSED' if closed else 'WARNING: NO REGRESSION CHECK'}: "
            f"{session.gate_error}"
        )
    for item in session.regressions:
        lines.append(
            f"  REGRESSION {item['test']}: {energy(item['baseline_j'])} -> {energy(item['now_j'])}"
        )
    if session.store_error:
        lines.append(f"  not stored in the run store: {session.store_error}")
        for path in session.unsaved[:1]:
            count = 1 + len(session.tests)
            lines.append(
                f"  the session's figures ({count} run{'s' if count != 1 else ''}) are saved in "
                f"{path}; `vatio runs import` brings them into a store"
            )
    return lines
