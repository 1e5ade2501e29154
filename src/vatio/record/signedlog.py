"""The signed log as a store holds it, checked: its leaves, its latest checkpoint (signature,
origin, size, root), checkpoints handed out earlier (still a prefix?) and cosignatures.

What `vatio.record.audit` builds its answers on; problems found go to the caller's list.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from vatio.ledger.verify import CosignerSeen, Problem


@dataclass
class SignedLog:
    leaves: list[bytes]
    index_of: dict[str, int]
    checkpoint: str | None
    problems: list[Problem]

    @functools.cached_property
    def tree(self) -> Any:
        """Every level of the tree, hashed once for the root and all the proofs (a tree of
        100,000 leaves costs ~0.3 s here; it was hashed three times per `runs show`)."""
        from vatio.ledger.merkle import MerkleTree

        return MerkleTree(self.leaves)


def read_log(store: Any) -> SignedLog:
    problems: list[Problem] = []
    leaves: list[bytes] = []
    index_of: dict[str, int] = {}
    for position, (idx, run_id, leaf_hex) in enumerate(store.ledger_leaf_hashes()):
        if idx != position:
            problems.append(
                Problem(
                    "missing-entry" if idx > position else "reordered",
                    f"log leaf {position}",
                    f"leaf indices jump from {position - 1} to {idx}",
                )
            )
        try:
            leaf = bytes.fromhex(leaf_hex)
            if len(leaf) != 32:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(
                Problem("malformed", f"log leaf {position}", "the leaf hash is not 32 hex bytes")
            )
            leaf = b"\0" * 32
        leaves.append(leaf)
        if run_id in index_of:
            problems.append(Problem("duplicate-entry", f"run {run_id}", "the run has two leaves"))
        index_of[run_id] = position
    state = store.ledger_state()
    return SignedLog(leaves, index_of, state.checkpoint if state else None, problems)


def check_checkpoint(
    log: SignedLog, origin: str, verifiers: list[Any], problems: list[Problem]
) -> tuple[Any, list[str]]:
    """The latest checkpoint if its signature holds; the names that signed it."""
    if log.checkpoint is None:
        if log.leaves:
            problems.append(
                Problem("bad-signature", "log", "the log has leaves but no signed checkpoint")
            )
        return None, []
    checkpoint, names = signed_head(log.checkpoint, origin, verifiers, problems)
    if checkpoint is None:
        return None, []
    if checkpoint.size != len(log.leaves):
        kind = "unsigned-entries" if checkpoint.size < len(log.leaves) else "missing-entry"
        problems.append(
            Problem(
                kind,
                "log",
                f"the signed checkpoint counts {checkpoint.size} leaves; the store holds "
                f"{len(log.leaves)}",
            )
        )
    elif log.tree.root() != checkpoint.root:
        problems.append(
            Problem(
                "log-rewritten",
                "log",
                "the leaves no longer hash to the signed root (a leaf was changed, removed or "
                "reordered)",
            )
        )
    return checkpoint, names


def signed_head(
    note: str, origin: str, verifiers: list[Any], problems: list[Problem]
) -> tuple[Any, list[str]]:
    """The checkpoint a note carries and the trusted names whose signatures on it verify;
    what is wrong with it goes to `problems` (None when it cannot be parsed)."""
    from vatio.ledger.checkpoint import parse_checkpoint
    from vatio.ledger.note import verify_note

    try:
        checkpoint, _ = parse_checkpoint(note)
    except Exception as error:
        problems.append(Problem("malformed", "latest checkpoint", f"cannot be parsed: {error}"))
        return None, []
    check = verify_note(note, verifiers)
    if check.invalid:
        problems.append(
            Problem(
                "bad-signature",
                "latest checkpoint",
                f"the signature of {', '.join(s.name for s in check.invalid)} does not verify",
            )
        )
    if not check.verified:
        names = ", ".join(s.name for s in check.unknown) or "nobody"
        problems.append(
            Problem(
                "unknown-signer",
                "latest checkpoint",
                f"signed by {names}, whose key is not trusted here (add it with --trust)",
            )
        )
    if checkpoint.origin != origin:
        problems.append(
            Problem(
                "malformed",
                "latest checkpoint",
                f"its origin {checkpoint.origin!r} is not this store's ({origin!r})",
            )
        )
    return checkpoint, check.verified_names


def check_saved(
    log: SignedLog,
    note: str,
    where: str,
    origin: str,
    verifiers: list[Any],
    problems: list[Problem],
) -> bool:
    """A checkpoint handed out earlier must be a prefix of the log as it is today."""
    from vatio.ledger.checkpoint import parse_checkpoint
    from vatio.ledger.merkle import verify_consistency
    from vatio.ledger.note import verify_note

    try:
        saved, _ = parse_checkpoint(note)
    except Exception as error:
        problems.append(Problem("malformed", where, f"cannot be parsed: {error}"))
        return False
    if saved.origin != origin:
        problems.append(
            Problem(
                "malformed",
                where,
                f"it is a checkpoint of another log ({saved.origin!r}, not {origin!r})",
            )
        )
        return False
    check = verify_note(note, verifiers)
    if not check.verified or check.invalid:
        problems.append(
            Problem("bad-signature", where, "no trusted key's signature on it verifies")
        )
        return False
    if saved.size > len(log.leaves):
        problems.append(
            Problem(
                "log-rewritten",
                where,
                f"it counts {saved.size} leaves but the store's log now has {len(log.leaves)}: "
                "records were removed since it was handed out",
            )
        )
        return False
    tree = log.tree
    if saved.size == 0:
        return True
    proof = tree.consistency_proof(saved.size)
    if not verify_consistency(saved.size, len(log.leaves), saved.root, tree.root(), proof):
        problems.append(
            Problem(
                "log-rewritten",
                where,
                f"the first {saved.size} leaves are no longer those it signed: the log was "
                "rewritten after it was handed out",
            )
        )
        return False
    return True


def cosigners_seen(
    log: SignedLog,
    cosigners: list[Any],
    verifiers: list[Any],
    required: int,
    problems: list[Problem],
) -> list[CosignerSeen]:
    if log.checkpoint is None or (not cosigners and not required):
        return []
    from vatio.ledger.checkpoint import verify_cosignatures

    found = verify_cosignatures(log.checkpoint, cosigners)
    seen = [CosignerSeen(c.name, c.timestamp) for c in found]
    if len(seen) < required:
        problems.append(
            Problem(
                "quorum-not-met",
                "latest checkpoint",
                f"{len(seen)} trusted cosignature(s); {required} required",
            )
        )
    return seen
