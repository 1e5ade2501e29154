"""Thousands of generated files a user might hand vatio: never anything but a clear error.

Profiles (vatio.toml), forecast files (CSV and JSON) and lockfiles are fed random
bytes, random text, and structurally plausible content with wrong types; the
only exceptions allowed are vatio's own, which the CLI turns into one sentence
and exit code 2.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vatio.carbon.forecast import load_forecast
from vatio.config import load_profile
from vatio.errors import VatioError
from vatio.provenance.lockparse import parse_lockfile

SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
toml_scalars = st.one_of(
    st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=False), st.text(max_size=30)
)
keys = st.sampled_from(
    ["zone", "pue", "interval", "store", "idle_baseline", "cpu_tdp_w", "intensity", "name",
     "report", "check", "schedule", "ledger", "provider", "memory_w_per_gb", "project"]
) | st.text(min_size=1, max_size=10)  # fmt: skip


def _toml_value(value) -> str:
    return json.dumps(value) if not isinstance(value, bool) else str(value).lower()


def _allowed(call) -> None:
    try:
        call()
    except VatioError as error:  # printed on one line by the CLI (cli.output.one_line)
        assert error.message.strip()


@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_bytes_as_a_profile(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("p")
    (folder / "vatio.toml").write_bytes(data)
    _allowed(lambda: load_profile(cwd=folder, env={}))


@SETTINGS
@given(table=st.dictionaries(keys, toml_scalars | st.lists(toml_scalars, max_size=3), max_size=6))
def test_plausible_profiles_with_wrong_values(tmp_path_factory, table):
    folder = tmp_path_factory.mktemp("p")
    lines = [f"{json.dumps(k)} = {_value(v)}" for k, v in table.items()]
    (folder / "vatio.toml").write_text("\n".join(lines), encoding="utf-8")
    _allowed(lambda: load_profile(cwd=folder, env={}))


def _value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return _toml_value(value)


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".json", ".txt"]))
def test_random_bytes_as_a_forecast(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("f") / f"forecast{suffix}"
    path.write_bytes(data)
    _allowed(lambda: load_forecast(path, zone="ES"))


@SETTINGS
@given(items=st.lists(st.dictionaries(st.sampled_from(["time", "intensity", "datetime",
       "carbonIntensity", "zone"]), json_values, max_size=4), max_size=5))  # fmt: skip
def test_plausible_json_forecasts_with_wrong_types(tmp_path_factory, items):
    path = tmp_path_factory.mktemp("f") / "forecast.json"
    path.write_text(json.dumps({"zone": "ES", "forecast": items}), encoding="utf-8")
    _allowed(lambda: load_forecast(path))


@SETTINGS
@given(
    rows=st.lists(st.tuples(st.text(max_size=25), st.text(max_size=12)), max_size=6),
    header=st.sampled_from(["time,intensity", "datetime,carbonIntensity", "", "a,b,c"]),
)
def test_plausible_csv_forecasts(tmp_path_factory, rows, header):
    path = tmp_path_factory.mktemp("f") / "forecast.csv"
    body = "\n".join(f"{t},{v}" for t, v in rows)
    path.write_text(f"{header}\n{body}\n", encoding="utf-8")
    _allowed(lambda: load_forecast(path, zone="ES"))


@SETTINGS
@given(
    data=st.binary(max_size=400),
    name=st.sampled_from(["requirements.txt", "poetry.lock", "Pipfile.lock", "uv.lock"]),
)
def test_random_bytes_as_a_lockfile(tmp_path_factory, data, name):
    path = tmp_path_factory.mktemp("l") / name
    path.write_bytes(data)
    _allowed(lambda: parse_lockfile(path))


@SETTINGS
@given(
    packages=st.lists(
        st.dictionaries(
            st.sampled_from(["name", "version", "hashes", "files", "source", "markers"]),
            json_values,
            max_size=5,
        ),
        max_size=4,
    ),
    name=st.sampled_from(["Pipfile.lock", "poetry.lock", "uv.lock"]),
)
def test_plausible_lockfiles_with_wrong_types(tmp_path_factory, packages, name):
    path = tmp_path_factory.mktemp("l") / name
    if name == "Pipfile.lock":
        path.write_text(json.dumps({"default": dict(enumerate(packages))}, default=str))
    else:
        lines = []
        for package in packages:
            lines.append("[[package]]")
            lines += [f"{k} = {json.dumps(v, default=str)}" for k, v in package.items()]
        path.write_text("\n".join(lines), encoding="utf-8")
    _allowed(lambda: parse_lockfile(path))
