"""Optimised artefacts on disk, each with a provenance record that makes it auditable.

The record holds the file's SHA-256, the variant recipe, the measurements, the
source model and the run manifest, so anyone can check that the deployed file
is the one that was measured, and how it was made.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vatio.canonical import sha256_hex
from vatio.errors import InputError
from vatio.optimize.results import VariantResult
from vatio.optimize.study import Study

SCHEMA = "vatio.optimize.artefact/1"
SUFFIX = {"onnx": ".onnx", "pytorch-state-dict": ".pt"}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_output_dir(path: Path) -> None:
    """Fail before the study when -o cannot be a folder."""
    if path.exists() and not path.is_dir():
        raise InputError(f"The output path {path} exists and is not a folder.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"Cannot create the output folder {path}: {error.strerror}.") from None


def copy_artefacts(study: Study, folder: Path) -> list[tuple[VariantResult, Path]]:
    """One sub-folder per measured variant (the baseline is the input, so it is not copied)."""
    copied = []
    for row in study.rows:
        art = row.artefact
        if not row.ok or art is None or row.name == study.baseline:
            continue
        target_dir = folder / row.name
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / f"model{SUFFIX.get(art.format, art.path.suffix)}"
        shutil.copyfile(art.path, target)
        copied.append((row, target))
    return copied


def write_provenance(
    study: Study,
    copied: list[tuple[VariantResult, Path]],
    *,
    run_id: str | None,
    manifest: dict[str, Any] | None,
    source: dict[str, Any],
) -> list[Path]:
    """`provenance.json` next to each copied artefact; returns the artefact paths."""
    created_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    for row, target in copied:
        art = row.artefact
        assert art is not None
        record = {
            "schema": SCHEMA,
            "created_at": created_at,
            "variant": row.name,
            "technique": row.technique,
            "artefact": {
                "file": target.name,
                "format": art.format,
                "sha256": file_sha256(target),
                "size_bytes": target.stat().st_size,
            },
            "runtime": {"engine": art.runtime, "intra_op_threads": art.threads},
            "recipe": art.recipe,
            "measurements": {
                "metric": study.metric_name,
                "value": row.metric,
                "delta_pts_vs_baseline": row.delta_pts,
                "baseline": study.baseline,
                "energy_method": study.method,
                "energy_basis": study.energy_basis,
                "batches": {str(b): s.to_dict() for b, s in sorted(row.batches.items())},
            },
            "recommended": row.name == study.recommendation.name,
            "source": source,
            "run_id": run_id,
            "manifest_sha256": sha256_hex(manifest) if manifest is not None else None,
            "manifest": manifest,
        }
        path = target.parent / "provenance.json"
        path.write_text(json.dumps(record, indent=2, sort_keys=True, default=str), encoding="utf-8")
    return [target for _, target in copied]


def write_artefacts(
    study: Study,
    folder: Path,
    *,
    run_id: str | None,
    manifest: dict[str, Any] | None,
    source: dict[str, Any],
) -> list[Path]:
    """Copy the artefacts and write their provenance records in one go."""
    copied = copy_artefacts(study, folder)
    return write_provenance(study, copied, run_id=run_id, manifest=manifest, source=source)


def verify(provenance: Path) -> bool:
    """Whether the file next to a provenance record still has the recorded SHA-256."""
    record = json.loads(provenance.read_text(encoding="utf-8"))
    artefact = provenance.parent / record["artefact"]["file"]
    return artefact.is_file() and file_sha256(artefact) == record["artefact"]["sha256"]
