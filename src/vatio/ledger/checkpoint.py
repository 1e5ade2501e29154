"""C2SP tlog-checkpoints (https://c2sp.org/tlog-checkpoint) and Ed25519 cosignatures.

A checkpoint is a signed note whose text is::

    <origin>
    <tree size, decimal, no leading zeros>
    <base64 of the 32-byte RFC 6962 root hash>
    [extension lines, non-empty]

A cosigner (https://c2sp.org/tlog-cosignature, type 0x04) adds a note
signature whose bytes are an 8-byte big-endian POSIX timestamp and an Ed25519
signature over ``cosignature/v1\\ntime <ts>\\n`` followed by the checkpoint text.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from vatio.ledger.errors import NoteError
from vatio.ledger.keys import (
    SIG_COSIGNATURE_V1,
    CosignerKey,
    SigningKey,
    Verifier,
    _b64,
    b64decode_strict,
)
from vatio.ledger.merkle import HASH_SIZE
from vatio.ledger.note import (
    Note,
    NoteSignature,
    NoteSigner,
    NoteVerification,
    add_signature,
    parse_note,
    sign_note,
    verify_note,
)

_SIZE = re.compile(r"0|[1-9][0-9]*")
_MAX_SIZE = 2**63 - 1


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("A checkpoint origin must be one non-empty line.")
        if type(self.size) is not int or not 0 <= self.size <= _MAX_SIZE:
            raise NoteError(f"Checkpoint size {self.size!r} is not a tree size.")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise NoteError("A checkpoint root must be a 32-byte SHA-256 hash.")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        if any(not e or "\n" in e for e in self.extensions):
            raise NoteError("Checkpoint extension lines must be non-empty single lines.")

    def body(self) -> str:
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "\n".join(lines) + "\n"

    @property
    def root_hex(self) -> str:
        return self.root.hex()


def parse_checkpoint_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("A checkpoint has an origin, a size and a root hash, one per line.")
    origin, size, root64, *ext = lines[:-1]
    if not origin:
        raise NoteError("The checkpoint's origin line is empty.")
    if not _SIZE.fullmatch(size) or int(size) > _MAX_SIZE:
        raise NoteError(f"The checkpoint size {size[:30]!r} is not a decimal tree size.")
    try:
        root = b64decode_strict(root64)
    except ValueError:
        raise NoteError("The checkpoint root hash is not canonical base64.") from None
    if len(root) != HASH_SIZE:
        raise NoteError("The checkpoint root hash is not 32 bytes.")
    return Checkpoint(origin, int(size), root, tuple(ext))


def parse_checkpoint(note_text: str | bytes) -> tuple[Checkpoint, Note]:
    """Parse (not verify) a checkpoint note; NoteError if it is malformed."""
    note = parse_note(note_text)
    return parse_checkpoint_body(note.body), note


def sign_checkpoint(cp: Checkpoint, key: NoteSigner) -> str:
    return sign_note(cp.body(), key)


def cosign_checkpoint(
    note_text: str | bytes, key: SigningKey | CosignerKey, timestamp: int | None = None
) -> str:
    """Add (or replace) the cosignature of ``key`` on a checkpoint note.

    A cosignature says "I checked this tree is consistent with what I saw
    before"; check that (e.g. with verify_log or a consistency proof) first.
    """
    cosigner = key.cosigner() if isinstance(key, SigningKey) else key
    parse_checkpoint(note_text)  # must be a checkpoint, not any note

    class _At:
        name, key_hash = cosigner.name, cosigner.key_hash

        @staticmethod
        def note_signature(text: bytes) -> bytes:
            return cosigner.note_signature(text, timestamp)

    return add_signature(note_text, _At)


class Cosignature(NamedTuple):
    """A verified cosignature: who, and when (POSIX seconds, as the cosigner claims)."""

    name: str
    timestamp: int


def _cosigner_views(verifiers: Iterable[Verifier]) -> list[Verifier]:
    """Cosigner (0x04) verifiers; a 0x01 key is also tried as a cosigner of the same name."""
    out: dict[str, Verifier] = {}
    for v in verifiers:
        c = v if v.sig_type == SIG_COSIGNATURE_V1 else v.as_type(SIG_COSIGNATURE_V1)
        out[c.vkey] = c
    return list(out.values())


def check_cosignatures(
    note_text: str | bytes | Note, verifiers: Iterable[Verifier]
) -> NoteVerification:
    """Check the cosignatures of the given keys (0x01 keys are tried as 0x04 cosigners)."""
    note = note_text if isinstance(note_text, Note) else parse_note(note_text)
    parse_checkpoint_body(note.body)
    return verify_note(note, _cosigner_views(verifiers))


def cosignature_time(sig: NoteSignature) -> int:
    """The timestamp of a type 0x04 cosignature (its first 8 bytes, big-endian)."""
    return struct.unpack(">Q", sig.sig[:8])[0]


def verify_cosignatures(
    note_text: str | bytes | Note, verifiers: Iterable[Verifier]
) -> list[Cosignature]:
    """The valid cosignatures by the given keys, with their timestamps (others ignored)."""
    result = check_cosignatures(note_text, verifiers)
    return [Cosignature(s.name, cosignature_time(s)) for s, _ in result.verified]


def count_valid(note_text: str | bytes, members: Sequence[Verifier], log_verifier: Verifier) -> int:
    """How many distinct member keys cosigned a checkpoint the log validly signed.

    0 when the log's own signature is missing or bad: cosignatures of a
    checkpoint the log did not sign prove nothing about the log.
    """
    cp_note = parse_note(note_text)
    parse_checkpoint_body(cp_note.body)
    log_check = verify_note(cp_note, [log_verifier])
    if not log_check.ok:
        return 0
    result = check_cosignatures(cp_note, members)
    return len({v.public_bytes for _, v in result.verified})
