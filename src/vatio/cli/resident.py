"""`vatio run` through the resident recorder: the client side (standard library only).

Importing the tracker, psutil, cryptography and sqlite3 costs more CPU than a whole
`vatio run` may add to a job (~150 ms on a 2-core VM). So a per-user recorder process
keeps them imported (`vatio.cli.resident_host`) and forks a worker for each run. This
client sends the worker its arguments, working folder, environment and its stdout and
stderr; the worker parses and checks them (a bad option is refused before the job
starts, in the same words), takes the origin instant and asks the client to spawn the
job. The client stays the job's parent — terminal, signals and exit code are as
without the recorder — and tells the worker how the job ended; the worker records the
run and writes the summary to the client's stderr.

Nothing is lost when the recorder is absent or fails: with no recorder the run is
recorded in this process as before (and a recorder is started for the next run); a
recorder lost during the job leaves the record to this process, from the same origin.
`VATIO_RESIDENT=0` turns the recorder off. Sockets live in a private folder (0700,
owned by the user): `VATIO_RESIDENT_DIR`, else `$XDG_RUNTIME_DIR/vatio`, else
`/tmp/vatio-UID`.
"""

from __future__ import annotations

import _socket  # socket.py's enums cost the client ~10 ms; the C module does the same here
import marshal  # both ends are the same interpreter (see identity); json costs ~8 ms to import
import os
import sys

TYPE_CHECKING = False  # not typing's: this module is on the path of every `vatio run`
if TYPE_CHECKING:
    from typing import Any

PROTOCOL = 1
#: the commands a worker answers (all lean commands, vatio.cli.lean: their imports are the
#: cost; none reads stdin or runs long without a job the client supervises)
SERVED = (("run",), ("runs", "list"), ("runs", "show"), ("schedule",))
MAX_MESSAGE = 1 << 24
#: the recorder to start once this run is recorded (set when none answered)
host_wanted: str | None = None


def enabled() -> bool:
    return os.environ.get("VATIO_RESIDENT", "").strip().lower() not in ("0", "off", "no", "false")


def socket_folder() -> str | None:
    """The private folder of this user's recorder sockets, made if missing; None when it is
    not safe (not a folder, another owner, readable by others)."""
    uid = os.getuid()
    folder = os.environ.get("VATIO_RESIDENT_DIR")
    if not folder:
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        folder = os.path.join(runtime, "vatio") if runtime else f"/tmp/vatio-{uid}"
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        info = os.lstat(folder)
    except OSError:
        return None
    if (info.st_mode & 0o170000) != 0o040000 or info.st_uid != uid or info.st_mode & 0o077:
        return None
    return folder


