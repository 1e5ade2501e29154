"""Signed model updates: what a client signs, and the server's rules for accepting one.

A client signs a *statement*: run, round, its pseudonymous id, the SHA-256 of
the update's arrays (digest.py), the number of examples, and what vatio
measured while it trained (time, energy, bytes). The signature is plain
Ed25519 over a context line and the statement's canonical JSON, with the
client's member key.

The server accepts an update only if (in this order):
  1. it carries a signature                           else "missing-signature"
  2. the key belongs to a client member of the run    else "unlisted-key"
  3. the signature verifies over the statement        else "bad-signature"
  4. the statement's digest is the received arrays'   else "bad-signature" (altered in transit)
  5. the statement is for this run and this round     else "replayed"
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from vatio.canonical import canonical_json

UPDATE_CONTEXT = b"vatio-fl-update/v1\n"
REASONS = ("missing-signature", "unlisted-key", "bad-signature", "replayed")


@dataclass(frozen=True)
class SignedUpdate:
    statement: dict[str, Any]
    signature: str  # base64 of the 64-byte Ed25519 signature
    key_id: str  # hex SHA-256(public key)[:8] of the signer

    def to_record(self) -> dict[str, str]:
        """Flat strings, to travel in a Flower ConfigRecord."""
        return {
            "statement": json.dumps(self.statement, sort_keys=True),
            "signature": self.signature,
            "key_id": self.key_id,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SignedUpdate | None:
        try:
            return cls(json.loads(record["statement"]), record["signature"], record["key_id"])
        except (KeyError, TypeError, ValueError):
            return None


def statement_bytes(statement: dict[str, Any]) -> bytes:
    return UPDATE_CONTEXT + canonical_json(statement)


def make_statement(
    *,
    run: str,
    round: int,
    client: str,
    digest: str,
    num_examples: int,
    measure: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "v": 1,
        "run": run,
        "round": int(round),
        "client": client,
        "digest": digest,
        "num_examples": int(num_examples),
        "measure": measure or {},
    }


def sign_update(key: Any, statement: dict[str, Any]) -> SignedUpdate:
    """Sign with a vatio.ledger SigningKey."""
    signature = key.sign(statement_bytes(statement))
    return SignedUpdate(statement, base64.b64encode(signature).decode("ascii"), key.key_id)


@dataclass(frozen=True)
class Decision:
    accepted: bool
    reason: str | None  # one of REASONS when rejected
    detail: str
    member: str | None = None  # the member name of the signer, when known


def check_update(
    update: SignedUpdate | None,
    members: list[Any],
    *,
    digest: str,
    run: str,
    round: int,
) -> Decision:
    """Apply the rules above; `members` are vatio.ledger members (name, role, verifier)."""
    if update is None:
        return Decision(False, "missing-signature", "the update carries no vatio signature")
    clients = {m.verifier.key_id: m for m in members if m.role == "client"}
    member = clients.get(update.key_id)
    if member is None:
        return Decision(
            False, "unlisted-key", f"key {update.key_id} is not a client in the membership"
        )
    try:
        signature = base64.b64decode(update.signature, validate=True)
    except ValueError:
        return Decision(False, "bad-signature", "the signature is not base64", member.name)
    if not member.verifier.verify(statement_bytes(update.statement), signature):
        return Decision(
            False,
            "bad-signature",
            f"the signature does not verify with {member.name}'s key",
            member.name,
        )
    if update.statement.get("digest") != digest:
        return Decision(
            False,
            "bad-signature",
            "the signed digest is not the received update's: the update was altered after signing",
            member.name,
        )
    if update.statement.get("run") != run or update.statement.get("round") != round:
        return Decision(
            False,
            "replayed",
            f"signed for run {update.statement.get('run')} round "
            f"{update.statement.get('round')}, not run {run} round {round}",
            member.name,
        )
    return Decision(True, None, "accepted", member.name)
