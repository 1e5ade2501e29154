"""Tamper-evident, signed, append-only logs (RFC 6962 hashing, Ed25519, C2SP formats).

Pure library: it knows nothing of runs or stores. ``cryptography`` is imported
only when a key is made or a signature checked. See docs/ledger.md.
"""

from __future__ import annotations

from vatio.ledger.checkpoint import (
    Checkpoint,
    Cosignature,
    cosign_checkpoint,
    count_valid,
    parse_checkpoint,
    sign_checkpoint,
    verify_cosignatures,
)
from vatio.ledger.errors import LedgerError, LedgerKeyError, LogError, NoteError
from vatio.ledger.filelog import FileLog, LogEntry, verify_log
from vatio.ledger.keys import (
    CosignerKey,
    SigningKey,
    Verifier,
    default_key_path,
    load_or_create_key,
)
from vatio.ledger.merkle import (
    Frontier,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from vatio.ledger.note import (
    Note,
    NoteSignature,
    NoteVerification,
    add_signature,
    parse_note,
    sign_note,
    verify_note,
)
from vatio.ledger.verify import Problem, VerifyReport

__all__ = [
    "Checkpoint",
    "Cosignature",
    "CosignerKey",
    "FileLog",
    "Frontier",
    "LedgerError",
    "LedgerKeyError",
    "LogEntry",
    "LogError",
    "MerkleTree",
    "Note",
    "NoteError",
    "NoteSignature",
    "NoteVerification",
    "Problem",
    "SigningKey",
    "Verifier",
    "VerifyReport",
    "add_signature",
    "consistency_proof",
    "cosign_checkpoint",
    "count_valid",
    "default_key_path",
    "inclusion_proof",
    "leaf_hash",
    "load_or_create_key",
    "node_hash",
    "parse_checkpoint",
    "parse_note",
    "root",
    "sign_checkpoint",
    "sign_note",
    "verify_consistency",
    "verify_cosignatures",
    "verify_inclusion",
    "verify_log",
    "verify_note",
]
