"""Settings: flags to values, the grid, and the profile format both ways."""

from __future__ import annotations

import json

import pytest

from vatio.errors import InputError
from vatio.power.settings import (
    Setting,
    grid,
    ladder,
    load_power_profile,
    parse_frequencies_khz,
    profile_toml,
    to_profile,
)


def test_frequencies_in_any_unit():
    assert parse_frequencies_khz("1.2GHz, 1800MHz,2400000kHz,2000,2400000") == [
        1_200_000, 1_800_000, 2_400_000, 2_000_000, 2_400_000,
    ]  # fmt: skip
    with pytest.raises(InputError):
        parse_frequencies_khz("1.2 GiB")


def test_grid_has_the_default_first_and_every_combination():
    settings = grid({"threads": [1, 2], "cores": [1]})
    assert [s.label for s in settings] == ["default", "1 threads · 1 cores", "2 threads · 1 cores"]
    with pytest.raises(InputError, match="at most 64"):
        grid({"threads": list(range(1, 11)), "cores": list(range(1, 11))})


def test_ladder_like_zeus():
    assert ladder(100, 400, 5, 25) == [400, 325, 250, 175, 100]
    assert ladder(200, 200, 5, 25) == [200]


def test_profile_round_trip_json_toml_and_pyproject(tmp_path):
    setting = Setting.of({"gpu_power_limit_w": 250.0, "threads": 2})
    table = to_profile(setting, [0])
    assert table == {"gpus": [0], "gpu_power_limit_w": 250.0, "threads": 2}
    toml_file = tmp_path / "best.toml"
    toml_file.write_text(profile_toml(table))
    assert load_power_profile(toml_file) == table
    json_file = tmp_path / "best.json"
    json_file.write_text(json.dumps({"tool": {"vatio": {"power": table}}, "sweep": {}}))
    assert load_power_profile(json_file) == table
    (tmp_path / "pyproject.toml").write_text(
        '[tool.vatio]\nzone = "ES"\n\n' + profile_toml({"cpu_governor": "powersave"})
    )
    assert load_power_profile(None, cwd=tmp_path) == {"cpu_governor": "powersave"}
    (tmp_path / "x.json").write_text('{"nothing": 1}')
    with pytest.raises(InputError, match="holds no power setting"):
        load_power_profile(tmp_path / "x.json")
