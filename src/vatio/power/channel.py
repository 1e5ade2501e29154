"""vatio's end of the step link: a Unix socket in a private temporary folder.

A socket path in the environment survives launchers that close inherited file
descriptors (torchrun, shells), which a pipe would not. Messages are JSON lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from typing import Any

from vatio.power.marker import ENV_SOCKET


class Channel:
    """Listens for the job's link; one connection at a time (rank 0)."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="vatio-power-")
        os.chmod(self.folder, 0o700)
        self.path = os.path.join(self.folder, "steps.sock")
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(4)
        self.server.settimeout(0.2)

    def env(self) -> dict[str, str]:
        return {ENV_SOCKET: self.path}

    def grant(self, identity: dict | None) -> None:
        """Let the job's user reach the socket when vatio runs it as that user."""
        if identity:
            for path in (self.folder, self.path):
                os.chown(path, identity["user"], identity["group"])

    def accept(self, still_waiting: Callable[[], bool]) -> Connection | None:
        """The job's connection, or None once `still_waiting()` says the job is gone."""
        while still_waiting():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return None
            conn.settimeout(None)
            return Connection(conn)
        return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("r", encoding="utf-8")

    def receive(self) -> dict[str, Any] | None:
        """The next message; None when the job closed the link or died."""
        try:
            line = self.reader.readline()
        except OSError:
            return None
        if not line:
            return None
        try:
            message = json.loads(line)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

    def send(self, message: dict[str, Any]) -> bool:
        try:
            self.sock.sendall((json.dumps(message) + "\n").encode())
        except OSError:
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
