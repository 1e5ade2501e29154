import json

import pytest
import sqlalchemy as sa

from tests.measure.fakes import ConstantPowerSensor
from vatio.api import Tracker
from vatio.canonical import sha256_hex
from vatio.errors import StoreError, UnknownRunError
from vatio.store.runstore import RunStore, open_store
from vatio.store.schema import meta


def _run(tmp_path, **kwargs):
    tracker = Tracker(
        zone="FR", store=str(tmp_path / "v.db"), sensors=[ConstantPowerSensor()], **kwargs
    )
    with tracker:
        pass
    return tracker


def test_record_round_trip_and_digest(tmp_path):
    tracker = _run(tmp_path, name="round-trip")
    store = open_store(str(tmp_path / "v.db"))
    record = store.get(tracker.result.id[:5])
    assert record["name"] == "round-trip" and record["status"] == "completed"
    stored_digest = record.pop("digest")
    body = {k: v for k, v in record.items() if k not in ("summary",)}
    body["status"] = "completed"
    assert stored_digest == sha256_hex(
        json.loads(json.dumps(tracker.result.to_dict(), default=str))
    )
    assert body["carbon"]["zone"] == "FR"


def test_unknown_and_ambiguous_ids(tmp_path):
    _run(tmp_path)
    store = open_store(str(tmp_path / "v.db"))
    with pytest.raises(UnknownRunError, match="No run with id"):
        store.get("zzzz")


def test_other_schema_version_is_refused(tmp_path):
    _run(tmp_path)
    url = f"sqlite:///{tmp_path / 'v.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(meta.update().values(value="99"))
    with pytest.raises(StoreError, match="schema version 99"):
        RunStore(url)


def test_unwritable_store_saves_the_run_as_json(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    tracker = Tracker(
        zone="ES", store="sqlite:///" + str(blocker / "v.db"), sensors=[ConstantPowerSensor()]
    )
    with tracker:
        pass
    assert tracker.unsaved_path is not None and tracker.unsaved_path.exists()
    saved = json.loads(tracker.unsaved_path.read_text())
    assert saved["records"][0]["record"]["id"] == tracker.result.id and tracker.store_error


def test_no_zone_means_no_carbon_not_zero(tmp_path):
    tracker = Tracker(store=False, sensors=[ConstantPowerSensor()])
    with tracker:
        pass
    assert tracker.result.carbon is None and tracker.result.co2e_g is None
