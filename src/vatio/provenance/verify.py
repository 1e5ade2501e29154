"""Check downloaded wheels and sdists against the hashes in the lock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from vatio.provenance.lockfiles import file_sha256
from vatio.provenance.lockparse import Lockfile


@dataclass
class ArtifactCheck:
    file: str
    package: str | None
    version: str | None
    status: str  # "ok", "mismatch", "not-locked", "unhashed", "unknown-file"
    sha256: str


def _identify(path: Path) -> tuple[str, str] | None:
    try:
        if path.name.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(path.name)
        else:
            name, version = parse_sdist_filename(path.name)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return canonicalize_name(name), str(version)


def verify_artifacts(lock: Lockfile, folder: Path) -> list[ArtifactCheck]:
    locked = lock.by_name()
    checks = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or not path.name.endswith((".whl", ".tar.gz", ".zip")):
            continue
        digest = file_sha256(path)
        ident = _identify(path)
        if ident is None:
            checks.append(ArtifactCheck(path.name, None, None, "unknown-file", digest))
            continue
        name, version = ident
        entry = locked.get(name)
        if entry is None:
            status = "not-locked"
        elif not entry.hashes:
            status = "unhashed"
        else:
            status = "ok" if f"sha256:{digest}" in {h.lower() for h in entry.hashes} else "mismatch"
        checks.append(ArtifactCheck(path.name, name, version, status, digest))
    return checks
