"""`vatio check` on whole projects: exit codes, JSON, the profile's [tool.vatio.check]."""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version

import pytest

from tests.cli import helpers
from tests.report.inprocess import run_main
from tests.report.records import make_result, save


@pytest.fixture
def vatio(capsys, monkeypatch):
    return lambda *args, store=None: run_main(capsys, monkeypatch, *args, store=store)


def test_empty_project_fails_and_creates_no_store(tmp_path):
    done = helpers.vatio("check", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "FAIL  baseline" in done.stdout and "fix: measure a baseline" in done.stdout
    assert "required items failed:" in done.stdout
    assert not (tmp_path / ".vatio").exists()


def _project(tmp_path, check_table: str = "") -> None:
    """A project that does what the guide asks: profile, lockfile, a run, a report."""
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\n\n[tool.vatio]\nzone = "ES"\n{check_table}'
    )
    digest = hashlib.sha256(b"typer").hexdigest()
    (tmp_path / "requirements.txt").write_text(
        f"typer=={version('typer')} --hash=sha256:{digest}\n"
    )


def test_a_project_that_follows_the_guide_passes(tmp_path, vatio):
    _project(tmp_path, '\n[tool.vatio.check]\nseverity = { optimization = "off" }\n')
    run = save(tmp_path / ".vatio" / "vatio.db", make_result())
    assert vatio("report", run["id"], "-o", "energy-report.html").returncode == 0
    done = vatio("check", "--json")
    data = json.loads(done.stdout)
    statuses = {item["id"]: item["status"] for item in data["items"]}
    assert done.returncode == 0 == data["exit_code"], statuses
    assert statuses["lockfile"] == "PASS"
    assert statuses["baseline"] == "PASS" and statuses["documented"] == "PASS"
    assert statuses["optimization"] == "N/A"
    assert data["summary"]["FAIL"] == 0


def test_severity_from_the_profile_turns_a_failure_into_a_warning(tmp_path, vatio):
    _project(tmp_path)
    assert vatio("check").returncode == 1  # no baseline run yet
    _project(
        tmp_path, '\n[tool.vatio.check]\nseverity = { baseline = "warn", documented = "warn" }\n'
    )
    done = vatio("check")
    assert done.returncode == 0, done.stdout
    assert "WARN  baseline" in done.stdout


def test_unknown_item_in_the_profile_is_a_user_error(tmp_path, vatio):
    _project(tmp_path, '\n[tool.vatio.check]\nseverity = { baselin = "warn" }\n')
    done = vatio("check")
    assert done.returncode == 2 and "Did you mean `baseline`?" in done.stderr


def test_report_settings_come_from_the_profile(tmp_path, vatio):
    (tmp_path / "pyproject.toml").write_text(
        "[tool.vatio]\n[tool.vatio.report]\nembodied_kgco2e = 100\nlifetime_years = 2\n"
    )
    run = save(tmp_path / ".vatio" / "vatio.db", make_result())
    done = vatio("report", run["id"], "--format", "json")
    embodied = json.loads(done.stdout)["runs"][0]["sci"]["embodied"]
    assert embodied["total_kgco2e"] == 100 and embodied["lifetime_years"] == 2
