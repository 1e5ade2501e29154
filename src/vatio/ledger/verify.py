"""The result of checking a log: what holds, and each problem found, named and located.

Shared by the file log (``verify_log``) and the store-backed run log, so that
the CLI, reports and JSON output speak one language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PROBLEM_KINDS = {
    "digest-mismatch": "a record or entry no longer hashes to what was logged and signed",
    "missing-leaf": "a record has no leaf in the log",
    "missing-entry": "the log's signed tree counts an entry that is gone",
    "duplicate-entry": "an entry appears twice",
    "reordered": "entries are not in the order they were logged",
    "bad-signature": "a signature by a known key does not verify, or a required one is missing",
    "unknown-signer": "a signature, or the log's key, is not among the trusted keys",
    "log-rewritten": "the log is not an extension of a checkpoint handed out earlier",
    "quorum-not-met": "fewer member cosignatures than required",
    "unsigned-entries": "entries were appended after the latest signed checkpoint",
    "malformed": "a file or field that cannot be parsed, or does not match what it derives from",
}


@dataclass(frozen=True)
class Problem:
    kind: str  # one of PROBLEM_KINDS
    where: str  # e.g. "entries.jsonl line 4", "checkpoints/3", "run 0f3a…"
    detail: str  # one sentence for people

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "detail": self.detail}

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}: {self.detail}"


@dataclass(frozen=True)
class CosignerSeen:
    name: str
    timestamp: int  # POSIX seconds, as the cosigner claims

    def to_dict(self) -> dict[str, Any]:
        when = datetime.fromtimestamp(self.timestamp, UTC).isoformat()
        return {"name": self.name, "timestamp": self.timestamp, "time": when}


@dataclass
class VerifyReport:
    """What was checked and what failed. ``ok`` is True only with no problems."""

    ok: bool
    size: int  # entries (leaves) found
    root_hex: str  # root recomputed over them
    problems: list[Problem] = field(default_factory=list)
    verified_signers: list[str] = field(default_factory=list)  # log key(s) whose signature held
    cosigners: list[CosignerSeen] = field(default_factory=list)  # valid cosignatures, latest cp
    checked_entries: int = 0
    checkpoint_size: int | None = None  # size of the latest signed checkpoint
    checkpoints_checked: int = 0
    key_source: str = "caller"  # "caller": keys given; "log": keys read from the log itself
    quorum: int = 0

    @classmethod
    def from_problems(cls, problems: list[Problem], **kwargs: Any) -> VerifyReport:
        return cls(ok=not problems, problems=problems, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "size": self.size,
            "root": self.root_hex,
            "checkpoint_size": self.checkpoint_size,
            "checked_entries": self.checked_entries,
            "checkpoints_checked": self.checkpoints_checked,
            "verified_signers": list(self.verified_signers),
            "cosigners": [c.to_dict() for c in self.cosigners],
            "quorum": self.quorum,
            "key_source": self.key_source,
            "problems": [p.to_dict() for p in self.problems],
        }

    def summary(self) -> str:
        if self.ok:
            signers = ", ".join(self.verified_signers) or "nobody"
            cos = f", {len(self.cosigners)} cosigner(s)" if self.cosigners else ""
            trust = " (keys read from the log itself)" if self.key_source == "log" else ""
            return (
                f"verified: {self.checked_entries} entries, checkpoint {self.checkpoint_size} "
                f"signed by {signers}{cos}{trust}"
            )
        kinds: dict[str, int] = {}
        for p in self.problems:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        listed = ", ".join(f"{n} {k}" for k, n in kinds.items())
        first = self.problems[0]
        return f"NOT verified: {len(self.problems)} problem(s) ({listed}); first: {first}"
