"""`vatio zones` through typer's CliRunner (the command module on its own app)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from vatio.cli.zones import register


def invoke(*args: str):
    app = typer.Typer(add_completion=False)

    @app.callback()
    def _root() -> None:
        """vatio (test app)"""

    register(app)
    return CliRunner().invoke(app, ["zones", *args], env={"COLUMNS": "200"})


def test_hourly_lists_every_zone_with_its_years():
    result = invoke("--hourly", "--json")
    assert result.exit_code == 0, result.output
    zones = {z["code"]: z for z in json.loads(result.stdout)}
    assert zones["ES"]["hourly_years"] == [2021, 2022, 2023]
    assert zones["US-CAL-CISO"]["hourly_years"] == [2021, 2022, 2023]
    assert {"NO", "BR", "BE", "IT-NO", "PL"} <= set(zones) and len(zones) == 16
    assert all(z["carbon_basis"] == "hourly" for z in zones.values())
    assert zones["ES"]["proxy_year"] == 2023


def test_json_has_one_entry_per_zone_with_the_source_of_its_value():
    zones = json.loads(invoke("--json").stdout)
    codes = [z["code"] for z in zones]
    assert len(codes) == len(set(codes)) and "BEL" not in codes and "USA" not in codes
    be = next(z for z in zones if z["code"] == "BE")
    assert "BEL" in be["aliases"] and be["yearly_source"] and be["other_yearly"]
    us = next(z for z in zones if z["code"] == "US")
    assert us["carbon_basis"] == "yearly" and "Our World in Data" in us["yearly_source"]


def test_table_shows_the_source_used():
    result = invoke("--hourly")
    assert result.exit_code == 0, result.output
    assert "16 zones" in result.stdout and "2021, 2022, 2023" in result.stdout
    assert "Electricity Maps" in result.stdout
