"""A throwaway PostgreSQL server for tests and benchmarks (the real server, no mock).

`initdb` a cluster in a temporary folder, start it on 127.0.0.1 and a free port
with trust authentication, hand out one fresh database per test, and remove it
all at the end. PostgreSQL refuses to run as root, so under root the server
runs as the `postgres` user (`runuser`), which the Debian package creates.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def _bin() -> Path:
    """VATIO_PG_BIN, else the newest Debian/Ubuntu server under /usr/lib/postgresql."""
    if os.environ.get("VATIO_PG_BIN"):
        return Path(os.environ["VATIO_PG_BIN"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


BIN = _bin()
REQUIRE_ENV = "VATIO_REQUIRE_POSTGRES"


def missing_reason() -> str | None:
    """Why no server can be started here (None when one can)."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (BIN / tool).is_file():
            return f"PostgreSQL server binaries not found in {BIN} (apt-get install postgresql)"
    if os.geteuid() == 0 and not _user_exists("postgres"):
        return "running as root and there is no `postgres` user to run the server as"
    return None


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One cluster: start(), url(database), new_database(), stop()."""

    def __init__(self, *, durable: bool = False, max_connections: int = 300) -> None:
        #: durable=False turns fsync off (tests); benchmarks keep PostgreSQL's defaults
        self.durable = durable
        self.max_connections = max_connections
        self.folder = Path(tempfile.mkdtemp(prefix="vatio-pg-"))
        self.port = 0
        self.log = self.folder / "server.log"

    def _as_server_user(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def start(self) -> PostgresServer:
        data = self.folder / "data"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(
            [str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
             "-E", "UTF8", "--locale=C", "--no-sync"]
        )  # fmt: skip
        settings = [
            "-c listen_addresses=127.0.0.1",
            f"-c max_connections={self.max_connections}",
            f"-k {self.folder}",
        ]
        if not self.durable:
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        for _attempt in range(5):
            self.port = _free_port()
            done = self._run(
                [str(BIN / "pg_ctl"), "-D", str(data), "-l", str(self.log), "-w", "-t", "60",
                 "-o", " ".join([f"-p {self.port}", *settings]), "start"],
                check=False,
            )  # fmt: skip
            if done.returncode == 0:
                return self
        raise RuntimeError(f"PostgreSQL did not start: {self._log_tail()}")

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            self._as_server_user(argv), capture_output=True, text=True, timeout=120, cwd="/"
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed: {done.stderr or done.stdout}")
        return done

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-2000:]
        return "(no log)"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "t") -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(
                [str(BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)
