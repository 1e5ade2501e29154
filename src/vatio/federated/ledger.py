"""The permissioned ledger of a federated run, on vatio's signed file log.

The log lives in `.vatio/fl/RUN_ID/ledger/` (a vatio.ledger FileLog). Its key
is the server's; its members (server, clients, optional auditor) are member
entries signed by that key, so who may take part is itself logged and
`members.json` is the membership file of Ed25519 public keys.

Entries written by a run (kinds are plain strings, outside vatio.ledger/):

    fl/run        run id, rounds, quorum, model, data split, Flower version
    fl/update     round, client, digest of its arrays, its signed statement and signature
    fl/rejected   round, client or key, reason (unlisted-key, bad-signature, ...), digest
    fl/failure    round, client or node, what Flower reported (crash, timeout)
    fl/aggregate  round, digest of the aggregated model, the update digests it combined
    fl/round      round, energy (clients, server, ledger), accuracy, bytes, wall time
    fl/final      digest of the final model, file name

After each fl/round entry the server signs a checkpoint; clients cosign it
(C2SP tlog-cosignature) once they have checked it, and `verify_fl_log`
requires at least `quorum` member cosignatures on every round checkpoint.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ORIGIN_PREFIX = "vatio-fl/"
RUN, UPDATE, REJECTED, FAILURE, AGGREGATE, ROUND, FINAL = (
    "fl/run",
    "fl/update",
    "fl/rejected",
    "fl/failure",
    "fl/aggregate",
    "fl/round",
    "fl/final",
)
ROLES = ("server", "client", "auditor")


@dataclass(frozen=True)
class MemberSpec:
    vkey: str
    role: str


def read_membership(path: str | Path) -> list[MemberSpec]:
    """A membership file: JSON {"members": [{"vkey": ..., "role": ...}, ...]} (members.json too)."""
    from vatio.errors import InputError

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        out = [MemberSpec(m["vkey"], m["role"]) for m in doc["members"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(
            f"Cannot read the membership file {path} ({error}).",
            'It is JSON: {"members": [{"vkey": "name+hash+key", "role": "client"}, ...]}.',
        ) from None
    bad = [m.role for m in out if m.role not in ROLES]
    if bad:
        raise InputError(f"Unknown member role {bad[0]!r} in {path}.", f"Use {', '.join(ROLES)}.")
    return out


def write_membership(path: Path, members: Iterable[MemberSpec]) -> Path:
    doc = {"members": [{"vkey": m.vkey, "role": m.role} for m in members]}
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


class FlLedger:
    """Appends a run's entries and checkpoints; merges cosignatures sent back by members."""

    def __init__(self, log: Any) -> None:
        self.log = log
        self._members: list[Any] | None = None
        self._lines: tuple[int, list[bytes], list[bytes]] | None = None  # (bytes, lines, leaves)

    @classmethod
    def create(
        cls,
        folder: Path,
        run_id: str,
        server_key: Any,
        members: Sequence[MemberSpec],
        header: dict[str, Any],
        *,
        durable: bool = False,
    ) -> FlLedger:
        from vatio.ledger import FileLog

        log = FileLog.create(folder, ORIGIN_PREFIX + run_id, server_key, durable=durable)
        for member in members:
            log.add_member(member.vkey, member.role, server_key)
        log.append({"kind": RUN, "run": run_id, **header}, server_key)
        return cls(log)

    @classmethod
    def open(cls, folder: Path, *, durable: bool = False) -> FlLedger:
        from vatio.ledger import FileLog

        return cls(FileLog.open(folder, durable=durable))

    @property
    def path(self) -> Path:
        return self.log.path

    def members(self) -> list[Any]:
        """The members (read once: a run never changes its membership)."""
        if self._members is None:
            self._members = self.log.members()
        return self._members

    def _read(self) -> tuple[list[bytes], list[bytes]]:
        """Entry lines and their leaf hashes, re-read only when the file grew."""
        from vatio.ledger import leaf_hash

        path = self.path / "entries.jsonl"
        size = path.stat().st_size
        if self._lines is None or self._lines[0] != size:
            lines = path.read_bytes().split(b"\n")[:-1]
            self._lines = (size, lines, [leaf_hash(line) for line in lines])
        return self._lines[1], self._lines[2]

    def append_round(self, entries: list[dict[str, Any]], key: Any) -> tuple[list[int], str]:
        """Append one round's entries and sign a checkpoint over them; (indices, note)."""
        indices = self.log.append_many(entries)
        note = self.log.checkpoint(key)
        return indices, note

    # -- cosigning over Flower ------------------------------------------------------------
    def cosign_request(
        self, size: int, previous_size: int | None, update_index: int | None
    ) -> dict[str, Any]:
        """What a client needs to check checkpoint `size` before cosigning it.

        The note; a consistency proof from the previous round's checkpoint (so a
        client that cosigned that one knows the log only grew); and, when the
        client sent an update, its entry as logged with an inclusion proof.
        """
        from vatio.ledger import MerkleTree

        lines, leaves = self._read()
        tree = MerkleTree(leaves[:size])
        request: dict[str, Any] = {"checkpoint": self.log.checkpoint_at(size), "size": size}
        if previous_size:
            request["previous_size"] = previous_size
            request["consistency"] = _b64s(tree.consistency_proof(previous_size, size))
        if update_index is not None and update_index < size:
            entry = json.loads(lines[update_index])["entry"]
            request["update_index"] = update_index
            request["update_entry"] = json.dumps(entry, sort_keys=True)
            request["inclusion"] = _b64s(tree.inclusion_proof(update_index, size))
        return request

    def add_cosignatures(self, size: int, cosigned: Iterable[str]) -> list[str]:
        """Merge valid member cosignatures into checkpoints/<size>; names of those added."""
        from vatio.ledger import fileio, parse_note
        from vatio.ledger import logformat as fmt
        from vatio.ledger.checkpoint import check_cosignatures
        from vatio.ledger.note import Note

        cosigners = [m.cosigner for m in self.members()]
        added: list[str] = []
        with fileio.FileLock(self.path / fmt.LOCK, exclusive=True):
            stored = parse_note(self.log.checkpoint_at(size))
            have = {(s.name, s.key_hash) for s in stored.signatures}
            extra = []
            for text in cosigned:
                try:
                    note = parse_note(text)
                except Exception:
                    continue
                if note.body != stored.body:
                    continue
                check = check_cosignatures(note, cosigners)
                for sig, _ in check.verified:
                    if (sig.name, sig.key_hash) not in have:
                        have.add((sig.name, sig.key_hash))
                        extra.append(sig)
                        added.append(sig.name)
            if extra:
                data = Note(stored.body, (*stored.signatures, *extra)).text().encode("utf-8")
                durable = self.log.durable
                latest_is_this = self.log.latest_checkpoint() == self.log.checkpoint_at(size)
                fileio.write_atomic(self.path / fmt.CHECKPOINTS / str(size), data, durable)
                if latest_is_this:
                    fileio.write_atomic(self.path / fmt.CHECKPOINT, data, durable)
        return added


def _b64s(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode("ascii") for h in hashes]


def _unb64s(items: list[str]) -> list[bytes]:
    return [base64.b64decode(s, validate=True) for s in items]


def verify_fl_log(
    folder: str | Path,
    *,
    quorum: int | None = None,
    members_file: str | Path | None = None,
    trusted_server_vkey: str | None = None,
) -> Any:
    """Check a run's ledger; see vatio.federated.ledger_verify.verify_fl_log."""
    from vatio.federated.ledger_verify import verify_fl_log as verify

    return verify(
        folder, quorum=quorum, members_file=members_file, trusted_server_vkey=trusted_server_vkey
    )
