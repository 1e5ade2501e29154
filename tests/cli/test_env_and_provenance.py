"""`vatio env`, `vatio runs diff/tag`, `vatio provenance` end to end."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import vatio

pytestmark = pytest.mark.e2e
SAMPLES = Path(__file__).parents[1] / "provenance" / "samples"


def test_env_check_fails_on_drift_and_names_it(tmp_path):
    (tmp_path / "requirements.txt").write_text((SAMPLES / "requirements.txt").read_text())
    done = vatio("env", "check", "--json", cwd=tmp_path)
    assert done.returncode == 1
    findings = {f["item"]: f for f in json.loads(done.stdout)}
    assert findings["lockfile"]["status"] == "PASS"
    assert findings["installed == locked"]["status"] == "FAIL"
    assert (
        "certifi" in findings["installed == locked"]["evidence"]
        or "numpy" in findings["installed == locked"]["evidence"]
    )


def test_env_check_malformed_lock_is_exit_2(tmp_path):
    (tmp_path / "requirements.txt").write_text("ok==1.0\n!!! nonsense\n")
    done = vatio("env", "check", cwd=tmp_path)
    assert done.returncode == 2 and "line 2" in done.stderr and "Traceback" not in done.stderr


def test_sbom_of_a_run(tmp_path):
    store = tmp_path / "v.db"
    run = json.loads(vatio("run", "--json", "--", sys.executable, "-c", "pass", store=store).stdout)
    out = tmp_path / "sbom.cdx.json"
    done = vatio("env", "sbom", "--run", run["id"], "-o", str(out), store=store)
    assert done.returncode == 0, done.stderr
    bom = json.loads(out.read_text())
    assert bom["bomFormat"] == "CycloneDX"
    props = {p["name"]: p["value"] for p in bom["metadata"]["properties"]}
    assert props["vatio:run_id"] == run["id"]
    names = {c["name"] for c in bom["components"]}
    assert "psutil" in names


def test_runs_diff_and_tag(tmp_path):
    store = tmp_path / "v.db"
    a = json.loads(vatio("run", "--json", "--", sys.executable, "-c", "pass", store=store).stdout)
    b = json.loads(
        vatio(
            "run", "--json", "--zone", "FR", "--", sys.executable, "-c", "pass", store=store
        ).stdout
    )
    done = vatio("runs", "diff", a["id"], b["id"], "--json", store=store)
    diff = json.loads(done.stdout)
    assert diff["profile"]["zone"] == [None, "FR"]
    assert diff["packages"] == {"added": [], "removed": [], "changed": []}
    text = vatio("runs", "diff", a["id"], b["id"], store=store).stdout
    assert "packages: identical" in text and "zone" in text
    assert vatio("runs", "tag", a["id"], "main", store=store).returncode == 0


def test_provenance_finds_the_producing_run(tmp_path):
    store = tmp_path / "v.db"
    model = tmp_path / "model.bin"
    code = f"open({str(model)!r}, 'wb').write(b'weights')"
    run = json.loads(
        vatio(
            "run", "--json", "--artifact", str(model), "--", sys.executable, "-c", code, store=store
        ).stdout
    )
    done = vatio("provenance", str(model), "--json", store=store)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["produced_by"][0]["run_id"] == run["id"]
    other = tmp_path / "other.bin"
    other.write_bytes(b"unknown")
    missing = vatio("provenance", str(other), store=store)
    assert missing.returncode == 2 and "No recorded run produced" in missing.stderr
