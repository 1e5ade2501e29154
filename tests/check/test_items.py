"""Each checklist item, passing and failing; severities and waivers from the profile."""

from __future__ import annotations

import pytest

from tests.check.conftest import record
from tests.report.records import device, manifest
from vatio.errors import ProfileError
from vatio.report.checklist.items import ITEMS
from vatio.report.checklist.runner import exit_code, run_checklist

H = "--hash=sha256:" + "a" * 64


def results(ctx) -> dict[str, object]:
    return {r.id: r for r in run_checklist(ctx)}


def status(ctx, item: str) -> str:
    return results(ctx)[item].status


def test_items_follow_the_guide_and_required_failures_exit_1(make_context):
    assert [i.id for i in ITEMS] == [
        "lockfile", "isolated_env", "baseline", "optimization", "hardware_fit", "drivers",
        "scheduling", "runtime", "parallel_efficiency", "documented",
    ]  # fmt: skip
    found = run_checklist(make_context())
    assert exit_code(found) == 1
    for r in found:
        assert r.evidence
        assert (r.fix is not None) == (r.status in ("WARN", "FAIL")), r


def test_lockfile(make_context, tmp_path):
    assert status(make_context(), "lockfile") == "FAIL"
    (tmp_path / "requirements.txt").write_text(f"numpy==2.0.0 {H}\n")
    assert status(make_context(), "lockfile") == "PASS"
    assert status(make_context(installed={"numpy": "1.0"}), "lockfile") == "FAIL"


def test_isolated_environment(make_context):
    assert status(make_context([record()]), "isolated_env") == "PASS"
    bare = record(manifest=manifest(kinds=()))
    ctx = make_context([bare])
    assert status(ctx, "isolated_env") == "FAIL"
    assert "system Python" in results(ctx)["isolated_env"].evidence
    assert status(make_context(environment={"kinds": []}), "isolated_env") == "FAIL"
    assert status(make_context(environment={"kinds": ["conda"]}), "isolated_env") == "PASS"


def test_baseline(make_context):
    assert status(make_context([record()]), "baseline") == "PASS"
    assert status(make_context(), "baseline") == "FAIL"
    failed = {"id": "f1", "kind": "run", "status": "failed", "started_at": "2022"}
    assert status(make_context(extra_summaries=[failed]), "baseline") == "FAIL"


def test_optimisation(make_context):
    assert status(make_context([record(kind="optimize")]), "optimization") == "PASS"
    assert status(make_context([record()]), "optimization") == "WARN"  # advice by default


def test_hardware_fit(make_context):
    busy = record(devices=[device("cpu", 80.0, 60.0, tdp_w=100.0)])
    idle = record(devices=[device("cpu", 10.0, 60.0, tdp_w=100.0)])
    assert status(make_context([busy]), "hardware_fit") == "PASS"
    ctx = make_context([busy, idle])
    assert status(ctx, "hardware_fit") == "WARN"
    assert "CPU 10%" in results(ctx)["hardware_fit"].evidence
    strict = make_context([busy, idle], check={"severity": {"hardware_fit": "fail"}})
    assert status(strict, "hardware_fit") == "FAIL"
    lenient = make_context([idle], check={"utilisation_threshold": 0.05})
    assert status(lenient, "hardware_fit") == "PASS"
    gpu_idle = record(devices=[device("gpu", 40.0, 60.0, power_limit_w=400.0)])
    assert status(make_context([gpu_idle]), "hardware_fit") == "WARN"
    short = record(devices=[device("cpu", 10.0, 2.0, tdp_w=100.0)], duration=2.0)
    assert status(make_context([short]), "hardware_fit") == "N/A"
    assert status(make_context(), "hardware_fit") == "N/A"


def test_scheduling(make_context):
    planned = record(schedule={"window_start": "2022-06-01T02:00Z", "saving_pct": 30})
    assert status(make_context([planned]), "scheduling") == "PASS"
    assert status(make_context(profile={"schedule": {"within": "24h"}}), "scheduling") == "PASS"
    assert status(make_context([record()]), "scheduling") == "WARN"
    waived = make_context(check={"waive": {"scheduling": "interactive jobs cannot wait"}})
    found = results(waived)["scheduling"]
    assert found.status == "N/A" and "interactive jobs cannot wait" in found.evidence


def test_runtime(make_context):
    ctx = make_context(installed={"onnxruntime": "1.18.0"})
    assert status(ctx, "runtime") == "PASS"
    assert "onnxruntime 1.18.0" in results(ctx)["runtime"].evidence
    assert status(make_context(installed={"numpy": "2"}), "runtime") == "WARN"
    in_run = record(manifest=manifest(packages={"openvino": "2024.1"}))
    assert status(make_context([in_run], installed={}), "runtime") == "PASS"


def test_parallel_efficiency(make_context):
    assert status(make_context([record()]), "parallel_efficiency") == "N/A"
    launched = record(command=["torchrun", "--nproc-per-node", "4", "train.py"])
    assert status(make_context([launched]), "parallel_efficiency") == "WARN"
    two_gpus = record(devices=[device("gpu", 200.0, 60.0), device("gpu", 190.0, 60.0)])
    two_gpus["devices"][1]["name"] = "gpu:1"
    assert status(make_context([two_gpus]), "parallel_efficiency") == "WARN"
    study = record(kind="scale-study")
    assert status(make_context([launched, study]), "parallel_efficiency") == "PASS"


def test_documented(make_context, tmp_path):
    assert status(make_context(), "documented") == "FAIL"
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.vatio]\nzone = 'ES'\n")
    ctx = make_context([record()], profile_path=pyproject)
    assert status(ctx, "documented") == "WARN"
    assert "vatio report" in results(ctx)["documented"].fix
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "schema.json").write_text('{"report_version": {"const": 1}}')
    assert status(make_context([record()], profile_path=pyproject), "documented") == "WARN"
    (tmp_path / "docs" / "energy.md").write_text("<!-- generated by vatio report; ... -->\n# x\n")
    ctx = make_context([record()], profile_path=pyproject)
    assert status(ctx, "documented") == "PASS"
    assert "docs/energy.md" in results(ctx)["documented"].evidence


def test_severity_off_and_validation(make_context):
    ctx = make_context(check={"severity": {"baseline": "warn", "documented": "off"}})
    found = results(ctx)
    assert found["baseline"].status == "WARN"
    assert found["documented"].status == "N/A" and "turned off" in found["documented"].evidence
    with pytest.raises(ProfileError, match="unknown checklist item `baselin`"):
        run_checklist(make_context(check={"severity": {"baselin": "warn"}}))
    with pytest.raises(ProfileError, match="severity of `baseline`"):
        run_checklist(make_context(check={"severity": {"baseline": "error"}}))
