"""Machine keys: Ed25519, stored once per user with mode 0600, named for notes.

The key file holds the Go/C2SP signer-key text
``PRIVATE+KEY+<name>+<8 hex key hash>+base64(0x01 || 32-byte seed)``, the
format of ``golang.org/x/mod/sumdb/note.NewSigner``, so a standard tool can
use the same key. A PKCS#8 PEM Ed25519 key (``openssl genpkey -algorithm
ed25519``) is accepted too; its name then comes from the caller or the default.

Two views of one key, as the C2SP specs allow with domain separation:
signature type 0x01 signs notes (checkpoints), type 0x04 signs timestamped
cosignatures (``cosignature/v1`` messages, https://c2sp.org/tlog-cosignature).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import struct
import time

from vatio.ledger.errors import LedgerKeyError

SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04
COSIGNATURE_HEADER = b"cosignature/v1\n"
RESERVED_PREFIXES = (COSIGNATURE_HEADER, b"vatio.ledger/")
_MAX_TIMESTAMP = 2**63 - 1
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


_BAD_NAME_CHAR = re.compile(r"[\s+\x00-\x1f\x7f\ud800-\udfff]")


def valid_key_name(name: str) -> bool:
    """C2SP key names: non-empty, no Unicode spaces, no '+', no control characters."""
    return isinstance(name, str) and name != "" and _BAD_NAME_CHAR.search(name) is None


@functools.lru_cache(maxsize=4096)
def _ed25519_ok(public_bytes: bytes, msg: bytes, sig: bytes) -> bool:
    """Ed25519 verification, remembered by exact bytes (a verifier re-reads the same notes)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public_bytes).verify(sig, msg)
    except (InvalidSignature, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=1024)
def key_hash(name: str, sig_type: int, public_bytes: bytes) -> bytes:
    """C2SP key ID: SHA-256(name || 0x0A || type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_bytes).digest()[:4]


def key_id(public_bytes: bytes) -> str:
    """Stable id for records: hex of SHA-256(32-byte public key)[:8] (16 hex digits)."""
    return hashlib.sha256(public_bytes).digest()[:8].hex()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode_strict(text: str) -> bytes:
    """Standard base64 that must re-encode to the same text (no slack bits)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as e:
        raise ValueError("not standard base64") from e
    if _b64(raw) != text:
        raise ValueError("not canonical base64")
    return raw


def check_name(name: str) -> str:
    if not valid_key_name(name):
        raise LedgerKeyError(
            f"Key name {name!r} is not valid.",
            "Use a non-empty name without spaces or '+', e.g. example.org/vatio-host.",
        )
    return name


def _vkey(name: str, sig_type: int, public_bytes: bytes) -> str:
    h = key_hash(name, sig_type, public_bytes).hex()
    return f"{name}+{h}+{_b64(bytes([sig_type]) + public_bytes)}"


def cosigned_message(note_text: bytes, timestamp: int) -> bytes:
    """The bytes an Ed25519 cosigner signs (tlog-cosignature, 'Ed25519 signed message')."""
    return COSIGNATURE_HEADER + b"time %d\n" % timestamp + note_text


