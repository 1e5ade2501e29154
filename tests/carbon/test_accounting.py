from datetime import UTC, datetime

import pytest

from vatio.carbon.accounting import intensity_for_hour, mean_intensity, run_carbon
from vatio.carbon.intensity import load_hourly, resolve_zone
from vatio.errors import UnknownZoneError


def _hour(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_carbon_across_an_hour_boundary_by_hand():
    series = load_hourly("ES", 2022)
    h1, h2 = _hour("2022-03-01 10:00"), _hour("2022-03-01 11:00")
    i1, i2 = series.value_at(h1), series.value_at(h2)
    hourly = [
        {"hour": "2022-03-01T10:00:00Z", "energy": {"cpu": [3.6e6, 1.8e6, 7.2e6, 1.8e6]}},
        {"hour": "2022-03-01T11:00:00Z", "energy": {"cpu": [7.2e6, 3.6e6, 14.4e6, 3.6e6]}},
    ]
    carbon = run_carbon(hourly, "es", pue=1.5)
    # 1 kWh at i1 and 2 kWh at i2, times PUE 1.5
    assert carbon["co2e_g"] == pytest.approx(1.5 * (1 * i1 + 2 * i2))
    assert carbon["co2e_low_g"] == pytest.approx(1.5 * (0.5 * i1 + 1 * i2))
    assert carbon["process_co2e_g"] == pytest.approx(1.5 * (0.5 * i1 + 1 * i2))
    assert carbon["basis"] == "hourly"
    assert carbon["mean_intensity_g_per_kwh"] == pytest.approx((i1 + 2 * i2) / 3)
    assert "Electricity Maps" in carbon["intensity_source"]


def test_year_without_data_uses_same_hour_of_latest_year_and_says_so():
    zone = resolve_zone("FR")
    proxy = intensity_for_hour(zone, _hour("2026-07-04 13:00"))
    real = load_hourly("FR", 2022).value_at(_hour("2022-07-04 13:00"))
    assert proxy.value == real
    assert proxy.basis == "hourly-proxy"
    assert "proxy for 2026" in proxy.source
    leap = intensity_for_hour(zone, _hour("2028-02-29 05:00"))
    assert leap.value == load_hourly("FR", 2022).value_at(_hour("2022-02-28 05:00"))


def test_zone_without_hourly_data_uses_yearly_average():
    zone = resolve_zone("USA")
    value = intensity_for_hour(zone, _hour("2026-01-01 00:00"))
    assert value.basis == "yearly-average" and value.value == zone.yearly_gco2e_per_kwh


def test_mean_intensity_is_time_weighted():
    zone = resolve_zone("DE")
    series = load_hourly("DE", 2021)
    start = _hour("2021-06-01 10:30")
    expected = (series.value_at(start) * 1800 + series.value_at(start + 1800) * 900) / 2700
    assert mean_intensity(zone, start, start + 2700) == pytest.approx(expected)


def test_unknown_zone_lists_close_matches():
    with pytest.raises(UnknownZoneError) as info:
        resolve_zone("ESS")
    assert "ES" in info.value.hint


def test_bundled_data_is_complete():
    for zone in (
        "BE",
        "BR-CS",
        "CA-ON",
        "CA-QC",
        "CH",
        "DE",
        "ES",
        "FI",
        "FR",
        "GB",
        "IT-NO",
        "NL",
        "PL",
    ):
        for year in (2021, 2022):
            series = load_hourly(zone, year)
            assert len(series.values) == 8760
            assert (series.values >= 0).all()
