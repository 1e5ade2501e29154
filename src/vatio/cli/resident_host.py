"""The resident recorder: keeps `vatio run`'s modules imported and forks a worker per run.

One per user and installation (its socket is named by the interpreter and vatio's
folder, see vatio.cli.resident). It starts detached after a `vatio run` that found
none, answers only its own user (SO_PEERCRED), and exits when idle for
`VATIO_RESIDENT_IDLE` seconds (600), when its socket is removed or replaced, or
when vatio's code changed under it (a module file it loaded has a new mtime, ctime or size, or a
package was installed or removed): a worker must never run other code than the
client would.

A worker is a fork (vatio.cli.resident_worker) that takes the client's place and runs
the command. Modules a worker had to import are imported by the recorder afterwards, so
the next run does not pay for them.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import os
import select
import signal
import socket
import sys
import time
from typing import Any

from vatio.cli.resident import PROTOCOL, Channel, identity, peer_uid

IDLE_S = 600.0
#: what every plain `vatio run` loads; the rest is learned from the workers
PRELOAD = (
    "vatio.cli.resident_worker",
    "vatio.cli.entry",
    "vatio.cli.fastrun",
    "vatio.cli.runs_read",
    "vatio.cli.schedule",
    "vatio.store.sqlite_reader",
    "vatio.cli.child",
    "vatio.cli.launchers",
    "vatio.cli.output",
    "vatio.cli.summary",
    "vatio.profile_cache",
    "vatio.store.location",
    "vatio.store.sqlite_writer",
    "vatio.measure.origin",
    "vatio.measure.sampler",
    "vatio.record.tracker",
    "vatio.record.signing",
    "vatio.provenance.manifest",
    "vatio.devices.nvidia",
    "vatio.ledger.checkpoint",
    "vatio.ledger.merkle",
    "vatio.units",
    "vatio.userfiles",
    "cryptography.hazmat.primitives.asymmetric.ed25519",
    "psutil",
    "sqlite3",
    "json",
)
#: top-level packages a worker's imports may teach the recorder (never the job's: vatio
#: never imports them, but a manifest collector might touch e.g. torch's metadata only)
LEARNABLE = frozenset(sys.stdlib_module_names) | {
    "vatio", "psutil", "cryptography", "orjson", "numpy", "rich", "pydantic", "pydantic_core",
    "annotated_types", "typing_extensions", "markdown_it", "mdurl", "pygments",
}  # fmt: skip


class StopServing(Exception):
    """The recorder leaves its loop (asked to, or its code is stale)."""


class Host:
    """The recorder's loop: accept, check, fork a worker; learn; leave when idle or stale."""

    def __init__(self, path: str, idle_s: float) -> None:
        self.path = path
        self.idle_s = idle_s
        self.started = time.time()
        self.served = 0
        self.stamps: dict[str, tuple[int, int, int]] = {}
        self.server: socket.socket | None = None
        self.lock: Any = None
        self.inode: int | None = None
        self.workers: set[int] = set()

    # -- life -----------------------------------------------------------------------------
    def claim(self) -> bool:
        """Take the recorder's lock (one per socket) and bind; False when another has it."""
        import fcntl

        self.lock = open(self.path + ".lock", "a")  # noqa: SIM115 (held for the whole life)
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        os.chmod(self.path, 0o600)
        self.server.listen(64)
        self.inode = os.stat(self.path).st_ino
        return True

    def preload(self, names: list[str] | tuple[str, ...]) -> None:
        for name in names:
            if name in sys.modules:
                continue
            try:
                importlib.import_module(name)
            except Exception as error:  # a module that cannot load is learned no further
                self.log(f"cannot preload {name}: {error!r}")
        self._stamp()
        gc.collect()
        gc.freeze()  # workers then touch (copy) fewer pages

    def serve(self) -> None:
        assert self.server is not None
        last = time.monotonic()
        signal.signal(signal.SIGCHLD, self._reap)
        try:
            while True:
                left = self.idle_s - (time.monotonic() - last)
                if left <= 0:
                    return
                ready, _, _ = select.select([self.server], [], [], min(left, 30.0))
                if not self._still_ours():
                    return
                if ready:
                    conn, _ = self.server.accept()
                    if self.handle(conn):  # a run; asking for the status keeps no one alive
                        last = time.monotonic()
        except StopServing:
            return
        finally:
            self.close()

    def close(self) -> None:
        if self.server is not None and self._still_ours():
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        if self.server is not None:
            self.server.close()

    def _still_ours(self) -> bool:
        try:
            return os.stat(self.path).st_ino == self.inode
        except OSError:
            return False

    def _reap(self, _signum: int = 0, _frame: Any = None) -> None:
        """SIGCHLD: reap finished workers at once (their CPU time then counts as ours)."""
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.workers.discard(pid)

    # -- a connection ---------------------------------------------------------------------
    def handle(self, conn: socket.socket) -> bool:
        """Answer one connection; True when it was a run."""
        channel = Channel(conn)
        try:
            conn.settimeout(5.0)
            if peer_uid(conn) != os.getuid():
                return False
            message, _ = channel.receive()
            op = message.get("op")
            if op == "status":
                channel.send(self.status())
            elif op == "stop":
                channel.send({"stopping": True})
                raise StopServing
            elif op == "run":
                self.fork_worker(channel, message)
                return True
        except (OSError, ValueError, EOFError) as error:
            self.log(f"connection dropped: {error!r}")
        finally:
            conn.close()
        return False

    def fork_worker(self, channel: Channel, message: dict[str, Any]) -> None:
        if message.get("protocol") != PROTOCOL or message.get("identity") != identity():
            channel.send({"fallback": "another vatio"})
            return
        if self.stale():
            channel.send({"fallback": "vatio changed since the recorder started"})
            raise StopServing
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            raise
        if pid == 0:  # the worker
            from vatio.cli.resident_worker import Worker

            code = 70
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # its helpers are its own to reap
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
                assert self.server is not None
                self.server.close()
                self.lock.close()
                gc.unfreeze()
                channel.sock.settimeout(None)
                code = Worker(channel, message, self.path + ".modules").run()
            finally:
                os._exit(code)
        self.workers.add(pid)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        self.served += 1
        self.learn()

    def status(self) -> dict[str, Any]:
        import resource

        mine = resource.getrusage(resource.RUSAGE_SELF)
        workers = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            #: CPU seconds of the recorder and of every worker it reaped (µs resolution)
            "cpu_s": mine.ru_utime + mine.ru_stime + workers.ru_utime + workers.ru_stime,
            "workers": len(self.workers),
            "pid": os.getpid(),
            "socket": self.path,
            "started": self.started,
            "served": self.served,
            "idle_s": self.idle_s,
            "modules": len(sys.modules),
        }

    # -- code it runs ---------------------------------------------------------------------
    def _stamp(self) -> None:
        """Modification times of every vatio module loaded, and of the folders packages are
        installed in (an install or removal changes them)."""
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if file and (name == "vatio" or name.startswith("vatio.")) and file not in self.stamps:
                with contextlib.suppress(OSError):
                    self.stamps[file] = _stamp_of(file)
        for name in ("psutil", "cryptography"):
            module = sys.modules.get(name)
            folder = os.path.dirname(os.path.dirname(getattr(module, "__file__", "") or ""))
            if folder and folder not in self.stamps:
                with contextlib.suppress(OSError):
                    self.stamps[folder] = _stamp_of(folder)

    def stale(self) -> bool:
        for file, stamp in self.stamps.items():
            try:
                if _stamp_of(file) != stamp:
                    return True
            except OSError:
                return True
        return False

    def learn(self) -> None:
        """Import what the workers had to import, unless its code is newer than ours."""
        learned = self.path + ".modules"
        try:
            with open(learned) as handle:
                names = sorted({line.strip() for line in handle if line.strip()})
            os.unlink(learned)
        except OSError:
            return
        fresh = []
        for name in names:
            if name.split(".")[0] not in LEARNABLE or name in sys.modules:
                continue
            spec_file = _module_file(name)
            if spec_file and os.stat(spec_file).st_mtime > self.started:
                continue  # newer than the recorder: mixing versions is never worth it
            fresh.append(name)
        if fresh:
            self.preload(fresh)

    def log(self, text: str) -> None:
        with contextlib.suppress(OSError), open(self.path + ".log", "a") as handle:
            if handle.tell() < 65536:
                handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {text}\n")


