"""C2SP signed notes (https://c2sp.org/signed-note): text, a blank line, signature lines.

    <text ending in a newline>
    <blank line>
    — <key name> base64(4-byte key hash || signature)

Parsing is strict: valid UTF-8, no control characters but newline, canonical
base64, at most 100 signatures and 1 MiB; anything else raises NoteError.
Verification follows the spec: signatures from unknown keys are listed but not
trusted; a known key whose signature fails makes the note invalid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from vatio.ledger.errors import NoteError
from vatio.ledger.keys import Verifier, _b64, b64decode_strict, valid_key_name

SIG_PREFIX = "\u2014 "  # em dash, space
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16
_CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f]")


class NoteSigner(Protocol):
    """What can sign a note: SigningKey (type 0x01) or CosignerKey (type 0x04)."""

    name: str
    key_hash: bytes

    def note_signature(self, text: bytes) -> bytes: ...


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_hash: bytes  # 4 bytes
    sig: bytes  # after the key hash

    def line(self) -> str:
        return f"{SIG_PREFIX}{self.name} {_b64(self.key_hash + self.sig)}\n"


@dataclass(frozen=True)
class Note:
    body: str  # ends in "\n"
    signatures: tuple[NoteSignature, ...]

    def text(self) -> str:
        return self.body + "\n" + "".join(s.line() for s in self.signatures)


@dataclass
class NoteVerification:
    """Outcome of checking a note's signatures against known verifiers."""

    note: Note
    verified: list[tuple[NoteSignature, Verifier]] = field(default_factory=list)
    unknown: list[NoteSignature] = field(default_factory=list)
    invalid: list[NoteSignature] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """At least one known signature verified and none failed."""
        return bool(self.verified) and not self.invalid

    @property
    def verified_names(self) -> list[str]:
        return [s.name for s, _ in self.verified]


def _check_text(text: str, what: str) -> bytes:
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"The {what} is not valid UTF-8.") from None
    if _CONTROL.search(raw):
        raise NoteError(f"The {what} holds a control character other than newline.")
    return raw


def _check_body(body: str) -> bytes:
    if not isinstance(body, str) or not body.endswith("\n"):
        raise NoteError("A note's text must end with a newline.")
    raw = _check_text(body, "note text")
    if len(raw) > MAX_NOTE_BYTES:
        raise NoteError("The note is larger than 1 MiB.")
    return raw


def parse_note(text: str | bytes) -> Note:
    """Split a signed note into its text and signatures (nothing verified yet)."""
    if isinstance(text, bytes | bytearray):
        if len(text) > MAX_NOTE_BYTES:
            raise NoteError("The note is larger than 1 MiB.")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("The note is not valid UTF-8.") from None
    if not isinstance(text, str):
        raise NoteError("A note is text.")
    raw = _check_text(text, "note")
    if len(raw) > MAX_NOTE_BYTES:
        raise NoteError("The note is larger than 1 MiB.")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("The note has no blank line before its signatures.")
    body, sig_block = text[: split + 1], text[split + 2 :]
    if not sig_block or not sig_block.endswith("\n"):
        raise NoteError("The note's signature lines must end with a newline.")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"The note has more than {MAX_SIGNATURES} signatures.")
    sigs = []
    for line in lines:
        if not line.startswith(SIG_PREFIX):
            raise NoteError("A signature line must start with an em dash and a space.")
        name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if not sep or not valid_key_name(name):
            raise NoteError(f"Signature line with a bad key name: {line[:60]!r}.")
        try:
            raw_sig = b64decode_strict(b64)
        except ValueError:
            raise NoteError(f"Signature of {name!r} is not canonical base64.") from None
        if len(raw_sig) < 5:
            raise NoteError(f"Signature of {name!r} is too short.")
        sigs.append(NoteSignature(name, raw_sig[:4], raw_sig[4:]))
    return Note(body, tuple(sigs))


def _signature(body: bytes, key: NoteSigner) -> NoteSignature:
    if not valid_key_name(key.name):
        raise NoteError(f"Key name {key.name!r} is not valid in a note.")
    return NoteSignature(key.name, key.key_hash, key.note_signature(body))


def sign_note(body: str, key: NoteSigner) -> str:
    """A signed note holding ``body`` (which must end in a newline) and one signature."""
    raw = _check_body(body)
    return Note(body, (_signature(raw, key),)).text()


def add_signature(note_text: str | bytes, key: NoteSigner) -> str:
    """The note with one more signature; an earlier one by the same key is replaced."""
    note = parse_note(note_text)
    new = _signature(note.body.encode(), key)
    kept = tuple(s for s in note.signatures if (s.name, s.key_hash) != (new.name, new.key_hash))
    if len(kept) + 1 > MAX_SIGNATURES:
        raise NoteError(f"The note would have more than {MAX_SIGNATURES} signatures.")
    return Note(note.body, (*kept, new)).text()


def verifier_map(verifiers: Iterable[Verifier]) -> dict[tuple[str, bytes], Verifier]:
    """Index verifiers by (name, key hash); two different keys on one pair is an error."""
    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        k = (v.name, v.key_hash)
        if k in known and known[k] != v:
            raise NoteError(
                f"Two different keys share the name and key hash {v.name}+"
                f"{v.key_hash.hex()}; remove one of them."
            )
        known[k] = v
    return known


def verify_note(
    note_text: str | bytes | Note, verifiers: Sequence[Verifier] | Iterable[Verifier]
) -> NoteVerification:
    """Check every signature whose (name, key hash) is known; list the others as unknown.

    Duplicate signatures by one key are checked once. Raises NoteError only
    for a malformed note; bad signatures are reported in ``invalid``.
    """
    note = note_text if isinstance(note_text, Note) else parse_note(note_text)
    known = verifier_map(verifiers)
    body = note.body.encode()
    out = NoteVerification(note)
    seen: set[tuple[str, bytes, bytes]] = set()
    for s in note.signatures:
        if (s.name, s.key_hash, s.sig) in seen:
            continue
        seen.add((s.name, s.key_hash, s.sig))
        v = known.get((s.name, s.key_hash))
        if v is None:
            out.unknown.append(s)
        elif v.verify(body, s.sig):
            out.verified.append((s, v))
        else:
            out.invalid.append(s)
    return out
