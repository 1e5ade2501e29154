import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from vatio.errors import InputError
from vatio.provenance.approved import append_approval, diff_sets, load_registry, violations
from vatio.provenance.audit import audit_offline
from vatio.provenance.lockparse import Lockfile, parse_requirements
from vatio.provenance.verify import verify_artifacts


def test_approval_history_is_appended_and_latest_wins(tmp_path):
    path = tmp_path / "approved.toml"
    append_approval(path, {"numpy": "1.26.4", "torch": "2.12.0"}, run="abc", note="first")
    append_approval(path, {"numpy": "2.0.0", "torch": "2.13.0"})
    registry = load_registry(path)
    assert len(registry.approvals) == 2 and registry.approvals[0].note == "first"
    outside, unapproved = violations(registry, {"numpy": "1.26.4", "torch": "2.13.0", "x": "1"})
    assert outside == [("numpy", "1.26.4", "==2.0.0")]
    assert unapproved == [("x", "1")]
    change = diff_sets(registry.approvals[0].packages, registry.approvals[1].packages)
    assert change["changed"] == [("numpy", "1.26.4", "2.0.0"), ("torch", "2.12.0", "2.13.0")]


def test_hand_written_specifiers(tmp_path):
    path = tmp_path / "approved.toml"
    path.write_text('[packages]\nnumpy = ">=1.26,<3"\ntorch = "==2.13.0"\n')
    outside, _ = violations(load_registry(path), {"numpy": "3.1", "torch": "2.13.0"})
    assert outside == [("numpy", "3.1", ">=1.26,<3")]
    path.write_text('[packages]\nnumpy = "about two"\n')
    with pytest.raises(InputError, match="not a version specifier"):
        load_registry(path)


def test_downloaded_files_are_checked_against_lock_hashes(tmp_path):
    good = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    good.write_bytes(b"good wheel")
    bad = tmp_path / "other_pkg-2.0.tar.gz"
    bad.write_bytes(b"tampered")
    digest = hashlib.sha256(b"good wheel").hexdigest()
    text = f"demo-pkg==1.0 --hash=sha256:{digest}\nother-pkg==2.0 --hash=sha256:{'0' * 64}\n"
    lock = Lockfile(Path("requirements.txt"), "requirements", parse_requirements(text))
    statuses = {c.file: c.status for c in verify_artifacts(lock, tmp_path)}
    assert statuses == {good.name: "ok", bad.name: "mismatch"}


OSV_RECORD = {
    "id": "GHSA-test-0001",
    "summary": "A test vulnerability",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "Requests"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.32.0"}]}],
        }
    ],
}


def test_offline_osv_database_folder_and_zip(tmp_path):
    folder = tmp_path / "osv"
    folder.mkdir()
    (folder / "GHSA-test-0001.json").write_text(json.dumps(OSV_RECORD))
    found = audit_offline({"requests": "2.31.0", "numpy": "1.0"}, folder)
    assert [(v.package, v.id, v.fixed) for v in found] == [
        ("requests", "GHSA-test-0001", ["2.32.0"])
    ]
    assert audit_offline({"requests": "2.32.0"}, folder) == []
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("GHSA-test-0001.json", json.dumps(OSV_RECORD))
    assert len(audit_offline({"requests": "2.0"}, archive)) == 1
