"""Always restore: the original settings go to a restore file before anything changes.

A `PowerSession` writes the snapshot of every machine knob it may touch
(atomically, fsynced) before the first change, restores it on normal exit, on
an exception and on SIGTERM/SIGHUP/SIGINT, and deletes the file only when all
of it was restored. After a SIGKILL (or a power cut) the file stays:
`restore_pending()` — called at every vatio start — restores the files whose
owner process is gone, and `vatio power restore` restores every file of this
host. `vatio power apply` without a command writes a *persistent* file: the
setting is meant to stay until `vatio power restore`, so nothing else undoes it.

The state folder is `$VATIO_POWER_STATE_DIR`, else `$XDG_STATE_HOME/vatio/power`,
else `~/.local/state/vatio/power`: one per user, so a root session's file is
restored by root.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vatio.errors import InputError, VatioError
from vatio.power.common import MACHINE, Knob, KnobUnavailable

ENV_STATE_DIR = "VATIO_POWER_STATE_DIR"
PREFIX, SUFFIX = "restore-", ".json"
VERSION = 1
HANDLED = (signal.SIGTERM, signal.SIGHUP)


class PowerInterrupted(BaseException):
    """SIGTERM or SIGHUP reached a power session: unwind (restoring) like KeyboardInterrupt."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def state_dir() -> Path:
    explicit = os.environ.get(ENV_STATE_DIR)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "vatio" / "power"


def restore_pending(
    quiet: bool = False, *, directory: Path | None = None, nvml: Any = None
) -> list[str]:
    """Restore what a killed vatio left changed; one directory listing when nothing is pending.

    The CLI entry point calls this at every start. Returns one line per action
    (also printed on stderr as warnings unless `quiet`).
    """
    folder = directory or state_dir()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    if not any(n.startswith(PREFIX) and n.endswith(SUFFIX) for n in names):
        return []
    lines = restore_files(folder, only_abandoned=True, nvml=nvml)
    if not quiet:
        for line in lines:
            sys.stderr.write(f"vatio: warning: {line}\n")
    return lines


def restore_files(
    folder: Path | None = None,
    *,
    only_abandoned: bool = False,
    force: bool = False,
    nvml: Any = None,
) -> list[str]:
    """Restore the restore files of this host; returns what was done, one line each.

    `only_abandoned` (start-up): only transient files whose vatio is gone.
    Otherwise every file, except those of a live session unless `force`.
    """
    folder = folder or state_dir()
    lines: list[str] = []
    with _lock(folder):
        for path in sorted(folder.glob(f"{PREFIX}*{SUFFIX}")):
            data = _load(path)
            if data is None:
                lines.append(f"{path} is not a readable restore file; left in place")
                continue
            owner = data.get("owner") or {}
            if owner.get("host") != socket.gethostname():
                if not only_abandoned:
                    lines.append(
                        f"{path.name} was written on {owner.get('host')}; restore it there"
                    )
                continue
            alive = owner_alive(owner)
            if only_abandoned and (data.get("persistent") or alive):
                continue
            if alive and not data.get("persistent") and not force:
                lines.append(
                    f"vatio (pid {owner.get('pid')}) is still running and will restore its own "
                    "settings; --force restores them now"
                )
                continue
            lines += _restore_file(path, data, nvml, killed=only_abandoned)
    return lines


def _restore_file(path: Path, data: dict[str, Any], nvml: Any, killed: bool) -> list[str]:
    from vatio.power.discovery import knob_for_entry

    why = (
        f"vatio (pid {data['owner'].get('pid')}) ended without restoring its power settings"
        if killed
        else "restoring"
    )
    done, failed = [], []
    for entry in reversed(data.get("entries") or []):
        session = None
        try:
            knob, session = knob_for_entry(entry, nvml)
            knob.restore(entry["snapshot"])
            done.append(f"{entry['label']} back to {_shown(entry['snapshot'])}")
        except Exception as error:  # keep it for a later try, and say why
            failed.append(entry)
            reason = error.message if isinstance(error, VatioError) else repr(error)
            done.append(f"{entry['label']} NOT restored ({reason})")
        finally:
            if session is not None:
                session.close()
    if failed:
        data["entries"] = list(reversed(failed))
        _write_atomic(path, data)
    else:
        path.unlink(missing_ok=True)
    return [f"{why}: " + "; ".join(done)] if done else []


