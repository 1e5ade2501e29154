"""The lockfile item on real lockfile formats (parsed by vatio.provenance.lockparse)."""

from __future__ import annotations

import json

from vatio.report.checklist.evidence import lockfile_outcome

H = "--hash=sha256:" + "a" * 64
INSTALLED = {"numpy": "2.0.0", "torch": "2.3.0"}


def test_requirements_pass_warn_and_fail(tmp_path):
    outcome = lockfile_outcome(tmp_path, INSTALLED)
    assert outcome.status == "FAIL" and "no lockfile" in outcome.evidence
    lock = tmp_path / "requirements.txt"
    lock.write_text(
        f"--index-url https://pypi.org/simple\nnumpy==2.0.0 \\\n    {H}\n"
        f'torch==2.3.0 ; python_version >= "3.8" {H}\n'
        f'pywin32==306 ; sys_platform == "win32" {H}\n'
    )
    outcome = lockfile_outcome(tmp_path, INSTALLED)
    assert outcome.status == "PASS", outcome
    assert "pins 3 packages with hashes" in outcome.evidence
    lock.write_text("numpy==2.0.0\ntorch==2.3.0\n")
    outcome = lockfile_outcome(tmp_path, INSTALLED)
    assert outcome.status == "WARN" and "2 without a hash" in outcome.evidence
    assert "--generate-hashes" in outcome.fix
    lock.write_text(f"numpy==1.26.0 {H}\n")
    outcome = lockfile_outcome(tmp_path, INSTALLED)
    assert outcome.status == "FAIL" and "numpy 2.0.0 installed, 1.26.0 locked" in outcome.evidence
    assert "--require-hashes" in outcome.fix
    lock.write_text(f"numpy>=1 {H}\n")
    assert "not pinned" in lockfile_outcome(tmp_path, INSTALLED).evidence
    lock.write_text(f"numpy==2.0.0 {H}\nscipy==1.13.0 {H}\n")
    outcome = lockfile_outcome(tmp_path, INSTALLED)
    assert outcome.status == "WARN" and "scipy" in outcome.evidence
    lock.write_text("numpy===\n")
    assert lockfile_outcome(tmp_path, INSTALLED).status == "FAIL"


def test_uv_lock_skips_the_project_itself(tmp_path):
    (tmp_path / "uv.lock").write_text(
        """version = 1
[[package]]
name = "numpy"
version = "2.0.0"
sdist = { url = "https://x/numpy.tar.gz", hash = "sha256:aa" }
[[package]]
name = "myproject"
version = "0.1.0"
source = { editable = "." }
"""
    )
    outcome = lockfile_outcome(tmp_path, INSTALLED)
    assert outcome.status == "PASS" and "uv.lock (uv) pins 1 packages" in outcome.evidence


def test_pipfile_lock_mismatch_names_the_sync_command(tmp_path):
    (tmp_path / "Pipfile.lock").write_text(
        json.dumps({"default": {"torch": {"version": "==2.2.0", "hashes": ["sha256:aa"]}}})
    )
    outcome = lockfile_outcome(tmp_path, INSTALLED)
    assert outcome.status == "FAIL" and outcome.fix.endswith("pipenv sync")
