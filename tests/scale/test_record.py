"""The study's own record: no energy of its own, and a study id is used once."""

from __future__ import annotations

import pytest

from vatio.config import Profile
from vatio.errors import InputError
from vatio.scale.record import StudyRecord
from vatio.scale.study import StudySpec
from vatio.store.runstore import open_store


def test_study_record_and_reused_ids(tmp_path):
    store = str(tmp_path / "v.db")
    profile = Profile(store=store)
    spec = StudySpec(mode="workers", configs=[], name="exp", command=["vatio", "scale"])
    record = StudyRecord("exp1", spec, profile, tmp_path)
    assert open_store(store).get("exp1")["status"] == "running"
    record.finish({"configs": [{"status": "completed"}], "advice": {}}, None)
    saved = open_store(store).get("exp1")
    assert saved["status"] == "completed"
    assert saved["summary"]["kind"] == "scale-study"
    assert saved["summary"]["energy_j"] is None  # the configurations' runs hold the energy
    assert saved["extensions"]["scale_study"]["advice"] == {}
    with pytest.raises(InputError, match="already in the store"):
        StudyRecord("exp1", spec, profile, tmp_path)
