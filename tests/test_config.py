import pytest
from hypothesis import given
from hypothesis import strategies as st

from vatio.config import load_profile
from vatio.errors import InputError, ProfileError
from vatio.units import parse_duration, parse_energy_j


def test_bad_value_names_key_and_file(tmp_path):
    (tmp_path / "vatio.toml").write_text("pue = 0.5\n")
    with pytest.raises(ProfileError) as info:
        load_profile(tmp_path, env={})
    assert "vatio.toml" in info.value.message
    assert "`pue` = 0.5" in info.value.message


def test_unknown_key_suggests_the_close_one(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.vatio]\nzoen = "ES"\n')
    with pytest.raises(ProfileError) as info:
        load_profile(tmp_path, env={})
    assert "zoen" in info.value.message and "zone" in info.value.hint


def test_precedence_file_env_flag(tmp_path):
    (tmp_path / "vatio.toml").write_text('zone = "fr"\npue = 1.2\ninterval = "500ms"\n')
    profile, sources = load_profile(tmp_path, env={"VATIO_ZONE": "de"}, overrides={"pue": 1.4})
    assert (profile.zone, profile.pue, profile.interval) == ("DE", 1.4, 0.5)
    assert sources["zone"] == "environment VATIO_ZONE"
    assert sources["pue"] == "--pue flag"


def test_profile_found_in_parent_folder(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.vatio]\nzone = "ES"\n')
    child = tmp_path / "a" / "b"
    child.mkdir(parents=True)
    profile, _ = load_profile(child, env={})
    assert profile.zone == "ES"


def test_bad_duration_in_env_names_variable(tmp_path):
    with pytest.raises(ProfileError) as info:
        load_profile(tmp_path, env={"VATIO_INTERVAL": "fast"})
    assert "VATIO_INTERVAL" in info.value.message


@given(st.integers(min_value=0, max_value=10**6))
def test_duration_units_agree(seconds):
    assert parse_duration(f"{seconds}s") == seconds
    assert parse_duration(f"{seconds}m") == seconds * 60
    assert parse_duration(f"{seconds}ms") == pytest.approx(seconds / 1000)


def test_compound_and_bad_durations():
    assert parse_duration("1h30m") == 5400
    assert parse_duration("90") == 90
    for bad in ("", "abc", "3 parsecs", "1h-3"):
        with pytest.raises(InputError):
            parse_duration(bad)


def test_energy_units():
    assert parse_energy_j("12kWh") == 12 * 3.6e6
    assert parse_energy_j("500Wh") == 500 * 3600
    assert parse_energy_j("2") == 2 * 3.6e6
    with pytest.raises(InputError):
        parse_energy_j("12 bananas")