class Verifier:
    """A public key with its name and signature type: checks one kind of note signature."""

    __slots__ = ("key_hash", "name", "public_bytes", "sig_type")

    def __init__(self, name: str, public_bytes: bytes, sig_type: int = SIG_ED25519) -> None:
        check_name(name)
        if sig_type not in (SIG_ED25519, SIG_COSIGNATURE_V1):
            raise LedgerKeyError(
                f"Signature type 0x{sig_type:02x} is not supported.",
                "vatio reads Ed25519 note keys (0x01) and Ed25519 cosigner keys (0x04).",
            )
        if len(public_bytes) != 32:
            raise LedgerKeyError("An Ed25519 public key is 32 bytes.", None)
        self.name = name
        self.public_bytes = bytes(public_bytes)
        self.sig_type = sig_type
        self.key_hash = key_hash(name, sig_type, self.public_bytes)

    @classmethod
    def from_vkey(cls, text: str) -> Verifier:
        """Parse a verifier key ``name+hexhash+base64(type || key)`` (Go note.NewVerifier)."""
        bad = LedgerKeyError(
            f"{text.strip()[:80]!r} is not a verifier key.",
            "Expected name+8-hex-digit-hash+base64, as printed by `vkey`.",
        )
        parts = text.strip().split("+", 2)
        if len(parts) != 3 or not _HEX8.fullmatch(parts[1]) or not valid_key_name(parts[0]):
            raise bad
        name, hash_hex, key64 = parts
        try:
            raw = b64decode_strict(key64)
        except ValueError:
            raise bad from None
        if len(raw) != 33:
            raise bad
        v = cls(name, raw[1:], raw[0])
        if v.key_hash != bytes.fromhex(hash_hex):
            raise LedgerKeyError(
                f"Verifier key {name}+{hash_hex} has a key hash that does not match its key.",
                "Copy the key again from its owner; it was altered.",
            )
        return v

    @property
    def vkey(self) -> str:
        return _vkey(self.name, self.sig_type, self.public_bytes)

    @property
    def key_id(self) -> str:
        return key_id(self.public_bytes)

    def as_type(self, sig_type: int, name: str | None = None) -> Verifier:
        """The same public key seen as another signature type (note 0x01 / cosigner 0x04)."""
        return Verifier(name or self.name, self.public_bytes, sig_type)

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Check a note signature (the bytes after the 4-byte key hash) over note text ``msg``.

        For a cosigner (type 0x04) ``sig`` is the 8-byte timestamp then the
        signature, and the signed message is built as tlog-cosignature says.
        """
        if self.sig_type == SIG_COSIGNATURE_V1:
            if len(sig) != 72:
                return False
            (ts,) = struct.unpack(">Q", sig[:8])
            if ts > _MAX_TIMESTAMP:
                return False
            msg, sig = cosigned_message(msg, ts), sig[8:]
        if len(sig) != 64:
            return False
        return _ed25519_ok(self.public_bytes, bytes(msg), bytes(sig))

    def same_key(self, other: Verifier) -> bool:
        return self.public_bytes == other.public_bytes

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verifier) and self.vkey == other.vkey

    def __hash__(self) -> int:
        return hash(self.vkey)

    def __repr__(self) -> str:
        return f"Verifier({self.vkey!r})"


class SigningKey:
    """An Ed25519 private key with the name it signs notes under (type 0x01)."""

    sig_type = SIG_ED25519

    def __init__(self, private_key: object, name: str) -> None:
        # The raw-bytes methods spare `vatio run` the serialization package's import (~20 ms).
        self._priv = private_key
        self.name = check_name(name)
        self.public_bytes: bytes = private_key.public_key().public_bytes_raw()  # type: ignore[attr-defined]
        self.key_hash = key_hash(self.name, SIG_ED25519, self.public_bytes)

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(Ed25519PrivateKey.generate(), name)

    @classmethod
    def from_seed(cls, seed: bytes, name: str) -> SigningKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(Ed25519PrivateKey.from_private_bytes(seed), name)

    @classmethod
    def from_skey(cls, text: str) -> SigningKey:
        """Parse ``PRIVATE+KEY+name+hash+base64(0x01 || seed)`` (Go note.NewSigner)."""
        parts = text.strip().split("+", 4)
        bad = LedgerKeyError("The text is not an Ed25519 signer key.", None)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _HEX8.fullmatch(parts[3]):
            raise bad
        try:
            raw = b64decode_strict(parts[4])
        except ValueError:
            raise bad from None
        if len(raw) != 33 or raw[0] != SIG_ED25519 or not valid_key_name(parts[2]):
            raise bad
        key = cls.from_seed(raw[1:], parts[2])
        if key.key_hash.hex() != parts[3].lower():
            raise LedgerKeyError("The signer key's hash does not match its key.", None)
        return key

    def skey(self) -> str:
        """The private signer-key text (keep it secret)."""
        seed = self._priv.private_bytes_raw()  # type: ignore[attr-defined]
        return f"PRIVATE+KEY+{self.name}+{self.key_hash.hex()}+{_b64(bytes([1]) + seed)}"

    def with_name(self, name: str) -> SigningKey:
        return SigningKey(self._priv, name)

    @property
    def key_id(self) -> str:
        """Hex of SHA-256(public key)[:8]; independent of the name."""
        return key_id(self.public_bytes)

    @property
    def vkey(self) -> str:
        """Verifier key text ``name+hexhash+base64(0x01 || key)`` to hand to verifiers."""
        return _vkey(self.name, SIG_ED25519, self.public_bytes)

    def sign(self, msg: bytes) -> bytes:
        """Raw Ed25519 signature (64 bytes)."""
        return self._priv.sign(msg)  # type: ignore[attr-defined]

    def note_signature(self, text: bytes) -> bytes:
        """Signature bytes of a note line (after the key hash): Ed25519 over the text."""
        if text.startswith(RESERVED_PREFIXES):
            # Domain separation: the note could otherwise pass for a cosigned message
            # or a signed member entry of a file log.
            raise LedgerKeyError("Refusing to sign a note that starts with a reserved header.")
        return self.sign(text)

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.public_bytes, SIG_ED25519)

    def cosigner(self, name: str | None = None) -> CosignerKey:
        """The same key as a tlog-cosignature v1 cosigner (type 0x04)."""
        return CosignerKey(self, name or self.name)

    def __repr__(self) -> str:
        return f"SigningKey(name={self.name!r}, key_id={self.key_id})"


class CosignerKey:
    """Signs timestamped cosignatures (C2SP tlog-cosignature, Ed25519, type 0x04)."""

    sig_type = SIG_COSIGNATURE_V1

    def __init__(self, key: SigningKey, name: str) -> None:
        self._key = key
        self.name = check_name(name)
        self.public_bytes = key.public_bytes
        self.key_hash = key_hash(self.name, SIG_COSIGNATURE_V1, self.public_bytes)

    @property
    def key_id(self) -> str:
        return key_id(self.public_bytes)

    @property
    def vkey(self) -> str:
        return _vkey(self.name, SIG_COSIGNATURE_V1, self.public_bytes)

    def note_signature(self, text: bytes, timestamp: int | None = None) -> bytes:
        """8-byte big-endian timestamp || Ed25519 over the cosigned message."""
        ts = int(time.time()) if timestamp is None else int(timestamp)
        if not 0 <= ts <= _MAX_TIMESTAMP:
            raise LedgerKeyError(f"Cosignature timestamp {ts} is out of range.", None)
        return struct.pack(">Q", ts) + self._key.sign(cosigned_message(text, ts))

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.public_bytes, SIG_COSIGNATURE_V1)

    def __repr__(self) -> str:
        return f"CosignerKey(name={self.name!r}, key_id={self.key_id})"
