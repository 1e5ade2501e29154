"""`vatio run --greenest --forecast F` end to end: the stored record is priced on F.

Real `vatio` processes and a real SQLite store. The forecast makes the current
hour the cleanest, so the plan starts at once and the job runs without waiting.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.cli.helpers import vatio

pytestmark = pytest.mark.e2e

EM_HEADER = (
    "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),"
    "Carbon Intensity gCO₂eq/kWh (LCA),Low Carbon Percentage,Renewable Percentage,"
    "Data Source,Data Estimated,Data Estimation Method\n"
)


def export_clean_now(path, zone: str | None = "ES"):
    """30 hours from the current one; the current hour is by far the cleanest."""
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    if zone is None:
        rows = [
            f"{(hour + timedelta(hours=h)).isoformat()},{7 if h == 0 else 500}" for h in range(30)
        ]
        path.write_text("time,intensity\n" + "\n".join(rows) + "\n")
        return path
    rows = "".join(
        f"{(hour + timedelta(hours=h)):%Y-%m-%d %H:%M:%S},Spain,Spain,{zone},"
        f"{5 if h == 0 else 400},{7 if h == 0 else 500},77,43,x,false,\n"
        for h in range(30)
    )
    path.write_text(EM_HEADER + rows, encoding="utf-8")
    return path


def stored_record(store, run_id: str):
    done = vatio("runs", "show", run_id, "--json", store=store)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_record_carbon_uses_the_forecast_planned_on(tmp_path):
    """No --zone: the run takes the zone the export names; its hours are priced on it."""
    store = tmp_path / "v.db"
    forecast = export_clean_now(tmp_path / "es.csv")
    done = vatio(
        "run", "--greenest", "--duration", "1m", "--forecast", str(forecast), "--json",
        "--", sys.executable, "-c", "pass", store=store,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = stored_record(store, json.loads(done.stdout)["id"])
    carbon = record["carbon"]
    assert carbon["zone"] == "ES"
    assert carbon["intensity_source"] == "forecast file es.csv"
    assert {hour["basis"] for hour in carbon["per_hour"]} == {"forecast"}
    # the job ran in the forecast's hours: 7 g/kWh now, 500 later (LCA column)
    assert {hour["intensity_g_per_kwh"] for hour in carbon["per_hour"]} <= {7.0, 500.0}
    assert record["extensions"]["schedule"]["source"] == "forecast file es.csv"
    assert record["profile"]["zone"] == "ES"
    assert record["profile"]["sources"]["zone"] == "forecast file es.csv"


def test_zoneless_forecast_runs_without_carbon_and_says_why(tmp_path):
    store = tmp_path / "v.db"
    forecast = export_clean_now(tmp_path / "plain.csv", zone=None)
    done = vatio(
        "run", "--greenest", "--duration", "1m", "--forecast", str(forecast), "--json",
        "--", sys.executable, "-c", "pass", store=store,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Without a zone the run's record has energy but no carbon." in done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "completed" and record["carbon"] is None
    assert "Without a zone" in " ".join(record["extensions"]["schedule"]["notes"])
