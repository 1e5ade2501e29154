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
from collections.abc import Sequence
from pathlib import Path

from vatio.ledger import logformat as fmt
from vatio.ledger.checkpoint import Checkpoint
from vatio.ledger.errors import LogError
from vatio.ledger.fileio import FileLock
from vatio.ledger.keys import SIG_ED25519, Verifier
from vatio.ledger.logread import (
    History,
    Latest,
    read_checkpoints,
    read_entries,
    read_genesis,
    read_saved,
)
from vatio.ledger.logtrust import Trust, settle_trust
from vatio.ledger.merkle import Frontier
from vatio.ledger.note import Note, verify_note
from vatio.ledger.verify import CosignerSeen, Problem, VerifyReport

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
    saved = read_saved(saved_checkpoint)
    lock = FileLock(path / fmt.LOCK, exclusive=False) if _lock else contextlib.nullcontext()
    with lock:
        return _Check(path, verifiers, quorum, saved, allow_unsigned_tail, deep).run()


def _span(one: str, many: str, lo: int, hi: int) -> str:
    return f"{one} {lo}" if lo == hi else f"{many} {lo}–{hi}"


class _Check:
    """One check of one log: collects the problems every step reports, capped per kind."""

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

    def problem(self, kind: str, where: str, detail: str) -> None:
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        if n <= MAX_PROBLEMS_PER_KIND:
            self.problems.append(Problem(kind, where, detail))
        elif n == MAX_PROBLEMS_PER_KIND + 1:
            self.problems.append(Problem(kind, "…", f"more {kind} problems not listed"))

    # --- the steps -------------------------------------------------------------------------

    def run(self) -> VerifyReport:
        history, latest = read_checkpoints(self.path, self.problem)
        wanted = set(history)
        if latest:
            wanted.add(latest[0].size)
        if self.saved:
            wanted.add(self.saved[0].size)
        entries = read_entries(self.path, wanted, self.deep, self.problem)
        frontier, roots = entries.frontier, entries.roots
        n = frontier.size
        log_key, origin = read_genesis(entries.system, self.problem)
        trust = settle_trust(entries.system, log_key, self.caller, self.problem)

        signers: list[str] = []
        cosigners: list[CosignerSeen] = []
        first_bad_root = True
        last_ok = 0
        for size in sorted(history):
            _, cp, note = history[size]
            where = f"{fmt.CHECKPOINTS}/{size}"
            if origin is not None and cp.origin != origin:
                self.problem("malformed", where, f"origin {cp.origin!r} is not {origin!r}")
            s, c = trust.signatures(where, note, self.problem)
            if size > n:
                self.problem(
                    "missing-entry", where, f"signed for {size} entries but only {n} are left"
                )
            elif roots[size] != cp.root:
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
        self._check_derived(origin, trust, frontier, entries.n_bytes, entries.torn)
        self._check_saved(n, trust, roots)

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

    def _check_chain(self, history: History) -> None:
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

    def _check_latest(self, history: History, latest: Latest | None) -> None:
        """checkpoint is a copy of the newest file in checkpoints/, byte for byte."""
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
        trust: Trust,
        frontier: Frontier,
        n_bytes: int,
        torn: bool,
    ) -> None:
        """members.json and state.json are caches: they must be what the entries rebuild."""
        log_key, members = trust.log_key, trust.members
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

    def _check_saved(self, n: int, trust: Trust, roots: dict[int, bytes]) -> None:
        """The log must still extend, under the same key, a checkpoint handed out earlier."""
        if self.saved is None:
            return
        cp, note = self.saved
        where = "saved checkpoint"
        log_key = trust.log_key
        result = verify_note(note, trust.known)
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
        elif roots.get(cp.size) != cp.root:
            self.problem(
                "log-rewritten",
                where,
                f"the first {cp.size} entries no longer hash to the saved root",
            )
