"""Tamper-evident, signed, append-only logs (RFC 6962 hashing, Ed25519, C2SP formats).

Pure library: it knows nothing of runs or stores. ``cryptography`` is imported
only when a key is made or a signature checked. See docs/ledger.md.
"""

from __future__ import annotations

from vatio.lazy import lazy_attributes

#: public name -> module; loaded on first use, so `import vatio.ledger` costs nothing
_LAZY = {
    "Checkpoint": "vatio.ledger.checkpoint",
    "Cosignature": "vatio.ledger.checkpoint",
    "CosignerKey": "vatio.ledger.keys",
    "FileLog": "vatio.ledger.filelog",
    "Frontier": "vatio.ledger.merkle",
    "LedgerError": "vatio.ledger.errors",
    "LedgerKeyError": "vatio.ledger.errors",
    "LogEntry": "vatio.ledger.filelog",
    "LogError": "vatio.ledger.errors",
    "MerkleTree": "vatio.ledger.merkle",
    "Note": "vatio.ledger.note",
    "NoteError": "vatio.ledger.errors",
    "NoteSignature": "vatio.ledger.note",
    "NoteVerification": "vatio.ledger.note",
    "Problem": "vatio.ledger.verify",
    "SigningKey": "vatio.ledger.keys",
    "Verifier": "vatio.ledger.keys",
    "VerifyReport": "vatio.ledger.verify",
    "add_signature": "vatio.ledger.note",
    "consistency_proof": "vatio.ledger.merkle",
    "cosign_checkpoint": "vatio.ledger.checkpoint",
    "count_valid": "vatio.ledger.checkpoint",
    "default_key_path": "vatio.ledger.keyfile",
    "inclusion_proof": "vatio.ledger.merkle",
    "leaf_hash": "vatio.ledger.merkle",
    "load_or_create_key": "vatio.ledger.keyfile",
    "node_hash": "vatio.ledger.merkle",
    "parse_checkpoint": "vatio.ledger.checkpoint",
    "parse_note": "vatio.ledger.note",
    "root": "vatio.ledger.merkle",
    "sign_checkpoint": "vatio.ledger.checkpoint",
    "sign_note": "vatio.ledger.note",
    "verify_consistency": "vatio.ledger.merkle",
    "verify_cosignatures": "vatio.ledger.checkpoint",
    "verify_inclusion": "vatio.ledger.merkle",
    "verify_log": "vatio.ledger.filelog",
    "verify_note": "vatio.ledger.note",
}
__all__ = sorted(_LAZY)


__getattr__ = lazy_attributes(__name__, _LAZY)
