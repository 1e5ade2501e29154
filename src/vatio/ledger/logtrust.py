"""Which keys a file log's checkpoints are judged by, and what their signatures prove.

Settled once per check (``settle_trust``) so every checkpoint is judged by the
same keys: the caller's, or else the log's own genesis key, plus the members
the log's key admitted. A signature only counts for a signer the caller trusts.
"""

from __future__ import annotations

from dataclasses import dataclass

from vatio.ledger import logformat as fmt
from vatio.ledger.checkpoint import cosignature_time
from vatio.ledger.errors import LedgerError, NoteError
from vatio.ledger.keys import SIG_COSIGNATURE_V1, SIG_ED25519, Verifier
from vatio.ledger.logread import ProblemSink, SystemEntries
from vatio.ledger.note import Note, verify_note
from vatio.ledger.verify import CosignerSeen


@dataclass(frozen=True)
class Trust:
    """The keys of one check: the log's, the caller's, the members', and all that verify."""

    log_key: Verifier | None
    caller: list[Verifier] | None  # None: the caller left the log's key to the log
    trusted: bool  # the log's key is one the caller trusts
    members: dict[str, fmt.Member]
    known: list[Verifier]  # every key a signature may verify against

    def signatures(
        self, where: str, note: Note, problem: ProblemSink
    ) -> tuple[list[str], list[CosignerSeen]]:
        """The trusted signers and member cosigners of one checkpoint note."""
        try:
            result = verify_note(note, self.known)
        except NoteError as e:
            problem("malformed", where, e.message)
            return [], []
        for s in result.invalid:
            problem("bad-signature", where, f"signature by {s.name} does not verify")
        for s in result.unknown:
            problem("unknown-signer", where, f"signature by unknown key {s.name}+"
                    f"{s.key_hash.hex()}")  # fmt: skip
        log_key, caller = self.log_key, self.caller
        by_log = [
            s for s, v in result.verified
            if log_key is not None and v.sig_type == SIG_ED25519 and v.same_key(log_key)
        ]  # fmt: skip
        if not by_log:
            problem("bad-signature", where, "no valid signature by the log's key")
        signers = [s.name for s in by_log] if self.trusted else []
        signers += [
            s.name for s, v in result.verified
            if v.sig_type == SIG_ED25519 and caller and v in caller and s not in by_log
        ]  # fmt: skip
        member_names = set(self.members)
        cosigners = [
            CosignerSeen(s.name, cosignature_time(s)) for s, v in result.verified
            if v.sig_type == SIG_COSIGNATURE_V1 and v.name in member_names
        ]  # fmt: skip
        return signers, cosigners


def settle_trust(
    system: SystemEntries,
    log_key: Verifier | None,
    caller: list[Verifier] | None,
    problem: ProblemSink,
) -> Trust:
    """Decide the keys once, from the log's key and its member entries."""
    trusted = _trusted(log_key, caller, problem)
    members = _members(system, log_key, problem)
    known = _known(log_key, members, caller)
    return Trust(log_key, caller, trusted, members, known)


def _trusted(log_key: Verifier | None, caller: list[Verifier] | None, problem: ProblemSink) -> bool:
    if log_key is None:
        return False
    if caller is None:
        return True
    if any(v.same_key(log_key) and v.name == log_key.name for v in caller):
        return True
    problem(
        "unknown-signer",
        f"{fmt.ENTRIES} line 1",
        f"the log's key {log_key.vkey} is not among the trusted keys",
    )
    return False


def _members(
    system: SystemEntries, log_key: Verifier | None, problem: ProblemSink
) -> dict[str, fmt.Member]:
    members: dict[str, fmt.Member] = {}
    for pos, index, e in system:
        if fmt.kind_of(e) != fmt.MEMBER:
            continue
        where = f"{fmt.ENTRIES} line {pos + 1}"
        if log_key is None or not fmt.member_signature_ok(e, log_key):
            problem("bad-signature", where, "member change not signed by the log's key")
            continue
        try:
            fmt.apply_member_entry(members, index, e)
        except (ValueError, LedgerError) as err:
            problem("malformed", where, str(err))
    return members


def _known(
    log_key: Verifier | None, members: dict[str, fmt.Member], caller: list[Verifier] | None
) -> list[Verifier]:
    known: dict[str, Verifier] = {}
    views = [log_key] if log_key else []
    for m in members.values():
        views.append(m.verifier)
    for v in views:
        for t in (SIG_ED25519, SIG_COSIGNATURE_V1):
            w = v.as_type(t)
            known[w.vkey] = w
    for v in caller or []:
        known[v.vkey] = v
    return list(known.values())