def held_settings(folder: Path | None = None) -> list[str]:
    """One line per setting vatio changed and has not restored yet (for `vatio power show`)."""
    folder = folder or state_dir()
    lines = []
    for path in sorted(folder.glob(f"{PREFIX}*{SUFFIX}")) if folder.is_dir() else []:
        data = _load(path)
        if data is None:
            continue
        owner = data.get("owner") or {}
        how = (
            "kept by `vatio power apply`"
            if data.get("persistent")
            else (
                f"held by vatio pid {owner.get('pid')}"
                if owner_alive(owner)
                else "left by a killed vatio"
            )
        )
        for entry in data.get("entries") or []:
            applied = entry.get("applied")
            lines.append(
                f"{entry['label']} = {applied if applied is not None else '?'} "
                f"(was {_shown(entry['snapshot'])}; {how}; `vatio power restore` puts it back)"
            )
    return lines


def _shown(snapshot: dict[str, Any]) -> str:
    if "files" in snapshot:
        values = sorted({str(v) for v in snapshot["files"].values()})
        return values[0] if len(values) == 1 else "/".join(values)
    value = snapshot.get("value")
    return "unlocked" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def owner_alive(owner: dict[str, Any]) -> bool:
    """The process that wrote a file still runs (same pid *and* start time: pids are reused)."""
    import psutil

    pid = owner.get("pid")
    if not isinstance(pid, int) or not psutil.pid_exists(pid):
        return False
    try:
        started = psutil.Process(pid).create_time()
    except psutil.Error:
        return False
    return abs(started - float(owner.get("started") or 0)) < 1.0


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write, fsync, rename, fsync the folder: the file is whole on disk before any change."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    with contextlib.suppress(OSError):
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