def identity() -> str:
    """What a recorder must share with its clients: the interpreter, its environment (venv,
    PYTHONPATH), vatio's code, and the pid and mount namespaces (a container or a job's
    private /tmp sees other processes and files under the same uid)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spaces = []
    for name in ("pid", "mnt"):
        try:
            spaces.append(os.readlink(f"/proc/self/ns/{name}"))
        except OSError:
            spaces.append("")
    return "\0".join([os.path.realpath(sys.executable), sys.prefix, package,
                       os.environ.get("PYTHONPATH", ""), *spaces])  # fmt: skip


def socket_path() -> str | None:
    folder = socket_folder()
    if folder is None:
        return None
    import zlib

    path = os.path.join(folder, f"recorder-{zlib.crc32(identity().encode()):08x}.sock")
    return path if len(path.encode()) < 100 else None  # sun_path holds 108 bytes


class Channel:
    """Messages over a Unix stream socket: 4-byte length, then the marshal form (plain data
    only), file descriptors riding along with a message's first byte (SCM_RIGHTS).

    Only ever with a peer of the same user: the socket is in a private folder and the
    recorder checks SO_PEERCRED (marshal is not for data from strangers)."""

    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray()  # bytes received past the last message

    def send(self, message: dict[str, Any], fds: tuple[int, ...] = ()) -> None:
        data = marshal.dumps(message)
        frame = len(data).to_bytes(4, "big") + data
        sent = 0
        if fds:
            rights = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in fds)
            sent = self.sock.sendmsg([frame], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
        self.sock.sendall(frame[sent:])

    def receive(self, max_fds: int = 0) -> tuple[dict[str, Any], list[int]]:
        """The next message and the descriptors that came with it; EOFError when the peer
        left, ValueError when it sent something that is not a message."""
        fds: list[int] = []
        try:
            while len(self._buffer) < 4 or len(self._buffer) < 4 + self._size():
                if max_fds and not fds:
                    size = _socket.CMSG_SPACE(4 * max_fds)
                    chunk, ancillary, _flags, _addr = self.sock.recvmsg(65536, size)
                    fds += _rights(ancillary)
                else:
                    chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("the peer closed the connection")
                self._buffer += chunk
            size = self._size()
            data = bytes(self._buffer[4 : 4 + size])
            del self._buffer[: 4 + size]
            try:
                message = marshal.loads(data)
            except (EOFError, TypeError, ValueError):
                message = None
            if not isinstance(message, dict):
                raise ValueError("not a message")
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        return message, fds

    def _size(self) -> int:
        size = int.from_bytes(self._buffer[:4], "big")
        if size > MAX_MESSAGE:
            raise ValueError("message too long")
        return size

    def close(self) -> None:
        self.sock.close()


def _rights(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % 4
            fds += [int.from_bytes(payload[i : i + 4], sys.byteorder, signed=True)
                    for i in range(0, usable, 4)]  # fmt: skip
    return fds


def hello(argv: list[str]) -> dict[str, Any]:
    mask = os.umask(0o022)
    os.umask(mask)
    streams = {
        name: [getattr(stream, "encoding", None), getattr(stream, "errors", None)]
        for name, stream in (("stdout", sys.stdout), ("stderr", sys.stderr))
    }
    return {
        "protocol": PROTOCOL,
        "op": "run",
        "identity": identity(),
        "argv": argv,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": mask,
        "streams": streams,
    }


def served(argv: list[str]) -> bool:
    return any(tuple(argv[: len(words)]) == words for words in SERVED)


def run_resident(argv: list[str]) -> int | None:
    """Run `vatio ARGV` (a SERVED command) through the resident recorder; vatio's exit code,
    or None when this process must do it itself (no recorder, or one that hands it back)."""
    global host_wanted
    if not enabled() or not served(argv):
        return None
    path = socket_path()
    if path is None:
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(ANSWER_S)  # a recorder that is stopped or stuck is not waited for
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        host_wanted = None if _failed_recently(path) else path
        return None
    channel = Channel(sock)
    reply: dict[str, Any] = {}
    try:
        if peer_uid(sock) != os.getuid():
            raise ValueError("the socket is not this user's")
        channel.send(hello(argv))
        reply, _ = channel.receive()  # a worker took the request (or the recorder declined)
        if reply.get("accepted") is not True:
            channel.close()
            return None
        # the streams only now: descriptors queued to a recorder that never reads them would
        # keep this process's pipes open after it left
        channel.send({"streams": True}, fds=(0, 1, 2))
        import vatio.process  # noqa: F401 (needed to spawn; loads while the worker checks)

        sock.settimeout(None)
        reply, _ = channel.receive()
    except (OSError, ValueError, EOFError) as error:
        channel.close()
        if not isinstance(error, EOFError) or reply.get("accepted") is not True:
            return None  # nothing ran: this process does it
        if argv[:1] == ["run"]:
            return None  # the worker was lost before the job was spawned
        sys.stderr.write("vatio: the resident recorder's worker ended before answering\n")
        return 70
    if "spawn" not in reply:  # answered (a reading command, help, a bad option) or handed back
        channel.close()
        code = reply.get("exit")
        return code if isinstance(code, int) else None
    return _run_job(channel, argv, reply)


#: seconds to wait for the recorder to take a request before doing the work here
ANSWER_S = 5.0


def peer_uid(sock: _socket.socket) -> int:
    """The uid of the process at the other end (SO_PEERCRED: pid, uid, gid)."""
    creds = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
    return int.from_bytes(creds[4:8], sys.byteorder)


def _failed_recently(path: str) -> bool:
    """A recorder that failed to start here in the last 10 minutes is not started again."""
    import time

    try:
        return time.time() - os.stat(path + ".failed").st_mtime < 600
    except OSError:
        return False


def _run_job(channel: Channel, argv: list[str], reply: dict[str, Any]) -> int:
    """Spawn the job the worker asked for (`vatio run`), supervise it here, report how it
    ended."""
    from vatio.process import EarlySignals, Outcome, spawn, supervise

    command = list(reply["spawn"])
    kill_after_s = reply.get("kill_after_s")
    early = EarlySignals()
    started = spawn(command)
    began = _cpu_s()
    outcome = started if isinstance(started, Outcome) else None
    connected = True
    try:
        channel.send({"failed": _fields(outcome)} if outcome else {"pid": started.pid})
    except OSError:
        connected = False
    if outcome is None:
        outcome = supervise(command, spawned=started, early=early, kill_after_s=kill_after_s)
    else:
        import signal

        for sig, handler in early.previous.items():
            signal.signal(sig, handler)
    spent = _cpu_s() - began
    if connected:
        try:
            with _suppressed(OSError):  # a worker that failed may have answered already
                channel.send({"outcome": _fields(outcome), "cpu_s": spent})
            final, _ = channel.receive()
            if isinstance(final.get("exit"), int):
                return final["exit"]
        except (OSError, ValueError, EOFError):
            pass
    channel.close()
    sys.stderr.write("vatio: the resident recorder stopped during the run; recording it here\n")
    return _adopt(argv, reply, started, outcome, _cpu_s() - began)


def _adopt(argv: list[str], reply: dict[str, Any], started: Any, outcome: Any,
           client_cpu_s: float) -> int:  # fmt: skip
    """Record here a job the lost worker was recording; the job's exit code, whatever
    happens (its run is never lost silently: a failure to record says why)."""
    from vatio.cli.fastrun import main_run
    from vatio.cli.launchers import AdoptedLauncher
    from vatio.measure.origin import Origin

    try:
        origin = Origin(*reply["origin"])
        main_run(argv[1:], launcher=AdoptedLauncher(origin, started, outcome, client_cpu_s))
    except BaseException as error:
        from vatio.cli.output import one_line

        sys.stderr.write(f"vatio: could not record the run: {one_line(str(error))[:300]}\n")
    return outcome.exit_code


class _suppressed:
    """contextlib.suppress without importing contextlib on the client's path."""

    def __init__(self, *kinds: type[BaseException]) -> None:
        self.kinds = kinds

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, _value: Any, _tb: Any) -> bool:
        return kind is not None and issubclass(kind, self.kinds)


