"""A worker of the resident recorder: one command for one client, in a fork of the recorder.

It takes the client's streams, environment, working folder and umask, then runs the
same code the client would (vatio.cli.lean's commands; for `vatio run`, vatio.cli.fastrun
with a RemoteLauncher: the client spawns and supervises the job, the worker records it).
Nothing is read from the recorder's own start-up state but imported code.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import time
from typing import Any

from vatio.cli.resident import Channel
from vatio.cli.resident_host import LEARNABLE
from vatio.process import Outcome


class ClientGone(Exception):
    """The client left before its job was spawned: nothing to record, nothing to say."""


class Spawned:
    """The job the client spawned: what the tracker needs of it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid


def _outcome(fields: Any) -> Outcome:
    """An Outcome from the client's report, its types checked (a client is the same user,
    but a broken one must not break the record)."""
    if not isinstance(fields, dict):
        raise ValueError("not an outcome")
    exit_code = fields.get("exit_code")
    status = fields.get("status")
    error = fields.get("error")
    signals = fields.get("signals_received") or []
    cpu_s = fields.get("cpu_s")
    if not isinstance(exit_code, int) or status not in (
        "completed", "failed", "interrupted", "killed"
    ):  # fmt: skip
        raise ValueError("not an outcome")
    return Outcome(
        exit_code,
        status,
        error if isinstance(error, str) else None,
        [s for s in signals if isinstance(s, int)],
        float(cpu_s) if isinstance(cpu_s, (int, float)) and cpu_s >= 0 else None,
    )


class RemoteLauncher:
    """The job is the client's child: the client spawns it and says how it ended."""

    plans = False

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.client_cpu_s = 0.0

    def start(self, command: list[str], kill_after_s: float | None) -> tuple[Any, Any]:
        from vatio.measure.origin import take_origin

        origin = take_origin()
        try:
            self.channel.send({"spawn": command, "kill_after_s": kill_after_s,
                               "origin": list(origin)})  # fmt: skip
            reply, _ = self.channel.receive()
        except (OSError, ValueError, EOFError) as error:
            raise ClientGone from error
        pid = reply.get("pid")
        if isinstance(pid, int) and pid > 0:
            return origin, Spawned(pid)
        return origin, _outcome(reply.get("failed"))

    def not_started(self) -> None:
        return None

    def wait(self, command: list[str], started: Any, kill_after_s: float | None) -> Outcome:
        try:
            reply, _ = self.channel.receive()
            outcome = _outcome(reply.get("outcome"))
        except (OSError, ValueError, EOFError):
            return Outcome(
                128 + signal.SIGKILL,
                "killed",
                "vatio run was stopped before its job ended (the job may still run); "
                "measured until then",
            )
        spent = reply.get("cpu_s")
        self.client_cpu_s = float(spent) if isinstance(spent, (int, float)) and spent > 0 else 0.0
        return outcome


class Worker:
    """One run for one client, in a fork of the recorder."""

    def __init__(self, channel: Channel, message: dict[str, Any], learned: str) -> None:
        self.channel = channel
        self.message = message
        self.fds: list[int] = []
        self.learned = learned

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        before = set(sys.modules)
        message = self.message
        try:
            self.channel.send({"accepted": True})
            _, self.fds = self.channel.receive(max_fds=3)
            if len(self.fds) != 3:
                raise ValueError("no streams")
            self._adopt(message)
        except EOFError:
            return 0  # the client gave up waiting, or left
        except (OSError, ValueError, TypeError, KeyError):
            with contextlib.suppress(OSError):
                self.channel.send({"fallback": "cannot take the client's place"})
            return 0
        from vatio.cli.child import NeedsOwnProcess
        from vatio.cli.entry import guarded
        from vatio.cli.fastrun import main_run
        from vatio.cli.lean import lean_command

        argv = [str(a) for a in message["argv"]]
        found = lean_command(argv)
        if found is None:
            self.channel.send({"fallback": "not a command the recorder serves"})
            return 0
        command, arguments = found
        launcher = RemoteLauncher(self.channel)
        declined: list[str] = []

        def body() -> int:
            if argv[:1] != ["run"]:
                return command(arguments)
            try:
                return main_run(arguments, launcher=launcher)
            except NeedsOwnProcess as reason:
                declined.append(str(reason))
                return 0
            except ClientGone:
                declined.append("")  # no one to answer
                return 0

        code = guarded(body)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        with contextlib.suppress(OSError):
            self.channel.send({"fallback": declined[0]} if declined else {"exit": code})
        self._teach(set(sys.modules) - before)
        return 0

    def _adopt(self, message: dict[str, Any]) -> None:
        """Become the client: its streams, environment, folder and umask."""
        for target, fd in zip((0, 1, 2), self.fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        self.fds = []
        env = message["env"]
        if not isinstance(env, dict):
            raise ValueError("environment")
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        time.tzset()
        os.chdir(str(message["cwd"]))
        os.umask(int(message["umask"]))
        streams = message.get("streams") or {}
        sys.stdout = _text_stream(1, streams.get("stdout"))
        sys.stderr = _text_stream(2, streams.get("stderr"))
        sys.argv = ["vatio", *map(str, message["argv"])]

    def _teach(self, imported: set[str]) -> None:
        names = [n for n in imported if n.split(".")[0] in LEARNABLE]
        if names:
            with contextlib.suppress(OSError), open(self.learned, "a") as handle:
                handle.write("".join(f"{n}\n" for n in names))


def _text_stream(fd: int, spec: Any) -> io.TextIOWrapper:
    encoding, errors = spec if isinstance(spec, list) and len(spec) == 2 else (None, None)
    return io.TextIOWrapper(
        open(fd, "wb", closefd=False),
        encoding=encoding if isinstance(encoding, str) else "utf-8",
        errors=errors if isinstance(errors, str) else "strict",
        line_buffering=os.isatty(fd),
        write_through=True,
    )
