"""`vatio.power.step()`: the training loop marks its steps so a sweep profiles inside one run.

Outside `vatio power sweep` a call costs one attribute check, so it can stay in
production code. Under a sweep (VATIO_POWER_SOCKET is set) the job connects to
vatio once; vatio then says how many steps to run before the next boundary and
the thread count to use. At a boundary the job waits (after
torch.cuda.synchronize(), so queued GPU work belongs to the right window) while
vatio closes the measurement window and changes the setting: Zeus-style
profiling, a few steps per setting, then the rest of the run at the chosen one.
Standard library only; any failure of the link turns profiling off, never the job.
Only rank 0 (RANK unset or "0") talks to vatio; other ranks follow through the
job's own collectives.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import sys
from typing import Any

ENV_SOCKET = "VATIO_POWER_SOCKET"


class _Link:
    """The job's end of the control socket."""

    def __init__(self, path: str) -> None:
        self.steps = 0
        self.samples = 0.0
        self.left: int | None = None  # steps to the next boundary; None: only count
        self.dead = False
        self.threads = _Threads()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.reader = self.sock.makefile("r", encoding="utf-8")
        self._follow(self._ask({"hello": os.getpid()}))
        atexit.register(self.close)

    def _ask(self, message: dict[str, Any]) -> dict[str, Any]:
        self.sock.sendall((json.dumps(message) + "\n").encode())
        line = self.reader.readline()
        if not line:
            raise ConnectionError("vatio closed the power-sweep link")
        return json.loads(line)

    def _follow(self, reply: dict[str, Any]) -> None:
        if "threads" in reply:  # a number, or None: the job's own default again
            self.threads.set(reply["threads"])
        self.left = reply.get("next")

    def step(self, samples: float) -> None:
        self.steps += 1
        self.samples += samples
        if self.left is None:
            return
        self.left -= 1
        if self.left > 0:
            return
        _synchronize()
        self._follow(self._ask({"boundary": self.steps, "samples": self.samples}))

    def pause(self) -> None:
        """The time since the last step was no step (evaluation, checkpoint): redo the window."""
        if self.left is not None:
            _synchronize()
            self._follow(self._ask({"cancel": self.steps, "samples": self.samples}))

    def close(self) -> None:
        if self.dead:
            return
        self.dead = True
        try:
            message = {"exit": self.steps, "samples": self.samples}
            self.sock.sendall((json.dumps(message) + "\n").encode())
            self.sock.close()
        except OSError:
            pass


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class _Threads:
    """Sets the job's intra-op threads, and puts back its own count for the default setting."""

    def __init__(self) -> None:
        self.original: tuple[int | None, dict[str, str | None]] | None = None

    def set(self, threads: int | None) -> None:
        torch = sys.modules.get("torch")
        if self.original is None:
            if threads is None:
                return  # nothing changed yet
            count = _torch_threads(torch)
            self.original = (count, {n: os.environ.get(n) for n in THREAD_VARIABLES})
        if threads is None:
            count, env = self.original
            for name, value in env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            if count is not None:
                _torch_set(torch, count)
            return
        for name in THREAD_VARIABLES:
            os.environ[name] = str(threads)  # for pools created from now on
        _torch_set(torch, int(threads))


def _torch_threads(torch: Any) -> int | None:
    try:
        return int(torch.get_num_threads()) if torch is not None else None
    except Exception:
        return None


def _torch_set(torch: Any, threads: int) -> None:
    if torch is None:
        return
    try:
        torch.set_num_threads(threads)
    except Exception as error:  # a torch without that call: say so, go on
        sys.stderr.write(f"vatio.power: could not set {threads} threads: {error}\n")


def _synchronize() -> None:
    torch = sys.modules.get("torch")
    if torch is None:
        return
    try:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()
    except Exception:  # a broken CUDA context: the window is only a little off
        return


class _State:
    link: _Link | None = None
    checked = False


_state = _State()


def _current() -> _Link | None:
    if _state.checked:
        return _state.link
    _state.checked = True
    path = os.environ.get(ENV_SOCKET)
    if not path or os.environ.get("RANK", "0") != "0":
        return None
    try:
        _state.link = _Link(path)
    except (OSError, ValueError, ConnectionError) as error:
        sys.stderr.write(f"vatio.power: no link to the sweep ({error}); profiling off\n")
        _state.link = None
    return _state.link


def _guarded(action: str, *args: Any) -> None:
    link = _state.link if _state.checked else _current()
    if link is None or link.dead:
        return
    try:
        getattr(link, action)(*args)
    except (OSError, ValueError, ConnectionError) as error:
        link.dead = True
        sys.stderr.write(f"vatio.power: link to the sweep lost ({error}); profiling off\n")


def step(samples: float = 0) -> None:
    """Mark the end of one training step (and the samples it processed)."""
    if _state.checked and _state.link is None:
        return
    _guarded("step", float(samples))


def pause() -> None:
    """Call after work that is not a training step (evaluation): the open window is redone."""
    if _state.checked and _state.link is None:
        return
    _guarded("pause")


def reset() -> None:
    """Forget the link (tests change the environment between cases)."""
    if _state.link is not None:
        atexit.unregister(_state.link.close)
    _state.link = None
    _state.checked = False
