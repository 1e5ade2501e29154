"""Find the dependency lockfile of a project and fingerprint it, so a run names its pins."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

# Search order: the most exact pin formats first; a plain requirements file last.
LOCKFILE_KINDS: tuple[tuple[str, str], ...] = (
    ("uv.lock", "uv"),
    ("poetry.lock", "poetry"),
    ("Pipfile.lock", "pipenv"),
    ("requirements.lock", "requirements-lock"),
    ("requirements.txt", "requirements"),
)
_REQUIREMENTS_GLOB = "requirements*.txt"


@dataclass(frozen=True)
class LockfileRef:
    """A lockfile found for a run: where it is (relative to the run's cwd), its format, its hash."""

    path: str
    kind: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        """Plain dict for the manifest."""
        return asdict(self)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks so large lockfiles cost no memory."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _candidates(cwd: Path) -> list[tuple[Path, str]]:
    """Lockfile paths to try in cwd, in search order."""
    found = [(cwd / name, kind) for name, kind in LOCKFILE_KINDS]
    # Sorted so the choice among requirements-dev.txt, requirements-gpu.txt ... is stable.
    extra = sorted(p for p in cwd.glob(_REQUIREMENTS_GLOB) if p.name != "requirements.txt")
    found.extend((p, "requirements") for p in extra)
    return found


def find_lockfile(cwd: Path) -> LockfileRef | None:
    """The first lockfile in ``cwd`` (not its parents) in search order, or None if none."""
    for path, kind in _candidates(cwd):
        if path.is_file():
            rel = path.relative_to(cwd).as_posix()
            return LockfileRef(path=rel, kind=kind, sha256=file_sha256(path))
    return None
