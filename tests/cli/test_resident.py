"""The resident recorder behind `vatio run`: real recorder and worker processes over a real
Unix socket, the job spawned by the real client; in-process runs alongside to compare."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.cli.helpers import VATIO, env_for, runs_json, vatio
from vatio.cli import resident
from vatio.cli.resident import Channel
from vatio.cli.resident_host import Host, _stamp_of

PY = sys.executable


@pytest.fixture
def recorder(tmp_path_factory, monkeypatch):
    """A recorder of this test's own (its own socket folder), started and answering."""
    folder = tmp_path_factory.mktemp("rec")
    folder.chmod(0o700)
    monkeypatch.setenv("VATIO_RESIDENT_DIR", str(folder))
    monkeypatch.delenv("VATIO_RESIDENT", raising=False)
    started = vatio("recorder", "start", "--json")
    assert started.returncode == 0, started.stderr
    status = json.loads(started.stdout)
    assert status["running"] is True
    yield status
    vatio("recorder", "stop")


def served() -> int:
    answer = resident.ask("status")
    assert answer is not None, "the recorder stopped"
    return answer["served"]


def test_a_run_through_the_recorder_is_the_same_record_as_one_in_process(tmp_path, recorder):
    store = tmp_path / "runs.db"
    job = ["--json", "--name", "twin", "--", PY, "-c", "print('out'); import sys; sys.exit(3)"]
    before = served()
    through = vatio("run", *job, store=store)
    assert served() == before + 1
    in_process = _in_process("run", *job, store=store)
    assert served() == before + 1
    for done in (through, in_process):
        assert done.returncode == 3, done.stderr
        assert done.stdout.startswith("out\n")
    a, b = (json.loads(d.stdout[len("out\n") :]) for d in (through, in_process))
    assert sorted(a) == sorted(b)
    for key in ("name", "command", "status", "exit_code", "error", "schema_version"):
        assert a[key] == b[key], key
    assert a["status"] == "failed" and a["error"] == "exited with code 3"
    assert a["manifest"]["python"] == b["manifest"]["python"]
    assert a["profile"] == b["profile"]
    assert {r["id"] for r in runs_json(store)} == {a["id"], b["id"]}
    verified = vatio("ledger", "verify", store=store)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_worker_refuses_a_bad_option_in_the_same_words(tmp_path, recorder):
    store = tmp_path / "runs.db"
    args = ["run", "--pue", "abc", "--", "true"]
    before = served()
    through = vatio(*args, store=store)
    assert served() == before + 1
    in_process = _in_process(*args, store=store)
    assert through.returncode == in_process.returncode == 2
    assert through.stderr == in_process.stderr
    assert "Traceback" not in through.stderr
    assert not store.exists()  # refused before anything ran
    helped = vatio("run", "--help")
    assert helped.returncode == 0 and "usage: vatio run" in helped.stdout


def test_signals_and_a_missing_command_through_the_recorder(tmp_path, recorder):
    store = tmp_path / "runs.db"
    killed = vatio("run", "--json", "--", "sh", "-c", "kill -TERM $$", store=store)
    assert killed.returncode == 128 + signal.SIGTERM
    assert json.loads(killed.stdout)["status"] == "killed"
    missing = vatio("run", "--", "no-such-command-here", store=store)
    assert missing.returncode == 127
    assert "command not found: no-such-command-here" in missing.stderr
    sleeper = [PY, "-c", "import time; time.sleep(30)"]
    proc = subprocess.Popen([*VATIO, "run", "--json", "--", *sleeper], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env_for(store))  # fmt: skip
    _wait_for_child(proc.pid, PY)
    proc.send_signal(signal.SIGINT)  # forwarded by the client, the job's parent
    out, err = proc.communicate(timeout=30)
    assert json.loads(out)["status"] == "interrupted", err
    assert {r["status"] for r in runs_json(store)} == {"killed", "failed", "interrupted"}


