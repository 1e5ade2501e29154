"""A warm task executor: each ClientApp/ServerApp task runs in a fork of a pre-imported host.

Flower's stock executor (`flower-superexec`, subprocess mode) starts a fresh
`flwr-clientapp` process for every message; each start imports flwr and the
app again, about 1.5-3 s of CPU on a small machine. With the SuperNode (or
SuperLink) in `--isolation process` mode, this loop takes the executor's
place: it asks the node's Runtime API for a task exactly as flower-superexec
does (`AcquireTask`), then forks this already-imported process and runs
Flower's own `flwr-clientapp`/`flwr-serverapp` entry point in the child with
the task's token. Every task is still a separate OS process talking to its
node over loopback; only the import is shared (copy-on-write).

This is the one module that uses Flower internals (the Runtime API client);
`available()` says whether the installed Flower has them, and the launcher
falls back to the stock executor when it does not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable

CLIENT_APP = "flwr-clientapp"
SERVER_APP = "flwr-serverapp"


def available() -> bool:
    try:
        from flwr.proto.runtime_pb2 import AcquireTaskRequest  # noqa: F401
        from flwr.supercore.runtime import RuntimeHttpClient  # noqa: F401
    except ImportError:
        return False
    return True


def _entry_point(task_type: str) -> Callable[[], None]:
    if task_type == CLIENT_APP:
        from flwr.supernode.cli import flwr_clientapp

        return flwr_clientapp
    from flwr.superlink.cli import flwr_serverapp

    return flwr_serverapp


def _client(address: str):
    from flwr.supercore.interceptors import RuntimeVersionHttpInterceptor
    from flwr.supercore.retry import make_simple_http_retry_invoker
    from flwr.supercore.runtime import RuntimeHttpClient

    return RuntimeHttpClient.from_server_address(
        server_address=address,
        insecure=True,
        root_certificates=None,
        interceptors=[RuntimeVersionHttpInterceptor(component_name="SuperExec")],
        retry_invoker=make_simple_http_retry_invoker(),
    )


def run_entry_then_exit(
    argv: list[str], entry: Callable[[], None], before: Callable[[], None] | None = None
) -> None:
    """In a forked child: run a Flower console entry point as `argv`, then `_exit` with its code.

    `_exit` because the child shares the parent's atexit handlers and buffers.
    """
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if before is not None:
            before()
        sys.argv = argv
        entry()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_child(task_type: str, address: str, token: str, before: Callable[[], None] | None) -> None:
    """In the forked child: run Flower's own entry point for the task, then exit."""
    argv = [task_type, "--runtime-api-address", address, "--token", token, "--insecure"]
    run_entry_then_exit(argv, lambda: _entry_point(task_type)(), before)


class TaskLoop:
    """Acquire tasks from one node's Runtime API and fork a child for each."""

    def __init__(
        self,
        address: str,
        task_type: str,
        *,
        poll_s: float = 0.05,
        before_child: Callable[[], None] | None = None,
        on_exit: Callable[[int, int], None] | None = None,
    ) -> None:
        self.address = address
        self.task_type = task_type
        self.poll_s = poll_s
        self.before_child = before_child
        self.on_exit = on_exit
        self.children: set[int] = set()
        self.launched = 0
        self._client = None

    def step(self) -> bool:
        """One poll: launch a task if one is waiting; reap finished children. True if launched."""
        from flwr.proto.runtime_pb2 import AcquireTaskRequest

        if self._client is None:
            self._client = _client(self.address)
            # Everything imported so far is shared with the children: keep the garbage
            # collector off it, so that a child's collection neither scans nor copies it.
            import gc

            gc.collect()
            gc.freeze()
        self.reap()
        response = self._client.AcquireTask(
            AcquireTaskRequest(supported_task_types=[self.task_type], agentapp_fab_hashes=[])
        )
        if not (response.HasField("task") and response.token):
            return False
        pid = os.fork()
        if pid == 0:
            run_child(self.task_type, self.address, response.token, self.before_child)
        self.children.add(pid)
        self.launched += 1
        return True

    def reap(self) -> None:
        for pid in list(self.children):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                self.children.discard(pid)
                continue
            if done:
                self.children.discard(pid)
                if self.on_exit is not None:
                    self.on_exit(pid, os.waitstatus_to_exitcode(status))

    def run(self, until: Callable[[], bool]) -> None:
        """Poll until `until()` is true; transient errors of the node are retried."""
        while not until():
            try:
                launched = self.step()
            except Exception:  # the node is starting or going away: try again shortly
                self._client = None
                launched = False
            if not launched:
                time.sleep(self.poll_s)
        self.reap()

    def close(self) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while self.children and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.05)
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