@contextlib.contextmanager
def _lock(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    import fcntl

    with open(folder / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def signals_blocked() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP while settings are restored; they arrive right after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, *HANDLED}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _owner(command: list[str] | None) -> dict[str, Any]:
    import psutil

    return {
        "pid": os.getpid(),
        "started": psutil.Process().create_time(),
        "host": socket.gethostname(),
        "command": command or list(sys.argv),
    }


class PowerSession:
    """Changes machine knobs with a restore file on disk first; restores on every way out.

        with PowerSession(knobs, command=argv) as session:
            session.set(knob, 200)
            ...                         # restored here, also on exceptions and SIGTERM

    `persistent=True` (vatio power apply without a command) keeps the settings and
    the file at close; `vatio power restore` undoes them later.
    """

    def __init__(
        self,
        knobs: list[Knob],
        *,
        persistent: bool = False,
        command: list[str] | None = None,
        directory: Path | None = None,
    ) -> None:
        self.knobs = [k for k in knobs if k.scope == MACHINE]
        self.persistent = persistent
        self.command = command
        self.directory = directory or state_dir()
        self.path = self.directory / f"{PREFIX}{socket.gethostname()}-{os.getpid()}{SUFFIX}"
        self.data: dict[str, Any] = {}
        self.opened = self.closed = False
        self.restored_lines: list[str] = []
        self._previous: dict[int, Any] = {}

    # -- opening ------------------------------------------------------------------
    def open(self) -> PowerSession:
        with _lock(self.directory):
            kept = self._check_others()
            entries = [kept[k.ident] if k.ident in kept else self._entry(k) for k in self.knobs]
            self.data = {
                "version": VERSION,
                "owner": _owner(self.command),
                "persistent": self.persistent,
                "created_at": time.time(),
                "entries": entries,
            }
            _write_atomic(self.path, self.data)
            if self.persistent:
                self._drop_merged(kept)
        self.opened = True
        self._install_handlers()
        atexit.register(self._at_exit)
        return self

    def _entry(self, knob: Knob) -> dict[str, Any]:
        try:
            snapshot = knob.snapshot()
        except KnobUnavailable as error:
            raise KnobUnavailable(
                f"{knob.label} cannot be read, so it could not be restored: {error.message}",
                error.hint,
            ) from None
        return {
            "ident": knob.ident,
            "key": knob.key,
            "target": knob.target,
            "label": knob.label,
            "backend": knob.backend(),
            "snapshot": snapshot,
            "applied": None,
        }

    def _check_others(self) -> dict[str, dict[str, Any]]:
        """Refuse knobs a live session is changing; a persistent apply keeps its originals."""
        ours = {k.ident for k in self.knobs}
        kept: dict[str, dict[str, Any]] = {}
        self._merged: list[Path] = []
        for path in self.directory.glob(f"{PREFIX}*{SUFFIX}"):
            if path == self.path:
                continue
            data = _load(path)
            if data is None or (data.get("owner") or {}).get("host") != socket.gethostname():
                continue
            shared = [e for e in data.get("entries") or [] if e.get("ident") in ours]
            if not shared:
                continue
            if not data.get("persistent") and owner_alive(data["owner"]):
                raise InputError(
                    f"Another vatio (pid {data['owner']['pid']}) is changing "
                    f"{', '.join(e['label'] for e in shared)} right now.",
                    "Wait for it to finish, or stop it (it restores its settings on exit).",
                )
            if data.get("persistent") and self.persistent:
                kept.update({e["ident"]: e for e in shared})
                self._merged.append(path)
        return kept

    def _drop_merged(self, kept: dict[str, dict[str, Any]]) -> None:
        """A new persistent apply took over older entries: remove them from the old files."""
        for path in self._merged:
            data = _load(path)
            if data is None:
                continue
            data["entries"] = [e for e in data["entries"] if e["ident"] not in kept]
            if data["entries"]:
                _write_atomic(path, data)
            else:
                path.unlink(missing_ok=True)

    # -- changing -----------------------------------------------------------------
    def set(self, knob: Knob, value: Any) -> None:
        if not self.opened or self.closed:
            raise RuntimeError("PowerSession.set() outside an open session")
        if knob.scope != MACHINE:
            knob.write(value)
            return
        if knob.ident not in {e["ident"] for e in self.data["entries"]}:
            raise RuntimeError(f"{knob.ident} is not part of this session's restore file")
        knob.write(value)
        for entry in self.data["entries"]:
            if entry["ident"] == knob.ident:
                entry["applied"] = value

    # -- closing ------------------------------------------------------------------
    def restore(self) -> list[str]:
        """Put every snapshot back (latest first); the file goes when all succeeded."""
        done, failed = [], []
        by_ident = {k.ident: k for k in self.knobs}
        with signals_blocked():
            for entry in reversed(self.data.get("entries") or []):
                knob = by_ident.get(entry["ident"])
                try:
                    if knob is None:
                        from vatio.power.discovery import knob_for_entry

                        knob, _ = knob_for_entry(entry)
                    knob.restore(entry["snapshot"])
                    done.append(f"{entry['label']} back to {_shown(entry['snapshot'])}")
                except Exception as error:
                    failed.append(entry)
                    reason = error.message if isinstance(error, VatioError) else repr(error)
                    done.append(
                        f"{entry['label']} NOT restored ({reason}); run `vatio power restore`"
                    )
            if failed:
                self.data["entries"] = list(reversed(failed))
                _write_atomic(self.path, self.data)
            else:
                self.path.unlink(missing_ok=True)
        self.restored_lines = done
        return done

    def close(self) -> list[str]:
        if not self.opened or self.closed:
            return []
        self.closed = True
        atexit.unregister(self._at_exit)
        try:
            if self.persistent:
                with _lock(self.directory):
                    _write_atomic(self.path, self.data)
                return []
            return self.restore()
        finally:
            self._uninstall_handlers()

    def _at_exit(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def __enter__(self) -> PowerSession:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- signals --------------------------------------------------------------------
    def _install_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in HANDLED:
            self._previous[sig] = signal.signal(sig, _raise_interrupted)

    def _uninstall_handlers(self) -> None:
        for sig, handler in self._previous.items():
            with contextlib.suppress(Exception):
                signal.signal(sig, handler)
        self._previous.clear()


def _raise_interrupted(signum: int, _frame: Any) -> None:
    raise PowerInterrupted(signum)
