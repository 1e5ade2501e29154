"""The report's data: every figure carries a method and a range; comparisons show the diff."""

from __future__ import annotations

import math

import pytest

from tests.report.records import device, make_result, save
from vatio.report.build import build_report
from vatio.report.envdiff import package_changes
from vatio.report.schema import validation_errors
from vatio.report.sci import BASE_MACHINE_KG, GPU_KG, LIFETIME_YEARS, MEMORY_KG_PER_GB, YEAR_S
from vatio.report.series import power_series
from vatio.report.utilisation import device_utilisation, main_device


def _figures(data, path="$"):
    """Every figure (a dict with unit and method) anywhere in the report."""
    if isinstance(data, dict):
        if "unit" in data and "method" in data:
            yield path, data
        for key, value in data.items():
            yield from _figures(value, f"{path}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _figures(value, f"{path}[{i}]")


def test_one_run_report_is_valid_and_every_figure_has_method_and_range(demo_run):
    report = build_report([demo_run])
    assert validation_errors(report) == []
    run = report["runs"][0]
    figures = list(_figures(report))
    assert len(figures) > 20
    for path, fig in figures:
        assert fig["method"] and fig["unit"], path
        if fig["basis"] == "estimated" and fig["value"]:
            assert fig["low"] is not None and fig["high"] is not None, path
            assert fig["low"] <= fig["value"] <= fig["high"] * (1 + 1e-9), path
    assert run["energy"]["machine"]["basis"] == "estimated"
    assert [p["name"] for p in run["phases"]] == ["epoch-1", "epoch-2", "epoch-3"]
    assert run["carbon"]["basis"] == "hourly" and run["carbon"]["per_hour"]
    assert run["grid"]["zone"] == "ES" and len(run["grid"]["hour_s"]) == 25
    assert report["comparison"] is None


def test_measured_and_estimated_are_reported_apart(gpu_run):
    run = build_report([gpu_run])["runs"][0]
    energy = run["energy"]
    assert energy["mixed"] is True and energy["machine"]["basis"] == "mixed"
    assert energy["measured_kwh"] == pytest.approx(250 * 120 / 3.6e6)
    assert energy["estimated_kwh"] == pytest.approx(46 * 120 / 3.6e6)
    bases = {d["name"]: d["basis"] for d in run["devices"]}
    assert bases == {
        "gpu:0": "measured",
        "cpu:estimated": "estimated",
        "memory:estimated": "estimated",
    }


def test_work_units_and_flops(gpu_run):
    run = build_report([gpu_run])["runs"][0]
    assert [w["unit"] for w in run["work"]] == ["samples"]  # FLOPs are compute, not work
    per = run["work"][0]["energy_per_unit"]
    assert per["unit"] == "J/sample"
    assert per["value"] == pytest.approx(296 * 120 / 6000)
    assert run["flops"]["value"] == 3.0e15 and run["flops"]["source"] == "work"
    assert run["flops"]["flops_per_joule"] == pytest.approx(3.0e15 / (296 * 120))
    given = build_report([gpu_run], flops=1e12)["runs"][0]["flops"]
    assert given == {**given, "value": 1e12, "source": "user"}


def test_sci_is_operational_plus_embodied_per_unit(demo_run):
    run = build_report([demo_run])["runs"][0]
    sci = run["sci"]
    operational = run["carbon"]["co2e"]["value"]
    expected_kg = BASE_MACHINE_KG + (64 - 16) * MEMORY_KG_PER_GB
    embodied = expected_kg * 1000 * 60 / (LIFETIME_YEARS * YEAR_S)
    assert sci["embodied"]["value"] == pytest.approx(embodied)
    per_sample, per_run = sci["per_unit"]
    assert per_sample["unit_name"] == "samples" and per_run["unit_name"] == "run"
    assert per_sample["value"] == pytest.approx((operational + embodied) / 6000)
    assert per_run["value"] == pytest.approx(operational + embodied)
    assert per_run["low"] < per_run["value"] < per_run["high"]


def test_sci_settings_from_the_profile(gpu_run):
    settings = {
        "embodied_kgco2e": 500.0,
        "lifetime_years": 5,
        "resource_share": 0.5,
        "functional_unit": "samples",
    }
    sci = build_report([gpu_run], settings=settings)["runs"][0]["sci"]
    total_kg = 500.0 + GPU_KG
    expected = total_kg * 1000 * 120 / (5 * YEAR_S) * 0.5
    assert sci["embodied"]["value"] == pytest.approx(expected)
    assert sci["embodied"]["low"] == sci["embodied"]["high"] == pytest.approx(expected)
    assert "1 GPU" in sci["embodied"]["method"]


def test_without_zone_no_carbon_no_sci_no_equivalents(store):
    record = save(store, make_result(zone=None))
    report = build_report([record])
    assert validation_errors(report) == []
    run = report["runs"][0]
    assert run["carbon"] is None and run["equivalents"] == [] and run["grid"] is None
    assert "no grid zone" in run["sci"]["reason"]
    assert any("grid zone" in note for note in run["notes"])


def test_equivalents_use_green_algorithms_factors(demo_run):
    run = build_report([demo_run])["runs"][0]
    grams = run["carbon"]["co2e"]["value"]
    car = next(e for e in run["equivalents"] if "EU passenger car" in e["label"])
    assert car["value"] == pytest.approx(grams / 175) and car["unit"] == "km"
    assert car["low"] == pytest.approx(run["carbon"]["co2e"]["low"] / 175)


def test_comparison_shows_deltas_and_environment_differences(demo_run, gpu_run):
    report = build_report([demo_run, gpu_run])
    assert validation_errors(report) == []
    comparison = report["comparison"]
    assert comparison["baseline"] == demo_run["id"]
    base, other = comparison["rows"]
    assert base["delta_energy_pct"] == 0
    expected = (296 * 120 - 55 * 60) / (55 * 60) * 100
    assert other["delta_energy_pct"] == pytest.approx(expected)
    diff = comparison["environment"][0]
    assert diff["identical"] is False
    assert diff["packages"] == {
        "added": [{"name": "onnxruntime", "version": "1.18.0"}],
        "removed": [{"name": "vatio", "version": "0.1.0"}],
        "changed": [
            {"name": "numpy", "from": "2.0.0", "to": "2.1.0"},
            {"name": "torch", "from": "2.3.0", "to": "2.4.0"},
        ],
    }
    fields = {c["field"] for c in diff["changes"]}
    assert {"GPUs", "commit"} <= fields


def test_identical_environments_say_so(store):
    first, second = (save(store, make_result()) for _ in range(2))
    diff = build_report([first, second])["comparison"]["environment"][0]
    assert diff["identical"] is True and diff["changes"] == []


def test_package_changes():
    assert package_changes({"a": "1"}, {"a": "1"}) == {"added": [], "removed": [], "changed": []}


def test_power_series_downsampling_keeps_energy(store):
    result = make_result(duration=1000.0)
    n = len(result.timeline["t0"])
    result.timeline["power_w"]["cpu:estimated"] = [float(i % 7) for i in range(n)]
    record = save(store, result)
    series = power_series(record, max_points=100)
    assert series["merged"] == 10 and len(series["t0_s"]) == 100
    joules = sum(
        p * (b - a)
        for p, a, b in zip(
            series["power_w"]["cpu:estimated"], series["t0_s"], series["t1_s"], strict=True
        )
    )
    assert joules == pytest.approx(sum(i % 7 for i in range(n)), rel=1e-3)


def test_utilisation_exact_for_the_tdp_estimate_proxy_for_gpus(store, gpu_run):
    record = save(store, make_result(devices=[device("cpu", 25.0, 60.0, tdp_w=100.0)]))
    cpu = device_utilisation(record["devices"][0], record)
    assert cpu["value"] == pytest.approx(0.25) and cpu["quality"] == "exact"
    main = main_device(gpu_run)
    assert main["device"] == "gpu" and main["quality"] == "proxy"
    assert main["value"] == pytest.approx(250 / 400)
    memory = next(d for d in gpu_run["devices"] if d["device"] == "memory")
    assert device_utilisation(memory, gpu_run) is None


def test_rapl_utilisation_uses_the_catalog_tdp(store):
    record = save(store, make_result(devices=[device("rapl", 75.0, 60.0)]))
    found = device_utilisation(record["devices"][0], record)
    assert found is not None and found["quality"] == "proxy"
    assert math.isclose(found["value"], 75.0 / 150.0, rel_tol=0.01)  # Xeon Gold 6248: 150 W


def test_a_failed_run_without_sensors_still_reports(store):
    from vatio.report.html import render_html
    from vatio.report.markdown import render_markdown

    result = make_result(status="failed", manifest=None)
    result.devices, result.phases, result.hourly = [], [], []
    result.timeline, result.carbon = None, None
    report = build_report([save(store, result)])
    assert validation_errors(report) == []
    run = report["runs"][0]
    assert run["energy"]["machine"]["value"] is None and run["main_device"] is None
    assert any("did not complete" in note for note in run["notes"])
    assert "No manifest was recorded" in render_markdown(report)
    assert "<svg" not in render_html(report)
