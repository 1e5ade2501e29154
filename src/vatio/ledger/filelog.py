"""A self-contained signed log in a directory (federated learning's permissioned ledger).

Writers hold an exclusive fcntl lock on ``.lock``; every append is one
``write`` of a whole line to ``entries.jsonl`` followed by fsync, then the
cached frontier in ``state.json`` is replaced atomically. A crash can leave
a torn last line: appends then refuse (``repair()`` drops it) and
``verify_log`` reports it, so it is never silently taken for an entry.
See logformat.py for the files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vatio.ledger import logformat as fmt
from vatio.ledger.checkpoint import Checkpoint, cosign_checkpoint, parse_checkpoint, sign_checkpoint
from vatio.ledger.errors import LedgerError, LogError, NoteError
from vatio.ledger.fileio import FileLock, write_atomic
from vatio.ledger.keys import CosignerKey, SigningKey, Verifier, valid_key_name
from vatio.ledger.logcheck import verify_log
from vatio.ledger.merkle import Frontier, MerkleTree, leaf_hash
from vatio.ledger.verify import VerifyReport

__all__ = ["FileLog", "LogEntry", "verify_log"]


@dataclass(frozen=True)
class LogEntry:
    index: int
    entry: dict[str, Any]
    leaf: bytes  # RFC 6962 leaf hash of the line


class FileLog:
    """An append-only, signed, cosignable log kept in one directory."""

    def __init__(self, directory: Path, *, durable: bool = True) -> None:
        self.path = Path(directory)
        self.durable = durable
        first = self._first_line()
        try:
            index, genesis = fmt.decode_line(first)
            if index != 0 or fmt.kind_of(genesis) != fmt.GENESIS:
                raise ValueError("entry 0 is not the genesis entry")
            self.origin: str = genesis["origin"]
            self.log_verifier: Verifier = Verifier.from_vkey(genesis["log_vkey"])
        except (ValueError, KeyError, TypeError, LedgerError) as e:
            raise LogError(
                f"{self.path / fmt.ENTRIES} does not start with a valid genesis entry ({e}).",
                "Run verify_log on it to see what was changed.",
            ) from None

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: str | os.PathLike[str],
        origin: str,
        key: SigningKey,
        *,
        durable: bool = True,
    ) -> FileLog:
        """A new log in an empty (or absent) directory, signed by ``key``; checkpoint 1 written."""
        path = Path(directory)
        if not valid_key_name(origin):
            raise LogError(
                f"Log origin {origin!r} is not valid.",
                "Use a name without spaces or '+', e.g. example.org/fl-study-1.",
            )
        path.mkdir(parents=True, exist_ok=True)
        with FileLock(path / fmt.LOCK, exclusive=True):
            if any(p.name != fmt.LOCK for p in path.iterdir()):
                raise LogError(
                    f"{path} is not empty.", "Create a log in a new directory, or open this one."
                )
            (path / fmt.CHECKPOINTS).mkdir()
            genesis = {
                "kind": fmt.GENESIS,
                "format": fmt.FORMAT_VERSION,
                "origin": origin,
                "log_vkey": key.vkey,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            line = fmt.encode_line(0, genesis) + b"\n"
            write_atomic(path / fmt.ENTRIES, line, durable)
            frontier = Frontier()
            frontier.append(leaf_hash(line[:-1]))
            write_atomic(path / fmt.STATE, fmt.state_bytes(len(line), frontier), durable)
            log = cls(path, durable=durable)
            log._write_members()
            log._checkpoint_locked(key)
        return log

    @classmethod
    def open(cls, directory: str | os.PathLike[str], *, durable: bool = True) -> FileLog:
        path = Path(directory)
        if not (path / fmt.ENTRIES).is_file():
            raise LogError(
                f"{path} is not a vatio log (no {fmt.ENTRIES}).",
                "Give the directory FileLog.create made, or create one.",
            )
        return cls(path, durable=durable)

    # --- reading ---------------------------------------------------------------------------

    @property
    def size(self) -> int:
        with self._lock(exclusive=False):
            return self._state()[1].size

    def entries(self) -> Iterator[LogEntry]:
        """Every entry in order (entry 0 is the genesis); LogError at a damaged line."""
        with open(self.path / fmt.ENTRIES, "rb") as f:
            for pos, raw in enumerate(f):
                if not raw.endswith(b"\n"):
                    raise LogError(f"{fmt.ENTRIES} ends in a torn line.", "Run FileLog.repair().")
                try:
                    index, entry = fmt.decode_line(raw[:-1])
                except ValueError as e:
                    raise LogError(f"{fmt.ENTRIES} line {pos + 1} is damaged: {e}.") from None
                yield LogEntry(index, entry, leaf_hash(raw[:-1]))

    def leaves(self) -> list[bytes]:
        return [e.leaf for e in self.entries()]

    def latest_checkpoint(self) -> str:
        return (self.path / fmt.CHECKPOINT).read_text(encoding="utf-8")

    def checkpoint_at(self, size: int) -> str:
        return (self.path / fmt.CHECKPOINTS / str(size)).read_text(encoding="utf-8")

    def members(self) -> list[fmt.Member]:
        members: dict[str, fmt.Member] = {}
        for e in self.entries():
            if fmt.kind_of(e.entry) == fmt.MEMBER:
                fmt.apply_member_entry(members, e.index, e.entry)
        return sorted(members.values(), key=lambda m: m.name)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return MerkleTree(self.leaves()).inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return MerkleTree(self.leaves()).consistency_proof(old_size, new_size)

    def verify(self, **kwargs: Any) -> VerifyReport:
        return verify_log(self.path, **kwargs)

    # --- writing ---------------------------------------------------------------------------

    def append(self, entry: Mapping[str, Any], key: SigningKey | None = None) -> int:
        """Append a JSON object; with ``key`` also sign a checkpoint. Returns the entry's index."""
        return self.append_many([entry], key)[0]

    def append_many(
        self, entries: Iterable[Mapping[str, Any]], key: SigningKey | None = None
    ) -> list[int]:
        """Append several entries under one lock with one write and one fsync; their indices."""
        batch = [_user_entry(e) for e in entries]
        with self._lock(exclusive=True):
            indices = self._append_locked(batch)
            if key is not None:
                self._checkpoint_locked(key)
        return indices

    def checkpoint(self, key: SigningKey) -> str:
        """Sign and write a checkpoint of every entry so far; returns the note."""
        with self._lock(exclusive=True):
            return self._checkpoint_locked(key)

    def cosign(
        self,
        key: SigningKey | CosignerKey,
        *,
        timestamp: int | None = None,
        saved_checkpoint: str | None = None,
    ) -> str:
        """Verify the log, then add ``key``'s cosignature to the latest checkpoint.

        ``key`` must belong to a member. ``saved_checkpoint``: the last one this
        cosigner saw, so a rewrite since then is refused.
        """
        cosigner = key.cosigner() if isinstance(key, SigningKey) else key
        with self._lock(exclusive=True):
            if not any(m.verifier.public_bytes == cosigner.public_bytes for m in self.members()):
                raise LogError(
                    f"{cosigner.name} is not a member of this log.",
                    "The log's owner adds it with add_member(vkey, role, log_key).",
                )
            report = verify_log(
                self.path, saved_checkpoint=saved_checkpoint, allow_unsigned_tail=True, _lock=False
            )
            if not report.ok:
                raise LogError(f"Refusing to cosign: {report.summary()}")
            note = self.latest_checkpoint()
            cp, _ = parse_checkpoint(note)
            signed = cosign_checkpoint(note, cosigner, timestamp)
            self._write_checkpoint(cp.size, signed)
        return signed

    def add_member(self, vkey: str | Verifier, role: str, key: SigningKey) -> int:
        """Record a member (its public key and role), signed by the log's key; returns the index."""
        v = Verifier.from_vkey(vkey) if isinstance(vkey, str) else vkey
        v = v.as_type(1)
        if not role or not isinstance(role, str) or any(ord(c) < 0x20 for c in role):
            raise LogError(f"Member role {role!r} is not valid.", "Use a short word, e.g. client.")
        with self._lock(exclusive=True):
            self._check_log_key(key)
            if any(m.name == v.name for m in self.members()):
                raise LogError(f"{v.name} is already a member.", "Remove it first to change it.")
            entry = {"kind": fmt.MEMBER, "action": "add", "name": v.name, "role": role,
                     "vkey": v.vkey}  # fmt: skip
            (index,) = self._append_locked([fmt.sign_member_entry(entry, key)])
            self._write_members()
            self._checkpoint_locked(key)
        return index

    def remove_member(self, name: str, key: SigningKey) -> int:
        with self._lock(exclusive=True):
            self._check_log_key(key)
            if not any(m.name == name for m in self.members()):
                raise LogError(f"{name} is not a member.")
            entry = {"kind": fmt.MEMBER, "action": "remove", "name": name}
            (index,) = self._append_locked([fmt.sign_member_entry(entry, key)])
            self._write_members()
            self._checkpoint_locked(key)
        return index

    def repair(self) -> int:
        """Drop a torn last line and rebuild the cached frontier; returns bytes dropped."""
        with self._lock(exclusive=True):
            p = self.path / fmt.ENTRIES
            data = p.read_bytes()
            keep = data.rfind(b"\n") + 1
            dropped = len(data) - keep
            if dropped:
                with open(p, "r+b") as f:
                    f.truncate(keep)
                    os.fsync(f.fileno())
            self._rebuild_state()
            self._write_members()
        return dropped

    # --- internals -------------------------------------------------------------------------

    def _lock(self, exclusive: bool) -> FileLock:
        return FileLock(self.path / fmt.LOCK, exclusive=exclusive)

    def _first_line(self) -> bytes:
        try:
            with open(self.path / fmt.ENTRIES, "rb") as f:
                line = f.readline(1 << 20)
        except OSError as e:
            raise LogError(f"Cannot read {self.path / fmt.ENTRIES}: {e.strerror}.") from None
        if not line.endswith(b"\n"):
            raise LogError(f"{self.path / fmt.ENTRIES} has no complete first line.")
        return line[:-1]

    def _check_log_key(self, key: SigningKey) -> None:
        if key.vkey != self.log_verifier.vkey:
            raise LogError(
                f"Key {key.name} ({key.key_id}) is not this log's key ({self.log_verifier.name}).",
                "Sign with the key the log was created with.",
            )

    def _state(self) -> tuple[int, Frontier]:
        """(byte length, frontier) of entries.jsonl; fast from state.json when it matches."""
        p = self.path / fmt.ENTRIES
        size = p.stat().st_size
        if size:
            with open(p, "rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    raise LogError(
                        f"{p} ends in an incomplete line (a write was interrupted).",
                        "Run FileLog.repair() to drop it, then append again.",
                    )
        try:
            n_bytes, frontier = fmt.parse_state((self.path / fmt.STATE).read_bytes())
            if n_bytes == size:
                return n_bytes, frontier
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return self._rebuild_state()

    def _rebuild_state(self) -> tuple[int, Frontier]:
        """Re-read every entry (after a crash between the two writes); refuse a damaged log."""
        frontier = Frontier()
        n_bytes = 0
        with open(self.path / fmt.ENTRIES, "rb") as f:
            for pos, raw in enumerate(f):
                if not raw.endswith(b"\n"):
                    raise LogError(f"{fmt.ENTRIES} ends in a torn line.", "Run FileLog.repair().")
                try:
                    index, _ = fmt.decode_line(raw[:-1])
                except ValueError as e:
                    raise LogError(f"{fmt.ENTRIES} line {pos + 1} is damaged: {e}.") from None
                if index != pos:
                    raise LogError(f"{fmt.ENTRIES} line {pos + 1} holds entry {index}.",
                                   "Run verify_log to see what was changed.")  # fmt: skip
                frontier.append(leaf_hash(raw[:-1]))
                n_bytes += len(raw)
        try:
            cp, _ = parse_checkpoint(self.latest_checkpoint())
        except (OSError, NoteError):
            cp = None
        if cp is not None and (cp.size > frontier.size or _prefix_root(self, cp.size) != cp.root):
            raise LogError(
                f"{fmt.ENTRIES} no longer matches checkpoint {cp.size}; refusing to extend it.",
                "Run verify_log to see what was changed.",
            )
        write_atomic(self.path / fmt.STATE, fmt.state_bytes(n_bytes, frontier), self.durable)
        return n_bytes, frontier

    def _append_locked(self, entries: list[Mapping[str, Any]]) -> list[int]:
        n_bytes, frontier = self._state()
        first = frontier.size
        try:
            lines = [fmt.encode_line(first + k, e) for k, e in enumerate(entries)]
        except (ValueError, TypeError) as e:
            raise LogError(f"The entry cannot be written as JSON: {e}.") from None
        data = b"".join(line + b"\n" for line in lines)
        fd = os.open(self.path / fmt.ENTRIES, os.O_WRONLY | os.O_APPEND)
        try:
            view, done = memoryview(data), 0
            try:
                while done < len(data):
                    done += os.write(fd, view[done:])
            except OSError as e:  # disk full: put the file back as it was, no torn line
                os.ftruncate(fd, n_bytes)
                raise LogError(
                    f"Could not write to {self.path / fmt.ENTRIES}: {e.strerror}."
                ) from None
            if self.durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        for line in lines:
            frontier.append(leaf_hash(line))
        write_atomic(
            self.path / fmt.STATE, fmt.state_bytes(n_bytes + len(data), frontier), self.durable
        )
        return list(range(first, first + len(lines)))

    def _checkpoint_locked(self, key: SigningKey) -> str:
        self._check_log_key(key)
        _, frontier = self._state()
        try:
            latest = self.latest_checkpoint()
            prev, _ = parse_checkpoint(latest)
        except (OSError, NoteError):
            prev = None
        if prev is not None and prev.size == frontier.size:
            if prev.root != frontier.root():
                raise LogError(
                    f"The log's entries no longer match its checkpoint {prev.size}.",
                    "Run verify_log to see what was changed.",
                )
            return latest
        ext = (f"{fmt.PREVIOUS_EXTENSION} {prev.size}",) if prev is not None else ()
        note = sign_checkpoint(Checkpoint(self.origin, frontier.size, frontier.root(), ext), key)
        self._write_checkpoint(frontier.size, note)
        return note

    def _write_checkpoint(self, size: int, note: str) -> None:
        data = note.encode("utf-8")
        write_atomic(self.path / fmt.CHECKPOINTS / str(size), data, self.durable)
        write_atomic(self.path / fmt.CHECKPOINT, data, self.durable)

    def _write_members(self) -> None:
        members = {m.name: m for m in self.members()}
        data = fmt.members_bytes(self.origin, self.log_verifier, members)
        write_atomic(self.path / fmt.MEMBERS, data, self.durable)


def _user_entry(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(entry, Mapping):
        raise LogError(f"A log entry must be a JSON object, not {type(entry).__name__}.")
    kind = fmt.kind_of(entry)
    if kind is not None and kind.startswith(fmt.SYSTEM_PREFIX):
        raise LogError(
            f"Entry kind {kind!r} is reserved for the log itself.",
            "Use add_member/remove_member, or another kind.",
        )
    return entry


def _prefix_root(log: FileLog, size: int) -> bytes:
    f = Frontier()
    for e in log.entries():
        if f.size == size:
            break
        f.append(e.leaf)
    return f.root()
