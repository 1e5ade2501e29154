"""The §5.1 item "hardware fits the job" judges by rightsize's evidence when a record has it."""

from __future__ import annotations

from tests.rightsize.test_rightsize import cpu_record, gpu_record
from vatio.report.checklist.context import Context
from vatio.report.checklist.items import check_drivers, check_hardware_fit
from vatio.report.settings import Settings


def context(records, gpus=()) -> Context:
    settings = Settings(store=None, profile_path=None, check={}, profile={})
    return Context(
        root=None, settings=settings, store_label="t.db", records=records, gpu_capabilities=gpus
    )


def test_under_used_gpu_fails_with_rightsize_evidence_and_fix():
    outcome = check_hardware_fit(context([gpu_record()]))
    assert outcome.status == "FAIL"
    assert "GPU 0 (NVIDIA A100) averaged 18% utilisation and 3.1 of 80 GB" in outcome.evidence
    assert "smaller GPU" in outcome.fix and "vatio rightsize" in outcome.fix


def test_busy_runs_pass_and_cpu_jobs_are_judged_by_cores_used():
    assert check_hardware_fit(context([gpu_record(util=0.9, idle=0.0)])).status == "PASS"
    outcome = check_hardware_fit(context([cpu_record(cores=1.3)]))
    assert outcome.status == "FAIL" and "used 1.3 of 16 CPUs" in outcome.evidence


def test_driver_item_reports_an_old_driver():
    row = {
        "index": 0, "name": "Tesla V100", "driver": "384.81", "compute_capability": (7, 0),
        "energy_counter": "missing-in-driver", "power_limit": "ok",
    }  # fmt: skip
    outcome = check_drivers(context([], [row]))
    assert outcome.status == "FAIL" and "driver is too old" in outcome.evidence and outcome.fix
    assert check_drivers(context([], [])).status == "N/A"
