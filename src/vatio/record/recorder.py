"""The one recording path: enrich a measured result, then hand it to the sinks.

Enrichers, in order: the profile (secrets masked), carbon (the only call of
`carbon.accounting.account_run`), the signer's key id, redaction of every text
the user gave. Sinks: the store with its signed log; when the store cannot be
written, the unsaved-JSON fallback (working folder, then the user's state
folder, then one JSON line on stderr), so that a run is never lost; then any
extra sinks (MLflow, ...), whose failures become warnings.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatio.canonical import canonical_json
from vatio.errors import StoreError, VatioError
from vatio.measure.result import RunResult
from vatio.record.context import RecordContext
from vatio.record.extensions import jsonable
from vatio.redact import redact_argv, redact_obj, redact_text

UNSAVED_FORMAT = "vatio-unsaved-record/1"
STDERR_PREFIX = "vatio: unsaved run record: "


@dataclass
class Entry:
    """A finished record ready to store: its dict, its canonical text, where it belongs."""

    record: dict[str, Any]
    text: str
    kind: str
    parent_id: str | None


@dataclass
class Outcome:
    """Where the records went."""

    store_url: str | None = None
    store_error: str | None = None
    unsaved: list[str] = field(default_factory=list)
    leaf_indices: list[int] = field(default_factory=list)
    checkpoint: str | None = None
    log_error: str | None = None
    warnings: list[str] = field(default_factory=list)


def enrich(result: RunResult, context: RecordContext, signer: dict[str, Any] | None) -> None:
    """Profile, carbon, signer and redaction, in place."""
    result.profile = context.profile_section()
    if context.zone is not None and result.energy_j is not None:
        from vatio.carbon.accounting import account_run

        account_run(
            result,
            context.zone,
            context.profile.pue,
            context.profile.intensity,
            context.forecast,
        )
    elif context.zone is None:
        result.carbon = None
    result.signer = signer
    if result.owner is None:
        result.owner = context.owner()
    redact_result(result)


def redact_result(result: RunResult) -> None:
    """Mask secrets in every text of the result the user (or their command) supplied."""
    result.command = redact_argv(result.command)
    result.name = redact_text(result.name) if result.name else result.name
    result.error = redact_text(result.error) if result.error else result.error
    result.warnings = [redact_text(w) for w in result.warnings]
    result.manifest = redact_obj(result.manifest) if result.manifest else result.manifest
    result.extensions = redact_obj(result.extensions)
    result.artifacts = redact_obj(result.artifacts)


def record_text(result: RunResult) -> tuple[dict[str, Any], str]:
    """The record as stored and logged: finite JSON, and its canonical text."""
    record = jsonable(result.to_dict())
    return record, canonical_json(record).decode("utf-8")


class Recorder:
    """Records results for one context; keeps its store open between calls."""

    def __init__(self, context: RecordContext) -> None:
        self.context = context
        self._store: Any = None
        self._writer: Any = None

    # -- the store and its log ----------------------------------------------------
    def open_store(self) -> Any:
        """The full store (SQLAlchemy): reading, creating, migrating, any database."""
        if self._store is None:
            from vatio.store.runstore import RunStore

            assert self.context.store_url is not None
            self._store = RunStore(self.context.store_url)
        return self._store

    def writer(self) -> Any:
        """Where records are written: a current SQLite store through the standard library
        (no SQLAlchemy import on a run's path), anything else through the full store."""
        if self._writer is None:
            from vatio.store.sqlite_writer import SqliteWriter

            assert self.context.store_url is not None
            self._writer = SqliteWriter.open(self.context.store_url) or self.open_store()
        return self._writer

    def begin(self, result: RunResult) -> None:
        """Mark a run as running in the store (so a crash leaves a trace); raises StoreError."""
        if not self.context.store_enabled:
            return
        self.writer().begin(
            result.id,
            kind=self.context.kind,
            parent_id=self.context.parent_id,
            name=redact_text(result.name) if result.name else None,
            command=redact_argv(result.command),
            started_at=result.started_at,
            zone=self.context.zone.code if self.context.zone else None,
            username=self.context.username,
            project=self.context.project,
            group_id=self.context.group_id,
        )

    def signer(self) -> tuple[Any, dict[str, Any] | None, str | None]:
        """The signing key, its record form, or why records cannot be signed."""
        from vatio.record.signing import signer_info, signing_key

        try:
            key = signing_key(self.context.profile.ledger.key)
        except VatioError as error:
            return None, None, error.message
        except Exception as error:
            return None, None, f"{type(error).__name__}: {error}"
        return key, signer_info(key), None

    def record(
        self,
        results: list[RunResult],
        *,
        begun: bool = True,
        placements: list[tuple[str, str | None]] | None = None,
    ) -> Outcome:
        """Enrich and write `results` (one transaction, one checkpoint); never raises for the
        store's sake: what cannot be stored is saved as unsaved JSON.

        `placements` gives each result its own (kind, parent_id) instead of the context's.
        """
        places = placements or [(self.context.kind, self.context.parent_id)] * len(results)
        key, signer, key_error = self.signer() if self.context.store_enabled else (None,) * 3
        for result in results:
            enrich(result, self.context, signer)
        entries = [
            Entry(record, text, kind, parent_id)
            for (record, text), (kind, parent_id) in zip(
                (record_text(r) for r in results), places, strict=True
            )
        ]
        return self.write(entries, key=key, key_error=key_error)

    def write(
        self, entries: list[Entry], *, key: Any = None, key_error: str | None = None
    ) -> Outcome:
        """Write finished records as they are (already enriched) to the store and the sinks."""
        outcome = Outcome(store_url=self.context.store_url)
        if self.context.store_enabled and entries:
            if key is None and key_error is None:
                key, _, key_error = self.signer()
            self._to_store(entries, key, key_error, outcome)
        for sink in self.context.sinks:
            for entry in entries:
                try:
                    sink.write(entry.record)
                except Exception as error:  # an extra sink never loses the run
                    outcome.warnings.append(
                        f"{getattr(sink, 'name', type(sink).__name__)}: {redact_text(str(error))}"
                    )
        for warning in outcome.warnings:
            sys.stderr.write(f"vatio: warning: {warning}\n")
        return outcome

    def _to_store(
        self, entries: list[Entry], key: Any, key_error: str | None, outcome: Outcome
    ) -> None:
        from vatio.ledger.merkle import leaf_hash
        from vatio.store.rows import RecordRow

        try:
            store = self.writer()
            advance = None
            if key is not None:
                from vatio.record.signing import Advance, origin_of

                self._adopt_pending(store, key)
                advance = Advance(key, origin_of(store.store_id))
            else:
                outcome.log_error = key_error
                outcome.warnings.append(
                    f"the run is stored but not signed into the log ({key_error}); "
                    "`vatio ledger verify` will list it as not logged"
                )
            rows = [
                RecordRow(
                    id=entry.record["id"],
                    kind=entry.kind,
                    parent_id=entry.parent_id,
                    record_text=entry.text,
                    digest=_sha256(entry.text),
                    leaf_hash=leaf_hash(entry.text.encode("utf-8")) if advance else None,
                    columns=self._columns(entry.record),
                    artifacts=list(entry.record.get("artifacts") or []),
                )
                for entry in entries
            ]
            outcome.leaf_indices, outcome.checkpoint = store.write_records(rows, advance)
            if outcome.checkpoint:
                from vatio.record.signing import save_witness

                save_witness(store.store_id, outcome.checkpoint)
        except StoreError as error:
            outcome.store_error = error.message
            payload = [
                {"kind": e.kind, "parent_id": e.parent_id, "record": e.record} for e in entries
            ]
            outcome.unsaved.append(save_unsaved(payload, self.context, error.message))
            outcome.warnings.append(
                f"the run store could not be written ({error.message}); "
                f"the record is saved in {outcome.unsaved[0]}"
            )

    def _adopt_pending(self, store: Any, key: Any) -> None:
        """After a migration: log the records that were stored before the log existed."""
        if store.state.meta.get("ledger_adopt") != "pending":
            return
        from vatio.ledger.merkle import leaf_hash
        from vatio.record.signing import Advance, origin_of, save_witness

        entries = [
            (row["id"], leaf_hash(row["record"].encode("utf-8")), "adopted")
            for row in store.unlogged_finished()
            if _is_object(row["record"])  # a malformed record stays out; verify names it
        ]
        _, note = store.log_existing(entries, Advance(key, origin_of(store.store_id)))
        if note:
            save_witness(store.store_id, note)
        store.set_meta("ledger_adopt", "done")

    def _columns(self, record: dict[str, Any]) -> dict[str, Any]:
        totals = record.get("totals") or {}
        carbon = record.get("carbon") or {}
        zone = carbon.get("zone") or (self.context.zone.code if self.context.zone else None)
        return {
            "name": record.get("name"),
            "command": json.dumps(record["command"]) if record.get("command") else None,
            "status": record.get("status"),
            "exit_code": record.get("exit_code"),
            "started_at": record.get("started_at"),
            "ended_at": record.get("ended_at"),
            "duration_s": record.get("duration_s"),
            "energy_j": totals.get("energy_j"),
            "energy_low_j": totals.get("energy_low_j"),
            "energy_high_j": totals.get("energy_high_j"),
            "process_energy_j": totals.get("process_energy_j"),
            "co2e_g": carbon.get("co2e_g"),
            "method": totals.get("method"),
            "zone": zone,
            **owner_columns(record),
        }


def owner_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The user, project, host and group columns, from the signed record (so that the log
    vouches for what team views filter and group by)."""
    owner = record.get("owner") or {}
    multinode = (record.get("extensions") or {}).get("multinode") or {}
    columns = {"group_id": multinode.get("group_id")}
    if record.get("owner") is not None:
        columns.update(username=owner.get("user"), project=owner.get("project"))
        if owner.get("host"):
            columns["host"] = owner["host"]
    return columns


def _is_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_unsaved(entries: list[dict[str, Any]], context: RecordContext, reason: str) -> str:
    """Keep records the store refused (one file): working folder, else the user's state
    folder, else one JSON line on stderr. Returns where they went."""
    payload = {"format": UNSAVED_FORMAT, "reason": redact_text(reason), "records": entries}
    text = json.dumps(payload, sort_keys=True)
    from vatio.userdirs import state_dir

    name = f"{entries[0]['record']['id']}.json"
    for folder in (context.cwd / ".vatio" / "unsaved", state_dir() / "unsaved"):
        path = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            temp = path.with_suffix(f".tmp{os.getpid()}")
            temp.write_text(text, encoding="utf-8")
            os.replace(temp, path)
            return str(path)
        except OSError:
            continue
    try:
        sys.stderr.write(STDERR_PREFIX + text + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return "stderr (one JSON line starting with 'vatio: unsaved run record:')"


def read_unsaved(path: Path) -> list[dict[str, Any]]:
    """Records in an unsaved-JSON file (or a captured stderr with such lines)."""
    from vatio.errors import InputError
    from vatio.userfiles import read_user_text

    text = read_user_text(path, "unsaved run record", max_bytes=256 * 1024 * 1024)
    payloads: list[Any] = []
    if text.lstrip().startswith("{"):
        try:
            payloads.append(json.loads(text))
        except ValueError as error:
            raise InputError(
                f"{path} is not valid JSON ({error.msg} at line {error.lineno}).",
                "Give a file written by vatio under .vatio/unsaved/.",
            ) from None
    else:
        for line in text.splitlines():
            if STDERR_PREFIX in line:
                try:
                    payloads.append(json.loads(line.split(STDERR_PREFIX, 1)[1]))
                except ValueError:
                    continue
    records = [
        entry
        for payload in payloads
        if isinstance(payload, dict) and payload.get("format") == UNSAVED_FORMAT
        for entry in payload.get("records") or []
        if isinstance(entry, dict) and isinstance(entry.get("record"), dict)
    ]
    if not records:
        raise InputError(
            f"{path} holds no unsaved vatio run record.",
            "Give a file from .vatio/unsaved/ (or a stderr capture with 'vatio: unsaved run "
            "record:' lines).",
        )
    return records
