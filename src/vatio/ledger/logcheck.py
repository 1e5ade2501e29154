"""``verify_log``: re-derive everything in a file-log directory and name what fails.

Nothing in the directory is trusted: every line is re-hashed, every
checkpoint (the latest and the whole history) is re-verified against the
entries and the keys, and the derived files must match byte for byte. The
log's key comes from the caller (``verifiers``) or, failing that, from the
log's own genesis entry, which the report says (``key_source``).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vatio.ledger import logformat as fmt
from vatio.ledger.checkpoint import Checkpoint, cosignature_time, parse_checkpoint
from vatio.ledger.errors import LedgerError, LogError, NoteError
from vatio.ledger.fileio import FileLock
from vatio.ledger.keys import SIG_COSIGNATURE_V1, SIG_ED25519, Verifier
from vatio.ledger.merkle import EMPTY_ROOT, Frontier, leaf_hash
from vatio.ledger.note import Note, verify_note
from vatio.ledger.verify import CosignerSeen, Problem, VerifyReport

_SIZE_NAME = re.compile(r"0|[1-9][0-9]{0,18}")
MAX_PROBLEMS_PER_KIND = 100


def verify_log(
    directory: str | os.PathLike[str],
    verifiers: Sequence[Verifier] | None = None,
    quorum: int = 0,
    saved_checkpoint: str | bytes | os.PathLike[str] | None = None,
    *,
    allow_unsigned_tail: bool = False,
    deep: bool = False,
    _lock: bool = True,
) -> VerifyReport:
    """Check a file log; never raises for tampering, only for unusable input (LogError).

    verifiers: the trusted keys (the log's key, and any cosigners to accept
        besides the log's members); None trusts the key in the log's genesis entry.
    quorum: member cosignatures the latest checkpoint must carry.
    saved_checkpoint: a checkpoint note (text or path) handed out earlier; the
        log must still extend it.
    allow_unsigned_tail: do not count entries after the latest checkpoint as a problem.
    deep: also parse every line as JSON and check it is canonical (about 10 times
        slower on 2 KB entries). Without it every line is still hashed and checked
        against the signed roots, its index read from the line, and system entries
        (genesis, members) parsed in full.
    """
    path = Path(directory)
    if not (path / fmt.ENTRIES).is_file():
        raise LogError(f"{path} is not a vatio log (no {fmt.ENTRIES}).", "Give the log directory.")
    if type(quorum) is not int or quorum < 0:
        raise LogError(f"Quorum {quorum!r} is not a count of cosigners.", "Give 0 or more.")
    saved = _read_saved(saved_checkpoint)
    lock = FileLock(path / fmt.LOCK, exclusive=False) if _lock else contextlib.nullcontext()
    with lock:
        return _Check(path, verifiers, quorum, saved, allow_unsigned_tail, deep).run()


def _span(one: str, many: str, lo: int, hi: int) -> str:
    return f"{one} {lo}" if lo == hi else f"{many} {lo}–{hi}"


def _read_saved(saved: str | bytes | os.PathLike[str] | None) -> tuple[Checkpoint, Note] | None:
    if saved is None:
        return None
    if isinstance(saved, os.PathLike):
        try:
            saved = Path(saved).read_bytes()
        except OSError as e:
            raise LogError(f"Cannot read the saved checkpoint {saved}: {e.strerror}.") from None
    try:
        return parse_checkpoint(saved)
    except NoteError as e:
        raise LogError(f"The saved checkpoint is not a checkpoint: {e.message}") from None


class _Check:
    def __init__(
        self,
        path: Path,
        verifiers: Sequence[Verifier] | None,
        quorum: int,
        saved: tuple[Checkpoint, Note] | None,
        allow_tail: bool,
        deep: bool = False,
    ) -> None:
        self.path, self.quorum, self.saved, self.allow_tail = path, quorum, saved, allow_tail
        self.deep = deep
        self.caller = list(verifiers) if verifiers is not None else None
        self.problems: list[Problem] = []
        self._counts: dict[str, int] = {}
        self.roots: dict[int, bytes] = {0: EMPTY_ROOT}

    def problem(self, kind: str, where: str, detail: str) -> None:
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        if n <= MAX_PROBLEMS_PER_KIND:
            self.problems.append(Problem(kind, where, detail))
        elif n == MAX_PROBLEMS_PER_KIND + 1:
            self.problems.append(Problem(kind, "…", f"more {kind} problems not listed"))

    # --- the steps -------------------------------------------------------------------------

    def run(self) -> VerifyReport:
        history, latest = self._read_checkpoints()
        wanted = set(history)
        if latest:
            wanted.add(latest[0].size)
        if self.saved:
            wanted.add(self.saved[0].size)
        frontier, torn, n_bytes, system = self._read_entries(wanted)
        n = frontier.size
        log_key, origin = self._genesis(system)
        trusted = self._trusted(log_key)
        members = self._members(system, log_key)
        known = self._known(log_key, members)

        signers: list[str] = []
        cosigners: list[CosignerSeen] = []
        first_bad_root = True
        last_ok = 0
        for size in sorted(history):
            _, cp, note = history[size]
            where = f"{fmt.CHECKPOINTS}/{size}"
            if origin is not None and cp.origin != origin:
                self.problem("malformed", where, f"origin {cp.origin!r} is not {origin!r}")
            s, c = self._signatures(where, note, known, log_key, trusted, set(members))
            if size > n:
                self.problem(
                    "missing-entry", where, f"signed for {size} entries but only {n} are left"
                )
            elif self.roots[size] != cp.root:
                if first_bad_root:
                    span = _span("line", "lines", last_ok + 1, size)
                    what = _span("entry", "entries", last_ok, size - 1)
                    self.problem(
                        "digest-mismatch",
                        f"{fmt.ENTRIES} {span}",
                        f"the root signed in {where} no longer matches {what}",
                    )
                first_bad_root = False
            elif first_bad_root:
                last_ok = size
            if latest and size == latest[0].size:
                signers, cosigners = s, c

        self._check_chain(history)
        self._check_latest(history, latest)
        if latest and n > latest[0].size and not self.allow_tail:
            self.problem(
                "unsigned-entries",
                f"{fmt.ENTRIES} {_span('line', 'lines', latest[0].size + 1, n)}",
                f"{n - latest[0].size} entry(ies) appended after the latest checkpoint",
            )
        if self.quorum and len(cosigners) < self.quorum:
            self.problem(
                "quorum-not-met",
                fmt.CHECKPOINT,
                f"{len(cosigners)} member cosignature(s), {self.quorum} required",
            )
        self._check_derived(origin, log_key, members, frontier, n_bytes, torn)
        self._check_saved(n, log_key, known)

        return VerifyReport.from_problems(
            self.problems,
            size=n,
            root_hex=frontier.root().hex(),
            verified_signers=signers,
            cosigners=cosigners,
            checked_entries=n,
            checkpoint_size=latest[0].size if latest else None,
            checkpoints_checked=len(history),
            key_source="caller" if self.caller is not None else "log",
            quorum=self.quorum,
        )

    def _read_checkpoints(
        self,
    ) -> tuple[dict[int, tuple[bytes, Checkpoint, Note]], tuple[Checkpoint, Note, bytes] | None]:
        history: dict[int, tuple[bytes, Checkpoint, Note]] = {}
        cdir = self.path / fmt.CHECKPOINTS
        names = sorted(os.listdir(cdir)) if cdir.is_dir() else []
        if not cdir.is_dir():
            self.problem("malformed", fmt.CHECKPOINTS, "the checkpoint history is missing")
        for name in names:
            where = f"{fmt.CHECKPOINTS}/{name}"
            if name.startswith("."):
                continue  # a temporary file of an interrupted write
            if not _SIZE_NAME.fullmatch(name):
                self.problem("malformed", where, "not a checkpoint file (name is not a tree size)")
                continue
            raw, cp, note = self._read_note(cdir / name, where)
            if cp is None:
                continue
            if cp.size != int(name):
                self.problem("malformed", where, f"holds a checkpoint of size {cp.size}")
                continue
            history[cp.size] = (raw, cp, note)
        raw, cp, note = self._read_note(self.path / fmt.CHECKPOINT, fmt.CHECKPOINT)
        latest = (cp, note, raw) if cp is not None else None
        return history, latest

    def _read_note(self, p: Path, where: str) -> tuple[bytes, Any, Any]:
        try:
            raw = p.read_bytes()
        except FileNotFoundError:
            self.problem("malformed", where, "missing")
            return b"", None, None
        except OSError as e:
            self.problem("malformed", where, f"unreadable: {e.strerror}")
            return b"", None, None
        try:
            cp, note = parse_checkpoint(raw)
        except NoteError as e:
            self.problem("malformed", where, e.message)
            return raw, None, None
        return raw, cp, note

    def _read_entries(
        self, wanted: set[int]
    ) -> tuple[Frontier, bool, int, list[tuple[int, int, dict[str, Any]]]]:
        frontier = Frontier()
        n_bytes = 0
        torn = False
        system: list[tuple[int, int, dict[str, Any]]] = []  # (position, index, entry)
        seen: set[int] = set()
        max_index = -1
        with open(self.path / fmt.ENTRIES, "rb") as f:
            for pos, raw in enumerate(f):
                where = f"{fmt.ENTRIES} line {pos + 1}"
                n_bytes += len(raw)
                if not raw.endswith(b"\n"):
                    torn = True
                    self.problem("malformed", where, "torn last line (an interrupted write?)")
                    break
                line = raw[:-1]
                frontier.append(leaf_hash(line))
                if frontier.size in wanted:
                    self.roots[frontier.size] = frontier.root()
                entry = None
                if self.deep or fmt.may_be_system(line):
                    try:
                        index, entry = fmt.decode_line(line)
                    except ValueError as e:
                        self.problem("malformed", where, str(e))
                        continue
                else:
                    quick = fmt.quick_index(line)
                    if quick is None:
                        self.problem("malformed", where, 'not a {"entry": …, "index": …} line')
                        continue
                    index = quick
                if index in seen:
                    self.problem("duplicate-entry", where, f"entry {index} appears again")
                elif index < max_index:
                    self.problem("reordered", where, f"entry {index} comes after entry {max_index}")
                seen.add(index)
                max_index = max(max_index, index)
                kind = fmt.kind_of(entry) if entry is not None else None
                if kind is not None and kind.startswith(fmt.SYSTEM_PREFIX):
                    system.append((pos, index, entry))
        for i in sorted(set(range(max_index + 1)) - seen):
            self.problem("missing-entry", f"{fmt.ENTRIES} entry {i}", f"entry {i} is missing")
        return frontier, torn, n_bytes, system

    def _genesis(
        self, system: list[tuple[int, int, dict[str, Any]]]
    ) -> tuple[Verifier | None, str | None]:
        where = f"{fmt.ENTRIES} line 1"
        if not system or system[0][0] != 0 or fmt.kind_of(system[0][2]) != fmt.GENESIS:
            self.problem("malformed", where, "the first entry is not the log's genesis entry")
            return None, None
        for pos, _, e in system[1:]:
            if fmt.kind_of(e) == fmt.GENESIS:
                self.problem("malformed", f"{fmt.ENTRIES} line {pos + 1}", "a second genesis")
        g = system[0][2]
        try:
            origin = g["origin"]
            if not isinstance(origin, str):
                raise TypeError
            return Verifier.from_vkey(g["log_vkey"]), origin
        except (KeyError, TypeError, AttributeError, LedgerError):
            self.problem("malformed", where, "the genesis entry has no valid origin and log key")
            return None, None

    def _trusted(self, log_key: Verifier | None) -> bool:
        if log_key is None:
            return False
        if self.caller is None:
            return True
        if any(v.same_key(log_key) and v.name == log_key.name for v in self.caller):
            return True
        self.problem(
            "unknown-signer",
            f"{fmt.ENTRIES} line 1",
            f"the log's key {log_key.vkey} is not among the trusted keys",
        )
        return False

    def _members(
        self, system: list[tuple[int, int, dict[str, Any]]], log_key: Verifier | None
    ) -> dict[str, fmt.Member]:
        members: dict[str, fmt.Member] = {}
        for pos, index, e in system:
            if fmt.kind_of(e) != fmt.MEMBER:
                continue
            where = f"{fmt.ENTRIES} line {pos + 1}"
            if log_key is None or not fmt.member_signature_ok(e, log_key):
                self.problem("bad-signature", where, "member change not signed by the log's key")
                continue
            try:
                fmt.apply_member_entry(members, index, e)
            except (ValueError, LedgerError) as err:
                self.problem("malformed", where, str(err))
        return members

    def _known(self, log_key: Verifier | None, members: dict[str, fmt.Member]) -> list[Verifier]:
        known: dict[str, Verifier] = {}
        views = [log_key] if log_key else []
        for m in members.values():
            views.append(m.verifier)
        for v in views:
            for t in (SIG_ED25519, SIG_COSIGNATURE_V1):
                w = v.as_type(t)
                known[w.vkey] = w
        for v in self.caller or []:
            known[v.vkey] = v
        return list(known.values())

    def _signatures(
        self,
        where: str,
        note: Note,
        known: list[Verifier],
        log_key: Verifier | None,
        trusted: bool,
        member_names: set[str],
    ) -> tuple[list[str], list[CosignerSeen]]:
        try:
            result = verify_note(note, known)
        except NoteError as e:
            self.problem("malformed", where, e.message)
            return [], []
        for s in result.invalid:
            self.problem("bad-signature", where, f"signature by {s.name} does not verify")
        for s in result.unknown:
            self.problem("unknown-signer", where, f"signature by unknown key {s.name}+"
                         f"{s.key_hash.hex()}")  # fmt: skip
        by_log = [
            s for s, v in result.verified
            if log_key is not None and v.sig_type == SIG_ED25519 and v.same_key(log_key)
        ]  # fmt: skip
        if not by_log:
            self.problem("bad-signature", where, "no valid signature by the log's key")
        signers = [s.name for s in by_log] if trusted else []
        signers += [
            s.name for s, v in result.verified
            if v.sig_type == SIG_ED25519 and self.caller and v in self.caller and s not in by_log
        ]  # fmt: skip
        cosigners = [
            CosignerSeen(s.name, cosignature_time(s)) for s, v in result.verified
            if v.sig_type == SIG_COSIGNATURE_V1 and v.name in member_names
        ]  # fmt: skip
        return signers, cosigners

    def _check_chain(self, history: dict[int, tuple[bytes, Checkpoint, Note]]) -> None:
        """Each checkpoint names the one before it: a gap means one was removed."""
        sizes = sorted(history)
        for before, size in zip([None, *sizes], sizes, strict=False):
            where = f"{fmt.CHECKPOINTS}/{size}"
            try:
                prev = fmt.previous_size(history[size][1].extensions)
            except ValueError as e:
                self.problem("malformed", where, str(e))
                continue
            if prev != before:
                if prev is not None and prev not in history:
                    detail = f"{fmt.CHECKPOINTS}/{prev}, signed before it, is missing"
                else:
                    detail = f"it follows checkpoint {prev}, the history has {before}"
                self.problem("malformed", where, detail)

    def _check_latest(
        self,
        history: dict[int, tuple[bytes, Checkpoint, Note]],
        latest: tuple[Checkpoint, Note, bytes] | None,
    ) -> None:
        if latest is None:
            return
        cp, _, raw = latest
        if cp.size not in history:
            self.problem("malformed", fmt.CHECKPOINT, f"{fmt.CHECKPOINTS}/{cp.size} is missing")
        elif history[cp.size][0] != raw:
            self.problem("malformed", fmt.CHECKPOINT, f"differs from {fmt.CHECKPOINTS}/{cp.size}")
        if history and cp.size != max(history):
            self.problem("malformed", fmt.CHECKPOINT, f"is not the latest ({max(history)} exists)")

    def _check_derived(
        self,
        origin: str | None,
        log_key: Verifier | None,
        members: dict[str, fmt.Member],
        frontier: Frontier,
        n_bytes: int,
        torn: bool,
    ) -> None:
        if origin is not None and log_key is not None:
            try:
                have = (self.path / fmt.MEMBERS).read_bytes()
            except OSError:
                have = None
            if have != fmt.members_bytes(origin, log_key, members):
                self.problem("malformed", fmt.MEMBERS, "does not match the member entries")
        if not torn:
            try:
                have = (self.path / fmt.STATE).read_bytes()
            except OSError:
                have = None
            if have != fmt.state_bytes(n_bytes, frontier):
                self.problem(
                    "malformed", fmt.STATE, "does not match the entries (repair() rebuilds it)"
                )

    def _check_saved(self, n: int, log_key: Verifier | None, known: list[Verifier]) -> None:
        if self.saved is None:
            return
        cp, note = self.saved
        where = "saved checkpoint"
        result = verify_note(note, known)
        for s in result.invalid:
            self.problem("bad-signature", where, f"signature by {s.name} does not verify")
        if log_key is None or not any(
            v.sig_type == SIG_ED25519 and v.same_key(log_key) for _, v in result.verified
        ):
            names = ", ".join(s.name for s in note.signatures)
            self.problem(
                "log-rewritten",
                where,
                f"it was signed by {names}, not by this log's key: the log was re-created "
                "or its key replaced",
            )
        if cp.size > n:
            self.problem(
                "log-rewritten",
                where,
                f"the log had {cp.size} entries when it was saved and has {n} now",
            )
        elif self.roots.get(cp.size) != cp.root:
            self.problem(
                "log-rewritten",
                where,
                f"the first {cp.size} entries no longer hash to the saved root",
            )
