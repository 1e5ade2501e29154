"""Zone lookup: one canonical code per zone, aliases, the source rule, the proxy year."""

from datetime import UTC, datetime, timedelta

import pytest

from vatio.carbon.accounting import intensity_for_hour, run_carbon
from vatio.carbon.forecast import typical_year_proxy
from vatio.carbon.intensity import load_hourly
from vatio.carbon.zones import known_zone_codes, proxy_year, resolve_zone
from vatio.errors import UnknownZoneError

NEW_HOURLY = {"ES": (2023,), "NO": (2021, 2022, 2023), "BR": (2021, 2022, 2023)}
NEW_HOURLY["US-CAL-CISO"] = (2021, 2022, 2023)


def _hour(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_new_hourly_zone_years_are_bundled():
    for zone, years in NEW_HOURLY.items():
        assert set(years) <= set(resolve_zone(zone).hourly_years)
        for year in years:
            series = load_hourly(zone, year)
            assert len(series.values) == 8760 and (series.values >= 0).all()
            assert series.start == datetime(year, 1, 1, tzinfo=UTC)


def test_each_country_is_listed_once_under_its_alpha2_code():
    codes = known_zone_codes()
    assert len(codes) == len(set(codes))
    for alpha2, alpha3 in (("BE", "BEL"), ("AE", "ARE"), ("CH", "CHE"), ("US", "USA")):
        assert alpha2 in codes and alpha3 not in codes
        assert resolve_zone(alpha3) == resolve_zone(alpha2)
        assert alpha3 in resolve_zone(alpha2).aliases


def test_one_rule_picks_the_yearly_figure_and_names_its_source():
    """Hourly data first; else the yearly figure with the most recent data year."""
    be = resolve_zone("be")
    assert be.yearly_gco2e_per_kwh is not None and be.yearly_source
    every = [be.yearly, *be.other_yearly]
    assert {f.source for f in every} == {"Green Algorithms", "Our World in Data"}
    assert be.yearly.year == max(f.year or 0 for f in every)
    assert be.yearly_source == be.yearly.label()
    assert str(be.yearly.year) in be.yearly_source
    assert be.carbon_basis == "hourly" and resolve_zone("IE").carbon_basis == "yearly"


def test_us_has_a_national_figure_and_lists_its_sub_zones():
    us = resolve_zone("US")
    assert us.code == "US" and us.hourly_years == ()
    assert us.yearly_gco2e_per_kwh is not None and "Our World in Data" in us.yearly_source
    assert "US-CAL-CISO" in us.subzones and "US-CA" in us.subzones
    assert us.subzones[0] == "US-CAL-CISO"  # sub-zones with hourly data come first


def test_scheduling_a_zone_without_hourly_data_names_the_hourly_sub_zones():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(UnknownZoneError) as info:
        typical_year_proxy("US", start, start + timedelta(hours=3))
    text = info.value.message + " " + info.value.hint
    assert "yearly" in info.value.message and "US-CAL-CISO" in info.value.hint
    assert "Close matches" not in text


@pytest.mark.parametrize(
    ("zone", "year"), [("ES", 2023), ("FR", 2022), ("NO", 2023), ("US-CAL-CISO", 2023)]
)
def test_proxy_year_is_the_latest_bundled_year_of_that_zone(zone, year):
    assert proxy_year(zone) == year
    hour = intensity_for_hour(resolve_zone(zone), _hour("2026-07-04 13:00"))
    assert hour.basis == "hourly-proxy"
    assert f"same hour of {year}" in hour.source and f"{zone} {year}" in hour.source
    assert hour.value == load_hourly(zone, year).value_at(_hour(f"{year}-07-04 13:00"))
    start = datetime(2026, 7, 4, 13, tzinfo=UTC)
    proxy = typical_year_proxy(zone, start, start + timedelta(hours=2))
    assert f"Electricity Maps {zone} {year} history" in proxy.source
    assert proxy.values[0] == hour.value


def test_run_in_2026_in_spain_names_2023_as_its_proxy():
    hourly = [{"hour": "2026-03-01T10:00:00Z", "energy": {"cpu": [3.6e6, 1.8e6, 7.2e6, 1.8e6]}}]
    carbon = run_carbon(hourly, "ESP")
    assert carbon["zone"] == "ES" and carbon["basis"] == "hourly-proxy"
    source = carbon["intensity_source"]
    assert "ES 2023" in source and "proxy for 2026" in source


def test_proxy_year_of_a_yearly_only_zone_is_an_error():
    with pytest.raises(UnknownZoneError):
        proxy_year("IE")


def test_hourly_zones_have_their_electricity_maps_names():
    assert resolve_zone("US-CAL-CISO").name == "California Independent System Operator"
    assert resolve_zone("IT-NO").name == "North Italy"


def test_scheduling_in_a_state_points_to_the_hourly_zone_that_covers_it():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(UnknownZoneError) as info:
        typical_year_proxy("US-CA", start, start + timedelta(hours=3))
    assert info.value.hint.startswith("US-CAL-CISO has hourly data and covers most of US-CA")
