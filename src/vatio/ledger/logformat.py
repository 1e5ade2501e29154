"""On-disk format of a file log: names, entry lines, system entries, derived files.

A log directory holds::

    entries.jsonl     one canonical JSON object per line: {"entry": {...}, "index": i}
                      (the leaf data is the line's bytes without the newline)
    checkpoint        the latest signed checkpoint note (C2SP tlog-checkpoint)
    checkpoints/<n>   every checkpoint ever signed, by tree size, with its cosignatures;
                      each after the first has the extension line
                      ``vatio.ledger/previous <size of the one before>``
    members.json      the log key and members (derived from the entries; checked)
    state.json        Merkle frontier and byte length of entries.jsonl (a cache; checked)
    .lock             fcntl lock serialising writers

Entry 0 is the genesis entry (origin and the log's key); member changes are
entries signed by the log key, so who belongs to the log is itself logged.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vatio.canonical import canonical_json
from vatio.ledger.keys import SIG_COSIGNATURE_V1, SigningKey, Verifier
from vatio.ledger.merkle import Frontier

ENTRIES = "entries.jsonl"
CHECKPOINT = "checkpoint"
CHECKPOINTS = "checkpoints"
MEMBERS = "members.json"
STATE = "state.json"
LOCK = ".lock"

SYSTEM_PREFIX = "vatio.ledger/"
GENESIS = "vatio.ledger/genesis"
MEMBER = "vatio.ledger/member"
FORMAT_VERSION = 1
MEMBER_SIG_CONTEXT = b"vatio.ledger/member/v1\n"
PREVIOUS_EXTENSION = "vatio.ledger/previous"
"""Checkpoint extension line ``vatio.ledger/previous <size>``: the size of the checkpoint
signed before this one, so that a checkpoint removed from the history is noticed."""


def previous_size(extensions: tuple[str, ...]) -> int | None:
    """The previous checkpoint size named in a checkpoint's extension lines; ValueError if bad."""
    found = [e for e in extensions if e.split(" ", 1)[0] == PREVIOUS_EXTENSION]
    if not found:
        return None
    parts = found[0].split(" ")
    if len(found) > 1 or len(parts) != 2 or not parts[1].isascii() or not parts[1].isdigit():
        raise ValueError("a bad previous-checkpoint extension line")
    if parts[1] != str(int(parts[1])):
        raise ValueError("a bad previous-checkpoint extension line")
    return int(parts[1])


def encode_line(index: int, entry: Mapping[str, Any]) -> bytes:
    """The canonical line (without newline) of entry ``index``; ValueError if not JSON."""
    return canonical_json({"entry": dict(entry), "index": index})


def decode_line(raw: bytes) -> tuple[int, dict[str, Any]]:
    """(index, entry) of a line; ValueError unless it is exactly what encode_line writes."""
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError("not JSON") from e
    if not isinstance(obj, dict) or set(obj) != {"entry", "index"}:
        raise ValueError('not an object with exactly "entry" and "index"')
    index, entry = obj["index"], obj["entry"]
    if type(index) is not int or index < 0 or not isinstance(entry, dict):
        raise ValueError("index is not a count or entry is not an object")
    if canonical_json(obj) != raw:
        raise ValueError("not in canonical JSON form")
    return index, entry


_HEAD = b'{"entry":{'
_TAIL = re.compile(rb',"index":(0|[1-9][0-9]{0,17})\}\Z')
_SYSTEM_MARK = b'"vatio.ledger/'


def quick_index(raw: bytes) -> int | None:
    """The index of a line written by encode_line, read from its tail without parsing JSON.

    Canonical JSON sorts keys, so a line is ``{"entry":{...},"index":N}``. None if the
    line does not have that shape. Whether the middle is valid JSON is left to
    decode_line (verify_log's ``deep`` mode): the line's hash is checked either way.
    """
    if not raw.startswith(_HEAD):
        return None
    m = _TAIL.search(raw)
    return int(m.group(1)) if m else None


def may_be_system(raw: bytes) -> bool:
    """Whether a line might hold a system entry (and so must be parsed in full)."""
    return _SYSTEM_MARK in raw


def kind_of(entry: Mapping[str, Any]) -> str | None:
    k = entry.get("kind")
    return k if isinstance(k, str) else None


def member_message(entry: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in entry.items() if k != "signature"}
    return MEMBER_SIG_CONTEXT + canonical_json(body)


def sign_member_entry(entry: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    sig = key.sign(member_message(entry))
    return {**entry, "signature": base64.b64encode(sig).decode()}


def member_signature_ok(entry: Mapping[str, Any], log_key: Verifier) -> bool:
    sig64 = entry.get("signature")
    if not isinstance(sig64, str):
        return False
    try:
        sig = base64.b64decode(sig64, validate=True)
    except ValueError:
        return False
    # Member entries are plain Ed25519 signatures by the log's key (type 0x01 view).
    return log_key.as_type(1).verify(member_message(entry), sig)


@dataclass(frozen=True)
class Member:
    name: str
    role: str
    verifier: Verifier  # type 0x01 view; .as_type(0x04) gives the cosigner view
    added_at: int  # index of the entry that added it

    @property
    def cosigner(self) -> Verifier:
        return self.verifier.as_type(SIG_COSIGNATURE_V1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "vkey": self.verifier.vkey,
            "cosigner_vkey": self.cosigner.vkey,
            "added_at": self.added_at,
        }


def apply_member_entry(members: dict[str, Member], index: int, entry: Mapping[str, Any]) -> None:
    """Update the member set with one (already authenticated) member entry; ValueError if bad."""
    action, name, role = entry.get("action"), entry.get("name"), entry.get("role")
    if action == "add":
        if not isinstance(role, str) or not isinstance(entry.get("vkey"), str):
            raise ValueError("a member entry needs a role and a vkey")
        v = Verifier.from_vkey(entry["vkey"])
        if v.name != name or v.sig_type != 1:
            raise ValueError("the member's vkey does not match its name")
        if name in members:
            raise ValueError(f"member {name!r} is added twice")
        members[name] = Member(name, role, v, index)
    elif action == "remove":
        if name not in members:
            raise ValueError(f"member {name!r} is removed but was not a member")
        del members[name]
    else:
        raise ValueError(f"unknown member action {action!r}")


def members_bytes(origin: str, log_key: Verifier, members: Mapping[str, Member]) -> bytes:
    doc = {
        "origin": origin,
        "log": {
            "name": log_key.name,
            "vkey": log_key.vkey,
            "cosigner_vkey": log_key.as_type(SIG_COSIGNATURE_V1).vkey,
        },
        "members": [m.to_dict() for m in sorted(members.values(), key=lambda m: m.name)],
    }
    return canonical_json(doc) + b"\n"


def state_bytes(n_bytes: int, frontier: Frontier) -> bytes:
    return canonical_json({"bytes": n_bytes, "frontier": frontier.to_dict()}) + b"\n"


def parse_state(raw: bytes) -> tuple[int, Frontier]:
    """(byte length of entries.jsonl, frontier); ValueError if not a state file."""
    obj = json.loads(raw)
    n = obj["bytes"]
    if type(n) is not int or n < 0:
        raise ValueError("bad byte count")
    return n, Frontier.from_json(obj["frontier"])