def test_a_client_killed_during_the_job_still_leaves_a_record(tmp_path, recorder):
    store = tmp_path / "runs.db"
    proc = subprocess.Popen([*VATIO, "run", "--", "sleep", "30"], env=env_for(store),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    job = _wait_for_child(proc.pid, "sleep")
    proc.kill()
    proc.wait()
    try:
        record = _wait_for_record(store)
    finally:
        job.kill()
    assert record["status"] == "killed"
    assert "vatio run was stopped before its job ended" in record["error"]


def test_a_recorder_lost_during_the_job_hands_the_run_back_to_the_client(tmp_path, recorder):
    store = tmp_path / "runs.db"
    go = tmp_path / "go"
    job = f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.02)"
    proc = subprocess.Popen([*VATIO, "run", "--json", "--", PY, "-c", job], env=env_for(store),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    _wait_for_child(proc.pid, PY)
    workers = psutil.Process(recorder["pid"]).children()
    assert workers, "no worker serves the run"
    for worker in workers:
        worker.kill()
    go.write_text("")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "the resident recorder stopped during the run; recording it here" in err
    record = json.loads(out)
    assert record["status"] == "completed"
    runs = {r["id"]: r["status"] for r in runs_json(store)}
    assert runs.pop(record["id"]) == "completed"
    assert set(runs.values()) <= {"abandoned"}  # the lost worker's row, if it had begun one


def test_each_run_takes_its_own_environment_and_folder(tmp_path, recorder):
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "vatio.toml").write_text(f'name = "from-{name}"\n')
        before = served()
        done = vatio("run", "--json", "--", "true", cwd=folder, store=folder / "runs.db")
        assert served() == before + 1
        assert done.returncode == 0, done.stderr
        record = json.loads(done.stdout)
        assert record["name"] == f"from-{name}"
        assert [r["id"] for r in runs_json(folder / "runs.db")] == [record["id"]]


def test_a_run_that_plans_is_handed_back_to_the_client(tmp_path, recorder):
    store = tmp_path / "runs.db"
    before = served()
    done = vatio("run", "--json", "--idle-baseline", "0.2s", "--", "true", store=store)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["idle"]
    assert served() == before + 1  # asked, and declined before any job was spawned
    assert len(runs_json(store)) == 1


def test_no_recorder_records_in_process_and_starts_one(tmp_path, monkeypatch):
    folder = tmp_path / "rec"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("VATIO_RESIDENT_DIR", str(folder))
    assert resident.ask("status") is None
    done = vatio("run", "--", "true", store=tmp_path / "runs.db")
    assert done.returncode == 0, done.stderr
    try:
        deadline = time.monotonic() + 30
        while resident.ask("status") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert resident.ask("status") is not None
    finally:
        vatio("recorder", "stop")
    off = vatio("recorder", "status", "--json")
    assert json.loads(off.stdout)["running"] is False


def test_an_idle_recorder_leaves(tmp_path, monkeypatch):
    folder = tmp_path / "rec"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("VATIO_RESIDENT_DIR", str(folder))
    monkeypatch.setenv("VATIO_RESIDENT_IDLE", "1")
    assert vatio("recorder", "start").returncode == 0
    deadline = time.monotonic() + 20
    while resident.ask("status") is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert resident.ask("status") is None
    assert not list(folder.glob("*.sock"))


def test_resident_off_and_unsafe_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("VATIO_RESIDENT", "0")
    assert resident.run_resident(["--", "true"]) is None
    assert json.loads(vatio("recorder", "status", "--json").stdout)["running"] is False
    monkeypatch.delenv("VATIO_RESIDENT")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "private")
    (tmp_path / "private").mkdir(mode=0o700)
    a_file = tmp_path / "file"
    a_file.write_text("")
    for unsafe in (shared, link, a_file, tmp_path / "no" / "such" / "parent"):
        monkeypatch.setenv("VATIO_RESIDENT_DIR", str(unsafe))
        assert resident.socket_folder() is None, unsafe
        assert resident.run_resident(["--", "true"]) is None
    monkeypatch.setenv("VATIO_RESIDENT_DIR", str(tmp_path / ("x" * 120)))
    assert resident.socket_path() is None  # longer than a Unix socket path can be


def test_channel_frames_split_and_joined_messages():
    left, right = socket.socketpair()
    sender, receiver = Channel(left), Channel(right)
    sender.send({"pid": 1})
    sender.send({"outcome": {"exit_code": 0}, "cpu_s": 0.5})  # both in one read
    assert receiver.receive()[0] == {"pid": 1}
    assert receiver.receive()[0] == {"outcome": {"exit_code": 0}, "cpu_s": 0.5}
    big = {"env": {str(i): "v" * 100 for i in range(2000)}}  # larger than one read
    read, write = os.pipe()
    try:
        sender.send(big, fds=(write,))
        message, fds = receiver.receive(max_fds=2)
        assert message == big and len(fds) == 1
        os.write(fds[0], b"!")
        assert os.read(read, 1) == b"!"
        os.close(fds[0])
    finally:
        os.close(read)
        os.close(write)
    left.sendall((5).to_bytes(4, "big") + b"\x00junk")
    with pytest.raises(ValueError):
        receiver.receive()
    left.sendall((1 << 30).to_bytes(4, "big"))
    with pytest.raises(ValueError):
        receiver.receive()
    left.close()
    with pytest.raises(EOFError):
        Channel(right).receive()
    right.close()


