"""`vatio runs import`: records saved as JSON when the store could not be written."""

from __future__ import annotations

import sys
from pathlib import Path

from vatio.errors import VatioError


def import_unsaved(files: list[Path], store: str | None, *, keep: bool = False) -> int:
    """Store (and sign into the log) every record in `files`; returns how many failed."""
    from vatio.canonical import canonical_json
    from vatio.config import load_profile
    from vatio.errors import UnknownRunError
    from vatio.record.context import RecordContext
    from vatio.record.extensions import jsonable
    from vatio.record.recorder import Entry, Recorder, read_unsaved

    profile, sources = load_profile(overrides={"store": store})
    recorder = Recorder(RecordContext.build(profile, sources))
    run_store = recorder.open_store()
    failed = 0
    for path in files:
        try:
            found = read_unsaved(path)
        except VatioError as error:
            sys.stderr.write(f"vatio: {path}: {error}\n")
            failed += 1
            continue
        entries = []
        for item in found:
            record = jsonable(item["record"])
            run_id = str(record.get("id") or "")
            if not run_id:
                sys.stderr.write(f"vatio: {path}: a record without an id was skipped\n")
                failed += 1
                continue
            try:
                if run_store.get(run_id).get("schema_version") is not None:
                    sys.stderr.write(f"vatio: run {run_id} is already in the store; skipped\n")
                    continue
            except UnknownRunError:
                pass
            text = canonical_json(record).decode("utf-8")
            entries.append(Entry(record, text, str(item.get("kind") or "run"),
                                 item.get("parent_id")))  # fmt: skip
        if not entries:
            continue
        outcome = recorder.write(entries)
        if outcome.store_error:
            sys.stderr.write(f"vatio: {path}: not imported: {outcome.store_error}\n")
            failed += 1
            continue
        print(f"imported {len(entries)} run(s) from {path}")
        if not keep:
            path.unlink(missing_ok=True)
    return failed
