"""Forecast files (each bad input names its line), the typical-year proxy, the seasonal forecast."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from vatio.carbon.forecast import (
    NO_ZONE,
    load_forecast,
    seasonal_forecast,
    seasonal_forecast_error,
    typical_year_proxy,
)
from vatio.carbon.intensity import IntensitySeries, load_hourly
from vatio.errors import InputError

EM_HEADER = (
    "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),"
    "Carbon Intensity gCO₂eq/kWh (LCA),Low Carbon Percentage,Renewable Percentage,"
    "Data Source,Data Estimated,Data Estimation Method\n"
)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_plain_csv_with_offsets_and_naive_utc(tmp_path):
    path = write(
        tmp_path,
        "f.csv",
        "time,intensity\n2026-11-26T10:00:00+01:00,100\n2026-11-26T09:15:00Z,90.5\n"
        "2026-11-26 09:30,80\n",
    )
    s = load_forecast(path, zone="es")
    assert s.zone == "ES" and s.step_s == 900 and list(s.values) == [100, 90.5, 80]
    assert s.start == datetime(2026, 11, 26, 9, tzinfo=UTC)
    assert s.source == "forecast file f.csv"


def test_electricity_maps_export(tmp_path):
    rows = "".join(
        f"2022-01-01 0{h}:00:00,Spain,Spain,ES,{100 + h},{150 + h},77,43,entsoe.eu,false,\n"
        for h in range(3)
    )
    path = write(tmp_path, "ES_2022_hourly.csv", EM_HEADER + rows)
    lca = load_forecast(path)
    assert lca.zone == "ES" and list(lca.values) == [150, 151, 152] and lca.step_s == 3600
    assert list(load_forecast(path, kind="direct").values) == [100, 101, 102]


def test_json_list_and_api_shape(tmp_path):
    path = write(
        tmp_path,
        "f.json",
        '[{"time": "2026-11-26T00:00Z", "intensity": 5}, {"datetime": "2026-11-26T01:00Z", '
        '"carbonIntensity": 6}]',
    )
    assert list(load_forecast(path, zone="FR").values) == [5, 6]
    path = write(
        tmp_path,
        "g.json",
        '{"zone": "DE", "forecast": [{"carbonIntensity": 300, "datetime": "2026-11-26T00:00Z"},'
        '{"carbonIntensity": 310, "datetime": "2026-11-26T00:30Z"}]}',
    )
    s = load_forecast(path)
    assert s.zone == "DE" and s.step_s == 1800


GOOD = "2026-11-26T00:00Z,10\n2026-11-26T01:00Z,11\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("when,intensity\n" + GOOD, r"f\.csv line 1: no 'time' column"),
        ("time,value\n" + GOOD, r"f\.csv line 1: no 'intensity' column"),
        ("time,intensity\n" + GOOD + "2026-11-26 25:00,12\n", r"line 4: cannot read the time"),
        (
            "time,intensity\n" + GOOD + "2026-11-26T02:00Z,abc\n",
            r"line 4: cannot read the intensity",
        ),
        (
            "time,intensity\n" + GOOD + "2026-11-26T02:00Z,-3\n",
            r"line 4: the intensity '-3' is neg",
        ),
        (
            "time,intensity\n" + GOOD + "2026-11-26T04:00Z,12\n",
            r"line 4: .* 3 h after line 3, but ",
        ),
        (
            "time,intensity\n" + GOOD + "2026-11-26T01:00Z,12\n",
            r"line 4: .* repeats the time of li",
        ),
        ("time,intensity\n" + GOOD + "2026-11-26T00:30Z,12\n", r"line 4: .* comes before the time"),
        ("# comment\n\ntime,intensity\n2026-11-26T00:00Z,10\n", r"1 data row"),
        ("", r"f\.csv is empty"),
    ],
)
def test_bad_csv_names_the_line(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        load_forecast(write(tmp_path, "f.csv", text), zone="ES")


def test_bad_json_names_the_line_or_entry(tmp_path):
    with pytest.raises(InputError, match=r"f\.json line 2: not valid JSON"):
        load_forecast(write(tmp_path, "f.json", '[\n{"time": }]'))
    with pytest.raises(InputError, match=r"entry 2: needs 'time'"):
        load_forecast(
            write(tmp_path, "f.json", '[{"time": "2026-11-26T00:00Z", "intensity": 1}, {}]')
        )
    with pytest.raises(InputError, match=r"forecast file .* does not exist"):
        load_forecast(tmp_path / "missing.csv")


def test_typical_year_proxy_maps_same_hour_and_leap_day():
    history = load_hourly("ES", 2023)  # the latest bundled year of ES
    start = datetime(2028, 2, 28, 22, 30, tzinfo=UTC)
    proxy = typical_year_proxy("ES", start, start + timedelta(hours=27))
    assert proxy.start == datetime(2028, 2, 28, 22, tzinfo=UTC) and proxy.step_s == 3600
    assert len(proxy.values) == 28
    feb28 = int((datetime(2023, 2, 28, tzinfo=UTC) - history.start).total_seconds() // 3600)
    assert proxy.values[0] == history.values[feb28 + 22]
    assert proxy.values[2] == history.values[feb28]  # 29 Feb 00:00 -> 28 Feb 00:00
    assert "proxy" in proxy.source and "not a forecast" in proxy.source and "2023" in proxy.source


def test_typical_year_proxy_wraps_the_year_end():
    proxy = typical_year_proxy(
        "FR", datetime(2026, 12, 31, 23, tzinfo=UTC), datetime(2027, 1, 1, 2, tzinfo=UTC)
    )
    history = load_hourly("FR", 2022)
    assert proxy.values[0] == history.values[-1] and proxy.values[1] == history.values[0]


def daily_series(days: int, offset_per_day: float = 0.0) -> IntensitySeries:
    hours = np.arange(24 * days)
    values = 100 + 10 * np.sin(2 * np.pi * hours / 24) + offset_per_day * (hours // 24)
    return IntensitySeries("XX", 3600.0 * hours, values, 3600.0, "synthetic")


def test_seasonal_forecast_uses_only_known_days():
    history = daily_series(10, offset_per_day=7.0)
    issue = datetime.fromtimestamp(8 * 86400 + 3 * 3600 + 1800, UTC)  # day 8, 03:30
    fc = seasonal_forecast(history, issue, 24, days=7)
    assert fc.start == datetime.fromtimestamp(8 * 86400 + 3 * 3600, UTC) and len(fc.values) == 25
    # 03:00 target: days 1..7 are known -> mean day offset 4; 02:00 next day: days 2..8 -> 5
    assert fc.values[0] == pytest.approx(history.values[3] + 7 * 4)
    assert fc.values[23] == pytest.approx(history.values[2] + 7 * 5)
    with pytest.raises(InputError, match="no data"):
        seasonal_forecast(history, datetime(2030, 1, 1, tzinfo=UTC), 24)


def test_seasonal_forecast_error():
    exact = seasonal_forecast_error(daily_series(30))
    assert exact.mae == pytest.approx(0, abs=1e-9) and exact.n > 0
    real = seasonal_forecast_error(load_hourly("ES", 2022))
    assert 0 < real.mae < 100 and 0 < real.mape_pct < 100


@pytest.mark.parametrize(
    ("value", "shown"),
    [("true", "True"), ("false", "False"), ('"150"', "'150'"), ("[1]", r"\[1\]"), ("NaN", "nan")],
)
def test_json_intensity_must_be_a_real_number(tmp_path, value, shown):
    """`true` used to be read as 1.0 g/kWh; now the file, entry, key and value are named."""
    text = (
        '{"zone": "ES", "forecast": [{"datetime": "2026-11-26T00:00Z", "carbonIntensity": 100},'
        f' {{"datetime": "2026-11-26T01:00Z", "carbonIntensity": {value}}}]}}'
    )
    with pytest.raises(InputError, match=rf"f\.json entry 2, key 'carbonIntensity': .*{shown}"):
        load_forecast(write(tmp_path, "f.json", text))


@pytest.mark.parametrize("value", ["true", "1_000", "nan", "inf", "0x10", "١٢"])
def test_csv_intensity_must_spell_a_decimal_number(tmp_path, value):
    text = f"time,intensity\n2026-11-26T00:00Z,10\n2026-11-26T01:00Z,{value}\n"
    with pytest.raises(InputError, match=rf"f\.csv line 3: .*intensity '{value}'"):
        load_forecast(write(tmp_path, "f.csv", text))


def test_provider_points_reject_booleans():
    from vatio.carbon.forecast import series_from_points

    with pytest.raises(InputError, match=r"point 2: .*True"):
        series_from_points(
            ["2026-11-26T00:00Z", "2026-11-26T01:00Z"],
            [100, True],
            ["point 1", "point 2"],
            name="API",
            zone="ES",
            source="test",
        )


def test_good_numbers_still_read(tmp_path):
    text = "time,intensity\n2026-11-26T00:00Z,1e2\n2026-11-26T01:00Z, 12.5 \n2026-11-26T02:00Z,0\n"
    assert list(load_forecast(write(tmp_path, "f.csv", text), zone="ES").values) == [100, 12.5, 0]
    data = '[{"time": "2026-11-26T00:00Z", "intensity": 7}, {"time": "2026-11-26T01:00Z", '
    data += '"intensity": 7.5}]'
    assert list(load_forecast(write(tmp_path, "g.json", data), zone="ES").values) == [7, 7.5]


def test_the_zone_comes_from_the_file_and_must_agree_with_a_given_one(tmp_path):
    rows = "".join(
        f"2027-01-01 0{h}:00:00,Spain,Spain,ES,{100 + h},{150 + h},77,43,entsoe.eu,false,\n"
        for h in range(3)
    )
    path = write(tmp_path, "export.csv", EM_HEADER + rows)
    assert load_forecast(path).zone == "ES"
    assert load_forecast(path, zone="esp").zone == "ES"  # an alias of the same zone
    with pytest.raises(InputError, match=r"for zone ES, but the zone is FR \(from VATIO_ZONE\)"):
        load_forecast(path, zone="FR", zone_from="VATIO_ZONE")
    plain = write(tmp_path, "p.csv", "time,intensity\n" + GOOD)
    assert load_forecast(plain).zone == NO_ZONE and load_forecast(plain, zone="fr").zone == "FR"


@pytest.mark.parametrize(
    ("zone", "message"),
    [('"Atlantis"', "names the zone 'Atlantis', which vatio does not know"), ("7", "not a zone")],
)
def test_a_bad_zone_in_the_file_is_named(tmp_path, zone, message):
    text = (
        f'{{"zone": {zone}, "forecast": [{{"time": "2027-01-01T00:00Z", "intensity": 1}},'
        '{"time": "2027-01-01T01:00Z", "intensity": 2}]}'
    )
    with pytest.raises(InputError, match=message):
        load_forecast(write(tmp_path, "z.json", text))


def test_deeply_nested_json_is_one_sentence(tmp_path):
    with pytest.raises(InputError, match="nested too deeply"):
        load_forecast(write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000))