def _stamp_of(path: str) -> tuple[int, int, int]:
    """Modification and change times and size: a copy that keeps mtimes (cp -p, rsync -a,
    tar) still changes the ctime."""
    info = os.stat(path)
    return info.st_mtime_ns, info.st_ctime_ns, info.st_size


def _module_file(name: str) -> str | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.has_location else None


def main() -> None:
    """`python -c '...main()' SOCKET`: the detached recorder (started by vatio.cli.resident)."""
    path = sys.argv[1]
    host = Host(path, idle_seconds(os.environ.get("VATIO_RESIDENT_IDLE")))

    def leave(_signum: int, _frame: Any) -> None:
        raise StopServing

    signal.signal(signal.SIGTERM, leave)
    try:
        if not host.claim():
            return
    except Exception as error:  # clients do not start another for a while (see .failed)
        host.log(f"recorder cannot listen: {error!r}")
        with contextlib.suppress(OSError), open(path + ".failed", "w") as marker:
            marker.write(f"{error!r}\n")
        return
    try:
        host.preload(PRELOAD)
        host.serve()
    except StopServing:
        host.close()
    except Exception as error:  # never a traceback on a closed terminal: a line in the log
        host.log(f"recorder failed: {error!r}")
        host.close()
        with contextlib.suppress(OSError), open(path + ".failed", "w") as marker:
            marker.write(f"{error!r}\n")


def idle_seconds(text: str | None) -> float:
    """VATIO_RESIDENT_IDLE: seconds from 1 to a week; anything else is the default."""
    try:
        value = float(text) if text else IDLE_S
    except ValueError:
        return IDLE_S
    if value != value or value <= 0:  # NaN, zero, negative
        return IDLE_S
    return min(max(value, 1.0), 7 * 86400.0)
