"""Deferred execution: waiting, real SIGSTOP/SIGCONT of a child, scheduler commands."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vatio.errors import InputError
from vatio.schedule.runner import SuspendController, emit_command, wait_until
from vatio.schedule.windows import SlotPlan

T0 = datetime(2026, 11, 26, 10, tzinfo=UTC)


def plan(*chunks_h: tuple[float, float]) -> SlotPlan:
    chunks = tuple((T0 + timedelta(hours=a), T0 + timedelta(hours=b)) for a, b in chunks_h)
    return SlotPlan(chunks, 100.0, 120.0, T0, chunks[-1][1], "ES", "test", 3600.0, 3600.0)


def state(pid: int) -> str:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2]


def wait_for_state(pid: int, wanted: str, timeout: float = 3.0) -> str:
    end = time.monotonic() + timeout
    while (current := state(pid)) != wanted and time.monotonic() < end:
        time.sleep(0.01)
    return current


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def at(self, hours: float) -> None:
        self.now = (T0 + timedelta(hours=hours)).timestamp()


@pytest.fixture
def child():
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    yield proc
    proc.kill()
    proc.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_suspend_controller_stops_and_continues_a_real_child(child):
    clock = FakeClock(T0 + timedelta(minutes=30))
    controller = SuspendController(child, plan((0, 1), (2, 3)), clock=clock, poll_s=0.01)
    with controller:
        assert wait_for_state(child.pid, "S") == "S"  # clean slot: running (sleeping)
        clock.at(1.5)
        assert wait_for_state(child.pid, "T") == "T"  # dirty slot: stopped
        assert controller.suspended
        clock.at(2.25)
        assert wait_for_state(child.pid, "S") == "S"
        clock.at(1.75 + 2)  # after the plan: runs to completion
        time.sleep(0.05)
        assert state(child.pid) != "T"
    assert [event for _, event in controller.events] == ["stop", "continue"]
    assert controller.suspended_s == pytest.approx(0.75 * 3600)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_stop_always_continues_the_child(child):
    clock = FakeClock(T0 - timedelta(hours=1))  # before the first chunk: held stopped
    controller = SuspendController(child.pid, plan((0, 1)), clock=clock, poll_s=0.01).start()
    assert wait_for_state(child.pid, "T") == "T"
    controller.stop()
    assert wait_for_state(child.pid, "S") == "S"
    assert not controller.suspended


def test_wait_until_with_fake_clock():
    now = [T0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)

    assert wait_until(T0 + timedelta(seconds=2.5), progress=True, clock=lambda: now[0], sleep=sleep)
    assert slept == [1.0, 1.0, 0.5]
    assert wait_until(T0 - timedelta(hours=1), progress=False, clock=lambda: now[0], sleep=sleep)


def test_wait_until_ctrl_c_aborts_cleanly():
    def interrupted(_: float) -> None:
        raise KeyboardInterrupt

    assert not wait_until(
        T0 + timedelta(hours=1), progress=True, clock=lambda: T0, sleep=interrupted
    )


def test_emit_formats():
    start = datetime(2026, 11, 28, 3, 0, 20, tzinfo=UTC)
    command = ["python", "train.py", "--name", "my run"]
    assert emit_command("at", start, command, tz=UTC) == (
        "echo 'python train.py --name '\"'\"'my run'\"'\"'' | at -t 202611280301"
    )
    assert emit_command("slurm", start, command, tz=UTC) == (
        "sbatch --begin=2026-11-28T03:00:20 --wrap='python train.py --name '\"'\"'my run'\"'\"''"
    )
    cron = emit_command("cron", start, ["date", "+%H"], tz=UTC, cwd="/data/my dir")
    comment, line = cron.splitlines()
    assert comment.startswith("# vatio one-shot for 2026-11-28 03:01 UTC")
    assert line == r"1 3 28 11 * cd '/data/my dir' && date +\%H"


def test_emit_errors():
    with pytest.raises(InputError, match="needs the command"):
        emit_command("at", T0, [])
    with pytest.raises(InputError, match="Unknown scheduler"):
        emit_command("pbs", T0, ["true"])  # type: ignore[arg-type]
