"""The recording path: extensions, callbacks, redaction, the unsaved fallback chain, import."""

from __future__ import annotations

import json
import os

import pytest

from tests.measure.fakes import ConstantPowerSensor
from tests.report.inprocess import run_main
from vatio.api import Tracker, track
from vatio.errors import InputError
from vatio.record.tracker import RecordingTracker


def test_extensions_and_callbacks_are_the_public_way_to_add_to_a_record(tmp_path):
    tracker = RecordingTracker(zone="FR", store=str(tmp_path / "v.db"),
                               sensors=[ConstantPowerSensor()])  # fmt: skip
    tracker.set_extension("power", {"limit_w": 150, "nan": float("nan")})

    @tracker.on_finish
    def late(result):
        tracker.set_extension("training", {"flops": 3e12, "energy_seen": result.energy_j})

    with tracker:
        pass
    record = tracker.recorder.open_store().get(tracker.result.id)
    assert record["extensions"]["power"] == {"limit_w": 150, "nan": None}
    assert record["extensions"]["training"]["flops"] == 3e12
    assert record["carbon"]["zone"] == "FR"
    with pytest.raises(ValueError, match="extension name"):
        tracker.set_extension("Bad Name", {})


def test_secrets_never_reach_the_result_or_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("VATIO_STORE", "postgresql://me:STORE-PW@127.0.0.1:1/db")
    tracker = Tracker(
        "job --password hunter2", command=["x", "--secret", "S3", "DB_PASSWORD=P4"],
        store=str(tmp_path / "v.db"), sensors=[ConstantPowerSensor()],
    )  # fmt: skip
    with tracker:
        pass
    text = json.dumps(tracker.result.to_dict())
    for secret in ("hunter2", "S3", "P4", "STORE-PW"):
        assert secret not in text
    assert tracker.result.command == ["x", "--secret", "***", "DB_PASSWORD=***"]


def test_python_api_speaks_python(tmp_path):
    @track
    def bare():
        return 41

    assert bare() == 41 and bare.last_result.status == "completed"
    with pytest.raises(TypeError, match="Did you mean interval="):
        track(intervall="1s")
    tracker = track(interval="250ms", zone="es", pue=1.2, store=False)
    assert tracker.interval_s == 0.25 and tracker.profile.pue == 1.2
    from vatio.errors import UnknownZoneError

    with pytest.raises(UnknownZoneError, match=r"keyword zone= of vatio\.track"):
        track(zone="Atlantis")
    with track(store=False, sensors=[ConstantPowerSensor()]) as t:
        pass
    assert repr(t.result).startswith("RunResult(id=") and len(repr(t.result)) < 200


def test_no_run_lost_when_store_and_working_folder_are_unwritable(tmp_path, monkeypatch, capsys):
    """Store unwritable -> ./.vatio/unsaved; that unwritable too -> the user's state folder.

    "Unwritable" is made with a file where a folder should be, which stops root too.
    """
    (tmp_path / "work").write_text("a file, not a folder")
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    tracker = Tracker(store=f"sqlite:///{blocker}/v.db", sensors=[ConstantPowerSensor()],
                      cwd=tmp_path / "work" / "deeper")  # fmt: skip
    with tracker:
        pass
    assert tracker.store_error and tracker.unsaved_path is not None
    state = os.environ["XDG_STATE_HOME"]
    assert str(tracker.unsaved_path).startswith(state)
    saved = json.loads(tracker.unsaved_path.read_text())["records"][0]["record"]
    assert saved["id"] == tracker.result.id
    # then the state folder is unwritable too: one JSON line on stderr
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker / "state"))
    tracker = Tracker(store=f"sqlite:///{blocker}/v.db", sensors=[ConstantPowerSensor()],
                      cwd=tmp_path / "work" / "deeper")  # fmt: skip
    with tracker:
        pass
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("vatio: unsaved run record: "))
    assert json.loads(line.split(": ", 2)[2])["records"][0]["record"]["id"] == tracker.result.id


def test_runs_import_brings_unsaved_runs_back_signed(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    tracker = Tracker(store=f"sqlite:///{blocker}/v.db", sensors=[ConstantPowerSensor()])
    with tracker:
        pass
    saved = tracker.unsaved_path
    store = tmp_path / "v.db"
    done = run_main(capsys, monkeypatch, "runs", "import", str(saved), store=store)
    assert done.returncode == 0 and "imported 1 run" in done.stdout and not saved.exists()
    verify = run_main(capsys, monkeypatch, "ledger", "verify", tracker.result.id, store=store)
    assert verify.returncode == 0, verify.stdout
    again = tmp_path / "again.json"
    again.write_text("{not json")
    bad = run_main(capsys, monkeypatch, "runs", "import", str(again), str(tmp_path / "nope.json"),
                   store=store)  # fmt: skip
    assert bad.returncode == 1 and "not valid JSON" in bad.stderr and "does not exist" in bad.stderr


def test_bad_add_work_does_not_lose_the_run(tmp_path):
    tracker = Tracker(store=str(tmp_path / "v.db"), sensors=[ConstantPowerSensor()])
    with tracker:
        with pytest.raises(InputError):
            tracker.add_work(samples=float("nan"))
        tracker.add_work(samples=3)
    stored = tracker.recorder.open_store().get(tracker.result.id)
    assert stored["status"] == "completed" and stored["work"] == {"samples": 3.0}
