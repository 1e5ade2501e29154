"""The server and client host processes of a run, each its own process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from vatio.federated.plan import RunPlan


class Hosts:
    """The server and client host processes, each a process group of its own."""

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: list[Any] = []

    def start(self, key: str, args: list[str]) -> subprocess.Popen:
        from vatio.federated.flower.env import process_env

        logs = Path(self.plan.folder) / "logs"
        logs.mkdir(exist_ok=True)
        log = open(logs / f"host-{key}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        home = Path(self.plan.folder) / "flwr" / key
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vatio.federated.flower.host",
                *args,
                "--plan",
                str(self.plan.path),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=process_env(home),
            start_new_session=True,
        )
        self.procs[key] = proc
        return proc

    def stop(self, keys: list[str], grace_s: float = 10.0) -> None:
        """SIGTERM the hosts' process groups together, SIGKILL what is left after `grace_s`."""
        procs = [self.procs[k] for k in keys if k in self.procs]
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(deadline - time.monotonic(), 0.0))
        for proc in procs:  # whatever a host forked and left behind, and hosts that hang
            _signal_group(proc, signal.SIGKILL)
            proc.wait()

    def close(self) -> None:
        self.stop(list(self.procs), grace_s=3.0)
        for log in self._logs:
            log.close()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
