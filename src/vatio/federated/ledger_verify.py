"""Verification of a federated run's ledger (`vatio fl verify`, `verify_fl_log`).

vatio.ledger's verify_log checks the log as a log; this adds what a federated
run promises: every logged update verifies with a client member's key, and
every round checkpoint carries the run's quorum of member cosignatures.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatio.federated.ledger import FINAL, REJECTED, ROUND, RUN, UPDATE, read_membership


@dataclass
class FlVerifyReport:
    ok: bool
    log: dict[str, Any]  # vatio.ledger VerifyReport.to_dict()
    rounds: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    quorum: int = 0
    members: list[dict[str, str]] = field(default_factory=list)
    updates: int = 0
    rejected: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "quorum": self.quorum,
            "rounds": self.rounds,
            "updates": self.updates,
            "rejected": self.rejected,
            "members": self.members,
            "problems": self.problems,
            "log": self.log,
        }

    def summary(self) -> str:
        if self.ok:
            return (
                f"verified: {len(self.rounds)} round checkpoint(s), each cosigned by at least "
                f"{self.quorum} member(s); {self.updates} signed update(s), "
                f"{self.rejected} rejection(s) logged; {self.log.get('checked_entries')} entries"
            )
        first = self.problems[0]
        return (
            f"NOT verified: {len(self.problems)} problem(s); first: {first['kind']} at "
            f"{first['where']}: {first['detail']}"
        )


def verify_fl_log(
    folder: str | Path,
    *,
    quorum: int | None = None,
    members_file: str | Path | None = None,
    trusted_server_vkey: str | None = None,
) -> FlVerifyReport:
    """Check a run's ledger (its folder or the run's): every byte, order, signatures, quorum.

    The whole log is checked with vatio.ledger's verify_log (changed bytes,
    removed or reordered entries, forged or unknown signatures, derived files).
    On top of it: every fl/update's signature is re-checked against the member
    keys, and every round checkpoint (the one signed right after each fl/round
    entry, and the final one) must carry at least `quorum` member cosignatures.
    `quorum` defaults to the one the run declared in its fl/run entry.
    `members_file` / `trusted_server_vkey`: keys obtained out of band; without
    them the keys are read from the log itself (and the report says so).
    """
    from vatio.ledger import LogError, Verifier, verify_log
    from vatio.ledger.checkpoint import count_valid

    folder = Path(folder)
    if (folder / "ledger" / "entries.jsonl").is_file():  # a run folder, .vatio/fl/RUN_ID
        folder = folder / "ledger"
    problems: list[dict[str, str]] = []
    verifiers = None
    if trusted_server_vkey:
        verifiers = [Verifier.from_vkey(trusted_server_vkey)]
    try:
        base = verify_log(folder, verifiers=verifiers, deep=True)
    except LogError as error:
        return FlVerifyReport(
            False, {}, problems=[{"kind": "malformed", "where": str(folder), "detail": str(error)}]
        )
    problems.extend(p.to_dict() for p in base.problems)
    entries, damaged = _read_entries(folder)
    if damaged:
        problems.append(damaged)
    run = next((e for _, e in entries if e.get("kind") == RUN), None)
    if run is None:
        problems.append(
            {
                "kind": "malformed",
                "where": "entries.jsonl",
                "detail": "no fl/run entry: not a federated run's ledger",
            }
        )
    k = quorum if quorum is not None else int((run or {}).get("quorum", 0))
    members, log_verifier = _members(folder, entries)
    if members_file is not None:
        expected = {m.vkey for m in read_membership(members_file)}
        logged = {m["vkey"] for m in members}
        for vkey in sorted(logged - expected):
            problems.append(
                {
                    "kind": "unknown-signer",
                    "where": "members",
                    "detail": f"member {vkey.split('+')[0]} is not in {members_file}",
                }
            )
        for vkey in sorted(expected - logged):
            problems.append(
                {
                    "kind": "malformed",
                    "where": "members",
                    "detail": f"{vkey.split('+')[0]} of {members_file} is not a member",
                }
            )
    member_verifiers = [v for v in (_verifier(m["vkey"]) for m in members) if v is not None]
    if len(member_verifiers) != len(members):
        problems.append(
            {
                "kind": "malformed",
                "where": "members",
                "detail": "a member's key in the log cannot be read",
            }
        )
    problems.extend(_check_updates(entries, members))

    rounds: list[dict[str, Any]] = []
    checkpoint_dir = folder / "checkpoints"
    sizes = (
        sorted(int(p.name) for p in checkpoint_dir.iterdir() if p.name.isdigit())
        if checkpoint_dir.is_dir()
        else []
    )
    for index, entry in entries:
        if entry.get("kind") not in (ROUND, FINAL):
            continue
        label = f"round {entry.get('round')}" if entry.get("kind") == ROUND else "final"
        size = next((s for s in sizes if s > index), None)
        if size is None:
            problems.append(
                {
                    "kind": "missing-entry",
                    "where": "checkpoints",
                    "detail": f"no checkpoint covers {label} (entry {index})",
                }
            )
            rounds.append({"label": label, "size": None, "cosigners": 0, "ok": False})
            continue
        note = (checkpoint_dir / str(size)).read_text(encoding="utf-8")
        try:
            count = count_valid(note, member_verifiers, log_verifier) if log_verifier else 0
        except Exception:
            count = 0
        ok = count >= k
        if not ok:
            problems.append(
                {
                    "kind": "quorum-not-met",
                    "where": f"checkpoints/{size}",
                    "detail": f"{label}: {count} member cosignature(s), {k} required",
                }
            )
        rounds.append({"label": label, "size": size, "cosigners": count, "ok": ok})
    if run is not None and not any(r["label"] == "final" for r in rounds):
        problems.append(
            {
                "kind": "missing-entry",
                "where": "entries.jsonl",
                "detail": "no fl/final entry: the run's end is not in the log",
            }
        )
    return FlVerifyReport(
        ok=not problems,
        log=base.to_dict(),
        rounds=rounds,
        problems=problems,
        quorum=k,
        members=[{"name": m["name"], "role": m["role"]} for m in members],
        updates=sum(1 for _, e in entries if e.get("kind") == UPDATE),
        rejected=sum(1 for _, e in entries if e.get("kind") == REJECTED),
    )


def _verifier(vkey: Any) -> Any:
    from vatio.ledger import LedgerError, Verifier

    try:
        return Verifier.from_vkey(vkey)
    except (LedgerError, AttributeError, TypeError, ValueError):
        return None


def _read_entries(folder: Path) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, str] | None]:
    """(index, entry) of every readable line; a damaged line is reported by verify_log too."""
    out: list[tuple[int, dict[str, Any]]] = []
    damaged = None
    try:
        lines = (folder / "entries.jsonl").read_bytes().split(b"\n")
    except OSError as error:
        return [], {"kind": "malformed", "where": "entries.jsonl", "detail": str(error)}
    for number, raw in enumerate(lines, 1):
        if not raw:
            continue
        try:
            obj = json.loads(raw)
            out.append((int(obj["index"]), dict(obj["entry"])))
        except (ValueError, KeyError, TypeError):
            damaged = damaged or {
                "kind": "malformed",
                "where": f"entries.jsonl line {number}",
                "detail": "not a log entry",
            }
    return out, damaged


def _members(folder: Path, entries: list[tuple[int, dict[str, Any]]]) -> tuple[list, Any]:
    """Members and the log's key as the entries say (their signatures are verify_log's job)."""
    log_verifier = None
    members: dict[str, dict[str, str]] = {}
    for _, entry in entries:
        kind = entry.get("kind")
        try:
            if kind == "vatio.ledger/genesis":
                log_verifier = _verifier(entry["log_vkey"])
            elif kind == "vatio.ledger/member" and entry.get("action") == "add":
                members[entry["name"]] = {
                    "name": entry["name"],
                    "role": entry["role"],
                    "vkey": entry["vkey"],
                }
            elif kind == "vatio.ledger/member" and entry.get("action") == "remove":
                members.pop(entry.get("name"), None)
        except Exception:
            continue
    return list(members.values()), log_verifier


def _check_updates(
    entries: list[tuple[int, dict[str, Any]]], members: list[dict[str, str]]
) -> list[dict[str, str]]:
    """Every logged update must verify with a client member's key (the server checked it)."""
    from vatio.federated.protocol import SignedUpdate, statement_bytes

    keys = {}
    for m in members:
        v = _verifier(m["vkey"]) if m["role"] == "client" else None
        if v is not None:
            keys[v.key_id] = v
    out = []
    for index, entry in entries:
        if entry.get("kind") != UPDATE:
            continue
        statement = entry.get("statement")
        update = SignedUpdate(
            statement if isinstance(statement, dict) else {},
            str(entry.get("signature", "")),
            str(entry.get("key_id", "")),
        )
        verifier = keys.get(update.key_id)
        where = f"entries.jsonl entry {index}"
        if verifier is None:
            out.append(
                {
                    "kind": "unknown-signer",
                    "where": where,
                    "detail": f"update signed by key {update.key_id}, not a client member",
                }
            )
            continue
        try:
            signature = base64.b64decode(update.signature, validate=True)
            valid = verifier.verify(statement_bytes(update.statement), signature)
        except (ValueError, TypeError):
            valid = False
        if not valid:
            out.append(
                {
                    "kind": "bad-signature",
                    "where": where,
                    "detail": f"the update's signature does not verify ({verifier.name})",
                }
            )
        elif update.statement.get("digest") != entry.get("digest"):
            out.append(
                {
                    "kind": "digest-mismatch",
                    "where": where,
                    "detail": "the logged digest is not the one the client signed",
                }
            )
    return out
