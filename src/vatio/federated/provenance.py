"""Which federated run made this model? From a file's SHA-256 to rounds, clients and energy.

The ledgers under `.vatio/fl/*/ledger/` are searched for an fl/final entry
with the file's SHA-256 (or, for a model re-saved elsewhere, the digest of
its arrays). The answer is read from the ledger itself, which is verified on
the way, so a tampered ledger cannot vouch for a model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vatio.federated.ledger import AGGREGATE, FINAL, ROUND, UPDATE


def _entries(ledger_dir: Path) -> list[dict[str, Any]]:
    out = []
    for line in (ledger_dir / "entries.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line)["entry"])
        except (ValueError, KeyError):
            continue
    return out


def _arrays_digest(path: Path) -> str | None:
    try:
        from vatio.federated.digest import arrays_digest
        from vatio.federated.modelfile import load_model

        return arrays_digest(load_model(path))
    except Exception:
        return None


def trace_model(
    path: str | Path, root: str | Path = Path(".vatio") / "fl"
) -> dict[str, Any] | None:
    """The federated run behind a model file, or None when no ledger under `root` knows it."""
    from vatio.federated.ledger import verify_fl_log
    from vatio.federated.modelfile import file_sha256

    path, root = Path(path), Path(root)
    if not root.is_dir():
        return None
    sha = file_sha256(path)
    digest = None
    for ledger_dir in sorted(root.glob("*/ledger")):
        entries = _entries(ledger_dir)
        final = next((e for e in entries if e.get("kind") == FINAL), None)
        if final is None:
            continue
        matched = "file" if final.get("file_sha256") == sha else None
        if matched is None:
            digest = digest or _arrays_digest(path)
            matched = "arrays" if digest and final.get("model_digest") == digest else None
        if matched is None:
            continue
        return _describe(ledger_dir, entries, final, sha, matched, verify_fl_log(ledger_dir))
    return None


def _describe(ledger_dir: Path, entries: list, final: dict, sha: str, matched: str, report) -> dict:
    run = next((e for e in entries if e.get("kind") == "fl/run"), {})
    rounds = []
    for r in (e for e in entries if e.get("kind") == ROUND):
        number = r.get("round")
        updates = [e for e in entries if e.get("kind") == UPDATE and e.get("round") == number]
        aggregate = next(
            (e for e in entries if e.get("kind") == AGGREGATE and e.get("round") == number), {}
        )
        energy = r.get("energy", {})
        rounds.append(
            {
                "round": number,
                "clients": [u["client"] for u in updates],
                "update_digests": [u["digest"] for u in updates],
                "aggregate_digest": aggregate.get("digest"),
                "energy_j": (energy.get("clients_j") or 0.0) + (energy.get("server_j") or 0.0),
                "method": energy.get("method"),
                "metrics": r.get("metrics", {}),
            }
        )
    summary_path = ledger_dir.parent / "summary.json"
    records = {}
    if summary_path.is_file():
        records = json.loads(summary_path.read_text()).get("records", {})
    return {
        "file_sha256": sha,
        "matched_by": matched,
        "run_id": run.get("run"),
        "folder": str(ledger_dir.parent),
        "ledger": str(ledger_dir),
        "ledger_verified": report.ok,
        "ledger_summary": report.summary(),
        "model_digest": final.get("model_digest"),
        "rounds": rounds,
        "clients": sorted({c for r in rounds for c in r["clients"]}),
        "training_energy_j": sum(r["energy_j"] for r in rounds),
        "process_energy_j": sum(
            (v.get("energy_j") or 0.0) for k, v in records.items() if k not in ("run",)
        )
        or None,
        "records": {k: v.get("run_id") for k, v in records.items()},
    }
