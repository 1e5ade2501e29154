"""`vatio report --since 30d --group-by user|project|host|zone`: the fleet view."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.team.helpers import cli, result, save
from vatio.report.schema import validation_errors
from vatio.store.filters import iso


def _ago(days: float) -> str:
    return iso(datetime.now(UTC) - timedelta(days=days))


def _part(group: str, host: str, rank: int, measures: bool, **kwargs):
    section = {"group_id": group, "host": host, "rank": rank, "measures_devices": measures,
               "role": "node" if measures else "rank", "launcher": "torchrun"}  # fmt: skip
    return result(host=host, extensions={"multinode": section}, devices=measures, **kwargs)


@pytest.fixture
def fleet(team_url):
    save(team_url, [
        result(user="alice", host="gpu-1", project="llm", energy_j=3.6e6, started_at=_ago(1),
               run_id="alice0000001"),
        result(user="alice", host="gpu-2", project="llm", energy_j=7.2e6, started_at=_ago(3),
               method="estimated:tdp", run_id="alice0000002"),
        result(user="bob", host="gpu-1", project="vision", energy_j=1.8e6, started_at=_ago(2),
               run_id="bob000000001"),
        result(user="bob", host="cpu-1", project="vision", energy_j=1e6, started_at=_ago(45),
               run_id="bob000000old"),
        # a multi-node job of carol: two node parts and one rank part, one run of 2 × 1 MJ
        _part("job-7", "gpu-3", 0, True, user="carol", energy_j=1e6, started_at=_ago(5),
              run_id="carol0node-a"),
        _part("job-7", "gpu-3", 1, False, user="carol", started_at=_ago(5),
              run_id="carol0rank-1"),
        _part("job-7", "gpu-4", 2, True, user="carol", energy_j=1e6, started_at=_ago(5),
              run_id="carol0node-b"),
    ], zone="FR")  # fmt: skip
    save(team_url, [result(user="dave", energy_j=5e5, started_at=_ago(4), run_id="dave00000001")])
    return team_url


def _json(capsys, url: str, *args: str) -> dict:
    code, out, err = cli(capsys, "report", "--store", url, "--format", "json", *args)
    assert code == 0, err
    data = json.loads(out)
    assert validation_errors(data) == []
    return data


def test_energy_carbon_runs_and_top_consumers_by_user(capsys, fleet):
    data = _json(capsys, fleet, "--since", "30d", "--group-by", "user")
    groups = {g["key"]: g for g in data["groups"]}
    assert list(groups) == ["alice", "carol", "bob", "dave"]  # largest first
    assert groups["alice"]["runs"] == 2 and math.isclose(groups["alice"]["energy_kwh"], 3.0)
    assert groups["alice"]["energy_by_basis_kwh"] == {"measured": 1.0, "estimated": 2.0,
                                                      "mixed": 0.0}  # fmt: skip
    # the multi-node job is one run; its rank part adds no energy
    assert groups["carol"]["runs"] == 1
    assert math.isclose(groups["carol"]["energy_kwh"], 2e6 / 3.6e6)
    assert groups["bob"]["runs"] == 1  # the 45-day-old run is outside the window
    assert groups["dave"]["co2e_g"] is None and groups["dave"]["runs_without_carbon"] == 1
    assert groups["alice"]["co2e_g"] > 0
    totals = data["totals"]
    assert totals["runs"] == 5 and totals["parts"] == 7
    assert math.isclose(totals["energy"]["value"], (3.6e6 + 7.2e6 + 1.8e6 + 2e6 + 5e5) / 3.6e6)
    assert totals["energy"]["basis"] == "mixed" and totals["runs_without_carbon"] == 1
    assert [r["id"] for r in data["top_runs"][:3]] == ["alice0000002", "alice0000001", "job-7"]
    assert data["top_runs"][2]["parts"] == 3 and data["top_runs"][2]["hosts"] == ["gpu-3", "gpu-4"]
    assert data["verified"] and data["verification"]["verified"] == 7
    trend = data["trend"]
    assert trend["bucket"] == "day" and 30 <= len(trend["buckets"]) <= 32
    assert math.isclose(sum(sum(v) for v in trend["series_kwh"].values()),
                        totals["energy"]["value"])  # fmt: skip


@pytest.mark.parametrize(("by", "keys"), [
    ("project", ["llm", "vision"]), ("host", ["gpu-2", "gpu-1", "gpu-3"]), ("zone", ["FR"]),
])  # fmt: skip
def test_other_groupings(capsys, fleet, by, keys):
    data = _json(capsys, fleet, "--since", "30d", "--group-by", by)
    assert [g["key"] for g in data["groups"]][: len(keys)] == keys


def test_runs_the_log_does_not_vouch_for_are_counted_and_flagged(capsys, fleet):
    engine = sa.create_engine(fleet)
    with engine.begin() as conn:  # edited behind vatio's back
        conn.execute(sa.text("UPDATE runs SET energy_j = 1 WHERE id = 'bob000000001'"))
    engine.dispose()
    data = _json(capsys, fleet, "--since", "7d", "--group-by", "user", "--user", "bob")
    assert not data["verified"] and data["totals"]["unverified_runs"] == 1
    (listed,) = data["verification"]["listed"]
    assert listed["id"] == "bob000000001" and "energy_j column" in listed["reason"]
    assert data["top_runs"][0]["verified"] is False
    code, out, err = cli(capsys, "report", "--store", fleet, "--since", "7d", "-f", "md")
    assert code == 0 and "NOT vouched for by the signed log" in out and "WARNING" in err


def test_markdown_and_html(capsys, fleet, tmp_path):
    code, out, err = cli(capsys, "report", "--store", fleet, "--since", "30d", "-f", "md")
    assert code == 0, err
    for heading in ("# vatio fleet report by user", "## By user", "## Trend per day",
                    "## Top consumers", "## What is counted"):  # fmt: skip
        assert heading in out
    page = tmp_path / "fleet.html"
    code, _, err = cli(capsys, "report", "--store", fleet, "--group-by", "project", "-o", str(page))
    assert code == 0, err
    html = page.read_text()
    assert html.count("<svg") >= 2 and "Energy per day by project" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--group-by", "team"], "Unknown --group-by 'team'"),
        (["abc", "--since", "7d"], "not both"),
        (["--user", "alice"], "select runs for the fleet view"),
        (["--since", "2999-01-01"], "is in the future"),
        (["--since", "30d", "--aiact"], "not to the fleet view"),
        ([], "No run id given"),
    ],
)
def test_bad_fleet_options_exit_2(capsys, tmp_path, args, message):
    save(f"sqlite:///{tmp_path / 'v.db'}", [result()])
    code, _, err = cli(capsys, "report", "--store", str(tmp_path / "v.db"), *args)
    assert code == 2 and message in err, err
