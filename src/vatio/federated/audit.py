"""The optional auditor member: checks the whole ledger, then cosigns its round checkpoints.

An auditor is a member whose only job is to witness. It verifies every byte
and signature of the log (vatio.ledger's verify_log, unsigned tail allowed)
and, only if that holds, adds its cosignature to every round checkpoint, so
that it counts towards each round's quorum like a client's.
"""

from __future__ import annotations

from pathlib import Path


def auditor_cosign(ledger_dir: Path, key_path: Path) -> list[int]:
    """Cosign every round checkpoint of a verified ledger; the sizes cosigned."""
    from vatio.federated.ledger import FINAL, ROUND, FlLedger
    from vatio.ledger import cosign_checkpoint, load_or_create_key, verify_log

    report = verify_log(ledger_dir, allow_unsigned_tail=True, deep=True)
    if not report.ok:
        return []
    key = load_or_create_key(key_path, "auditor")
    ledger = FlLedger.open(ledger_dir)
    sizes = sorted(int(p.name) for p in (ledger_dir / "checkpoints").iterdir() if p.name.isdigit())
    wanted = []
    for entry in ledger.log.entries():
        if entry.entry.get("kind") in (ROUND, FINAL):
            after = [s for s in sizes if s > entry.index]
            if after and after[0] not in wanted:
                wanted.append(after[0])
    done = []
    for size in wanted:
        note = cosign_checkpoint(ledger.log.checkpoint_at(size), key)
        if ledger.add_cosignatures(size, [note]):
            done.append(size)
    return done