def _fields(outcome: Any) -> dict[str, Any]:
    return {
        "exit_code": outcome.exit_code,
        "status": outcome.status,
        "error": outcome.error,
        "signals_received": list(outcome.signals_received),
        "cpu_s": outcome.cpu_s,
    }


def _cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def ask(op: str) -> dict[str, Any] | None:
    """The recorder's answer to `op` ("status", "stop"); None when none answers."""
    path = socket_path()
    if path is None:
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(5.0)
    channel = Channel(sock)
    try:
        sock.connect(path)
        if peer_uid(sock) != os.getuid():
            return None
        channel.send({"protocol": PROTOCOL, "op": op})
        return channel.receive()[0]
    except (OSError, ValueError, EOFError):
        return None
    finally:
        channel.close()


def start_host_if_wanted() -> None:
    """Start the recorder none answered for, detached, for the runs that follow."""
    global host_wanted
    path, host_wanted = host_wanted, None
    if path is not None:
        start_host(path)


def start_host(path: str) -> None:
    import subprocess

    code = (
        "import sys; sys.path[:1] = [] if sys.path[:1] == [''] else sys.path[:1]; "
        "from vatio.cli.resident_host import main; main()"
    )
    try:
        subprocess.Popen(
            [sys.executable, "-c", code, path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
    except OSError:
        return
