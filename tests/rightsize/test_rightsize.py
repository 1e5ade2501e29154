"""Right-sizing from records: evidence, advice with bounded savings, cloud versus on-premise."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import pytest

from tests.report.records import START, device, make_result, manifest, save
from vatio.cli.app import main
from vatio.errors import InputError
from vatio.rightsize.advise import advise, summary
from vatio.rightsize.evidence import run_fit
from vatio.rightsize.hosting import HostingInputs, Value, compare
from vatio.rightsize.loadpattern import load_pattern
from vatio.rightsize.regions import default_clouds, parse_cloud, regions

GB = 2**30


def gpu_record(util=0.18, peak_mb=3174, duration=600.0, idle=0.6, watts=120.0, **fields):
    gpu = device(
        "gpu",
        watts,
        duration,
        mean_utilisation=util,
        idle_share=idle,
        memory_used_peak_mb=peak_mb,
        memory_total_mb=81920,
        nvml_index=0,
    )
    result = make_result(devices=[gpu, device("cpu", 30.0, duration)], duration=duration, **fields)
    powers = [60.0] * int(duration * idle) + [200.0] * int(duration * (1 - idle))
    result.timeline["power_w"]["gpu:0"] = powers
    result.sampler = {
        "cpu_count": 16,
        "cpu_utilisation": 0.12,
        "process_cpu_s": 1.5 * duration,
        "process_rss_peak_bytes": 6 * GB,
        "memory_total_bytes": 64 * GB,
        "cpu_idle_share": 0.1,
    }
    return result.to_dict() | {"kind": "run"}


def cpu_record(cores=1.3, duration=300.0, **fields):
    result = make_result(
        devices=[device("cpu", 40.0, duration, tdp_w=150.0)], duration=duration, **fields
    )
    result.sampler = {
        "cpu_count": 16,
        "cpu_utilisation": 0.09,
        "process_cpu_s": cores * duration,
        "process_rss_peak_bytes": 3 * GB,
        "memory_total_bytes": 64 * GB,
        "cpu_idle_share": 0.7,
    }
    return result.to_dict() | {"kind": "run"}


def long_run(day: int, hours: float, **fields):
    """A cpu_record that ran `hours` from 10:00 on START + `day` (a short timeline: fast)."""
    record = cpu_record(id=f"r{day}", **fields)
    begin = START + timedelta(days=day)
    record["started_at"] = begin.isoformat().replace("+00:00", "Z")
    record["ended_at"] = (begin + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")
    record["duration_s"] = hours * 3600
    record["sampler"]["process_cpu_s"] = 1.3 * hours * 3600
    return record


def test_under_used_gpu_evidence_suggestions_and_bounded_saving():
    fit = run_fit(gpu_record())
    assert fit.job_cores_mean == 1.5 and fit.gpus[0].idle_power_w == 60.0 and not fit.missing
    findings = {f.device: f for f in advise([fit])}
    gpu = findings["gpu:0"]
    assert gpu.status == "under-used"
    assert gpu.evidence.startswith("GPU 0 (NVIDIA A100) averaged 18% utilisation and 3.1 of 80 GB")
    assert "at least 4 GB" in gpu.suggestions[0] and "vatio power sweep" in gpu.suggestions[-1]
    saving = gpu.saving
    # idle 60 % of 600 s at 60 W = 21.6 kJ, of 72 kJ drawn; ±2 s.e. of the idle share
    assert saving.low_j < 21_600 < saving.high_j <= 72_000
    assert saving.share_high == pytest.approx(saving.high_j / 72_000)
    assert findings["cpu"].status == "fits"  # with a GPU, the CPU only feeds it
    assert (
        findings["memory"].status == "under-used" and "16 GB" in findings["memory"].suggestions[0]
    )


def test_busy_gpu_fits():
    findings = advise([run_fit(gpu_record(util=0.85, idle=0.02))])
    assert [f.status for f in findings if f.device == "gpu:0"] == ["fits"]


def test_under_used_cpu_and_the_tdp_model_saving():
    fit = run_fit(cpu_record())
    finding = next(f for f in advise([fit]) if f.device == "cpu")
    assert finding.status == "under-used"
    assert finding.evidence.startswith("the job used 1.3 of 16 CPUs on average (machine 9% busy)")
    assert "idle in 70% of the samples" in finding.evidence
    assert finding.suggestions[0].startswith("2–3 cores would do")
    # central TDP model: idle cores cost nothing; high bound: 30 % floor × 150 W × 14/16 × 300 s
    assert finding.saving.low_j == 0.0
    assert finding.saving.high_j == pytest.approx(0.3 * 150 * (14 / 16) * 300)
    assert (
        summary([fit], advise([fit]))[0]
        == "CPU: under-used in 1 of 1 judged (median 8% of the CPUs)"
    )


def test_old_records_say_what_is_missing_instead_of_guessing():
    old = make_result().to_dict() | {"kind": "run"}
    fit = run_fit(old)
    assert any("CPU time" in m for m in fit.missing)
    finding = next(f for f in advise([fit]) if f.device == "cpu")
    assert finding.status == "unknown"


def test_load_pattern_over_days():
    records = [long_run(d, 20) for d in range(5)]
    pattern = load_pattern([run_fit(r) for r in records])
    # 100 busy hours over the 6 calendar days they touch (each run ends the next morning)
    assert pattern.busy_hours_per_day == pytest.approx(100 / 6)
    assert pattern.daily_variation is not None and pattern.active_days_share == 1.0


def test_cloud_table_and_user_regions():
    assert any(
        r.provider == "gcp" and r.name == "europe-west1" and r.pue == 1.08 for r in regions()
    )
    region, unknown = parse_cloud("gcp:europe-west1,aws:eu-west-3")
    assert region.zone == "BE" and "data-centre table" in region.pue_source
    assert unknown.zone is None and unknown.pue == 1.2 and "aws average" in unknown.pue_source
    (given,) = parse_cloud("aws:eu-west-3=FR@1.15")
    assert (given.zone, given.pue, given.pue_source) == ("FR", 1.15, "--cloud")
    with pytest.raises(InputError):
        parse_cloud("europe-west1")
    assert default_clouds("ES")[0].zone == "ES"


def _inputs(**overrides):
    base = {
        "onprem_zone": Value("ES", "--zone"),
        "onprem_pue": Value(1.2, "--pue"),
        "clouds": parse_cloud("gcp:europe-west1,aws:eu-west-3"),
        "lifetime_years": Value(4.0, "default"),
        "embodied_kg": None,
        "idle_power_w": None,
    }
    return HostingInputs(**(base | overrides))


def test_hosting_compares_per_unit_with_sources_and_asks_for_the_missing():
    records = [long_run(d, 22, work={"samples": 1e6}) for d in range(3)]
    fits = [run_fit(r) for r in records]
    result = compare(fits, _inputs())
    onprem, gcp, aws = result["sites"]
    assert result["unit"] == "sample"
    assert onprem["total_g_per_unit"] > 0 and gcp["total_g_per_unit"] > 0
    assert aws["total_g_per_unit"] is None and "aws:eu-west-3=ZONE" in aws["missing"][0]
    # on-premise carries its embodied carbon on the busy hours only: 66 h over 4 days
    assert result["hours_per_day"]["value"] == pytest.approx(16.5)
    assert onprem["embodied_g_per_unit"] == pytest.approx(gcp["embodied_g_per_unit"] * 24 / 16.5)
    assert gcp["vs_onprem"] == pytest.approx(
        gcp["total_g_per_unit"] / onprem["total_g_per_unit"] - 1
    )
    text = " ".join(result["reasoning"])
    assert "on-premise at PUE 1.2 in ES emits" in text and "load: 16.5 h/day" in text
    asked = compare(fits, _inputs(onprem_pue=None))
    assert asked["sites"][0]["total_g_per_unit"] is None
    assert "your data centre's PUE" in asked["sites"][0]["missing"][0]


def _main() -> None:
    try:
        main()
    except SystemExit as done:
        assert done.code in (0, None)


def test_cli_rightsize_reads_the_store(tmp_path, monkeypatch, capsys):
    store = tmp_path / "runs.db"
    for record in (gpu_record(), cpu_record()):
        from vatio.measure.result import RunResult

        result = RunResult.from_dict(record)
        result.sampler = record["sampler"]
        save(store, result)
    monkeypatch.setattr(sys, "argv", ["vatio", "rightsize", "--store", str(store), "--json"])
    _main()
    out = json.loads(capsys.readouterr().out)
    statuses = {(f["run_id"][:4], f["device"]): f["status"] for f in out["findings"]}
    assert "under-used" in statuses.values() and len(out["runs"]) == 2
    monkeypatch.setattr(
        sys, "argv", ["vatio", "rightsize", "--store", str(store), "--hosting", "--zone", "ES"]
    )
    _main()
    printed = capsys.readouterr().out
    assert "Cloud or on-premise" in printed and "your data centre's PUE" in printed
    assert manifest()["memory_gb"] == 64.0
