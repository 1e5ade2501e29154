"""Location shifting: the same search in several zones, compared with the home zone.

Only the grid's intensity is compared. Moving a job moves its data too, which
costs energy, time, money and maybe compliance; the user must judge that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from vatio.carbon.intensity import IntensitySeries
from vatio.schedule.windows import Moment, SlotPlan, Window, best_window, cheapest_slots

DATA_MOVE_NOTE = (
    "Region figures compare grid intensity only: moving a job also moves its data "
    "(transfer energy, time, cost, data-protection rules), which you must judge."
)


@dataclass(frozen=True)
class RegionRow:
    """One zone's best window (or slot plan) and its saving against the home zone."""

    zone: str
    result: Window | SlotPlan
    home: bool
    saving_vs_home_best_pct: float
    saving_vs_home_now_pct: float

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.result.to_dict(),
            "home": self.home,
            "saving_vs_home_best_pct": self.saving_vs_home_best_pct,
            "saving_vs_home_now_pct": self.saving_vs_home_now_pct,
        }


def _pct(reference: float, value: float) -> float:
    return 0.0 if reference <= 0 else 100.0 * (reference - value) / reference


def compare_regions(
    series: Sequence[IntensitySeries],
    duration_s: float | timedelta,
    earliest: Moment | None = None,
    deadline: Moment | None = None,
    *,
    interruptible: bool = False,
    min_chunk_s: float | timedelta | None = None,
    energy_kwh: float | None = None,
) -> list[RegionRow]:
    """Rows sorted by mean intensity (cleanest first); the first series is the home zone.

    Savings are relative to the home zone's best window and to running at home now.
    """
    if not series:
        return []
    results: list[Window | SlotPlan] = []
    for one in series:
        if interruptible:
            results.append(
                cheapest_slots(
                    one, duration_s, earliest, deadline, min_chunk_s, energy_kwh=energy_kwh
                )
            )
        else:
            results.append(best_window(one, duration_s, earliest, deadline, energy_kwh=energy_kwh))
    home = results[0]
    rows = [
        RegionRow(
            zone=result.zone,
            result=result,
            home=index == 0,
            saving_vs_home_best_pct=_pct(home.mean_intensity, result.mean_intensity),
            saving_vs_home_now_pct=_pct(home.now_intensity, result.mean_intensity),
        )
        for index, result in enumerate(results)
    ]
    return sorted(rows, key=lambda row: row.result.mean_intensity)
