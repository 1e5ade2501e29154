from pathlib import Path

import pytest

from vatio.provenance.drift import compute_drift
from vatio.provenance.envcheck import check_lock
from vatio.provenance.lockparse import LockfileError, parse_lockfile, parse_requirements

SAMPLES = Path(__file__).parent / "samples"
CERTIFI_WHEEL = "sha256:dc383c07b76109f368f6106eee2b593b04a011ea4d55f652c6ca24a754d1cdd1"


@pytest.mark.parametrize("name", ["requirements.txt", "poetry.lock", "Pipfile.lock", "uv.lock"])
def test_every_format_yields_certifi_with_hashes(name):
    lock = parse_lockfile(SAMPLES / name)
    certifi = lock.by_name()["certifi"]
    assert certifi.version == "2024.2.2" and certifi.exact
    assert CERTIFI_WHEEL in certifi.hashes


def test_requirements_details():
    lock = parse_lockfile(SAMPLES / "requirements.txt")
    numpy = lock.by_name()["numpy"]
    assert numpy.marker == 'python_version >= "3.9"' and numpy.line == 13
    assert len(lock.by_name()["certifi"].hashes) == 2


def test_poetry_names_are_normalised_and_uv_editable_is_marked():
    assert "numpy" in parse_lockfile(SAMPLES / "poetry.lock").by_name()
    project = parse_lockfile(SAMPLES / "uv.lock").by_name()["myproject"]
    assert project.source == "editable"


def test_pipfile_loose_pin_is_reported():
    lock = parse_lockfile(SAMPLES / "Pipfile.lock")
    findings = check_lock(lock, {"certifi": "2024.2.2", "requests": "2.31.0"})
    loose = next(f for f in findings if f.item == "every pin exact")
    assert loose.status == "FAIL" and "pytest" in loose.evidence


def test_malformed_requirement_names_the_line():
    text = "certifi==2024.2.2\nthis is not a requirement ===\n"
    with pytest.raises(LockfileError, match="line 2"):
        parse_requirements(text, "req.txt")


def test_malformed_toml_and_json(tmp_path):
    (tmp_path / "poetry.lock").write_text("[[package]\nname=")
    with pytest.raises(LockfileError, match="not valid TOML"):
        parse_lockfile(tmp_path / "poetry.lock")
    (tmp_path / "Pipfile.lock").write_text('{\n "default": {\n')
    with pytest.raises(LockfileError, match="line"):
        parse_lockfile(tmp_path / "Pipfile.lock")


def test_drift_lists_changed_missing_and_unlocked():
    lock = parse_lockfile(SAMPLES / "requirements.txt")
    drift = compute_drift(
        lock, {"certifi": "2024.7.4", "requests": "2.31.0", "rich": "13.0", "pip": "24"}
    )
    assert drift.changed == [("certifi", "2024.2.2", "2024.7.4")]
    assert drift.missing == [("numpy", "1.26.4")]
    assert drift.unlocked == [("rich", "13.0")]
    findings = check_lock(lock, {"certifi": "2024.2.2", "numpy": "1.26.4", "requests": "2.31.0"})
    assert all(f.status == "PASS" for f in findings)
