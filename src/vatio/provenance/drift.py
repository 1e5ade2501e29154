"""What differs between a lockfile and the installed environment."""

from __future__ import annotations

from dataclasses import dataclass, field

from vatio.provenance.lockparse import Lockfile

#: installed by the venv itself, never expected in a project's lock
TOOLING = frozenset({"pip", "setuptools", "wheel", "distribute"})


@dataclass
class Drift:
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # name, locked, installed
    missing: list[tuple[str, str]] = field(default_factory=list)  # name, locked
    unlocked: list[tuple[str, str]] = field(default_factory=list)  # name, installed

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing)

    def to_dict(self) -> dict:
        return {
            "changed": [{"name": n, "locked": a, "installed": b} for n, a, b in self.changed],
            "missing": [{"name": n, "locked": a} for n, a in self.missing],
            "unlocked": [{"name": n, "installed": b} for n, b in self.unlocked],
        }


def compute_drift(lock: Lockfile, installed: dict[str, str]) -> Drift:
    """Locked packages that apply here but are missing or at another version, and extras."""
    drift = Drift()
    locked = lock.by_name()
    for name, package in sorted(locked.items()):
        if package.source in ("editable", "virtual", "directory") or not package.applies():
            continue
        have = installed.get(name)
        if have is None:
            drift.missing.append((name, package.version or "?"))
        elif package.version is not None and package.exact and have != package.version:
            drift.changed.append((name, package.version, have))
    for name, version in sorted(installed.items()):
        if name not in locked and name not in TOOLING:
            drift.unlocked.append((name, version))
    return drift