def test_the_recorder_sees_its_code_change(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("")
    host = Host(str(tmp_path / "r.sock"), 60)
    host.stamps = {str(module): _stamp_of(str(module))}
    assert not host.stale()
    mtime = module.stat().st_mtime_ns
    module.write_text("changed = True\n")
    os.utime(module, ns=(0, mtime))  # a copy that keeps the mtime (cp -p, rsync -a)
    assert host.stale()
    module.unlink()
    assert host.stale()


def _in_process(*args: str, store: Path) -> subprocess.CompletedProcess:
    env = env_for(store) | {"VATIO_RESIDENT": "0"}
    return subprocess.run([*VATIO, *args], capture_output=True, text=True, env=env, timeout=60)


def _wait_for_child(pid: int, name: str, timeout: float = 30) -> psutil.Process:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(pid).children(recursive=True):
            try:
                if name in " ".join(child.cmdline()):
                    return child
            except psutil.Error:
                continue
        time.sleep(0.02)
    raise AssertionError(f"no {name} child of {pid}")


def _wait_for_record(store: Path, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.exists():
            runs = [r for r in runs_json(store) if r["status"] != "running"]
            if runs:
                return json.loads(vatio("runs", "show", runs[0]["id"], "--json",
                                        store=store).stdout)  # fmt: skip
        time.sleep(0.1)
    raise AssertionError("the run was not recorded")


def test_the_reading_commands_answer_as_in_process(tmp_path, recorder):
    from vatio.cli.lean import LEAN_COMMANDS

    assert set(resident.SERVED) <= set(LEAN_COMMANDS)
    store = tmp_path / "runs.db"
    run_id = json.loads(vatio("run", "--json", "--", "true", store=store).stdout)["id"]
    for args in (["runs", "list"], ["runs", "list", "--json"], ["runs", "show", run_id],
                 ["runs", "show", "nosuchid"], ["schedule", "--zone", "ES", "--duration", "2h",
                 "--earliest", "2023-06-01 00:00", "--within", "24h", "--json"],
                 ["schedule", "--duration", "-1h"]):  # fmt: skip
        before = served()
        through = vatio(*args, store=store)
        assert served() == before + 1, args
        in_process = _in_process(*args, store=store)
        assert (through.returncode, through.stdout, through.stderr) == (
            in_process.returncode, in_process.stdout, in_process.stderr), args  # fmt: skip


def test_a_stopped_recorder_is_not_waited_for(tmp_path, recorder):
    store = tmp_path / "runs.db"
    host = psutil.Process(recorder["pid"])
    host.suspend()
    try:
        began = time.monotonic()
        done = vatio("run", "--json", "--", "true", store=store)
        waited = time.monotonic() - began
    finally:
        host.resume()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "completed"
    assert waited >= resident.ANSWER_S  # it gave the recorder its time, then did the work
    assert len(runs_json(store)) == 1
    assert resident.ask("status") is not None  # and the recorder, resumed, serves again


def test_a_recorder_that_failed_to_start_is_not_restarted_at_once(tmp_path, monkeypatch):
    folder = tmp_path / "rec"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("VATIO_RESIDENT_DIR", str(folder))
    path = resident.socket_path()
    assert resident.run_resident(["run", "--", "true"]) is None
    assert resident.host_wanted == path
    Path(path + ".failed").write_text("OSError()\n")
    assert resident.run_resident(["run", "--", "true"]) is None
    assert resident.host_wanted is None
    resident.host_wanted = None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(None, 600.0), ("", 600.0), ("abc", 600.0), ("nan", 600.0), ("-5", 600.0), ("0", 600.0),
     ("0.2", 1.0), ("30", 30.0), ("1e309", 604800.0), ("inf", 604800.0)],
)  # fmt: skip
def test_hostile_idle_settings(text, seconds):
    from vatio.cli.resident_host import idle_seconds

    assert idle_seconds(text) == seconds
