"""The team's registry of approved package versions, with history.

`approved.toml` holds either a `[packages]` table of version specifiers written
by hand (`numpy = ">=1.26,<3"`), or a list of `[[approval]]` snapshots appended
by `vatio env approve`; the newest snapshot is the approved set, and older ones
are the history a regression can be reverted to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from vatio.errors import InputError


@dataclass
class Approval:
    date: str
    packages: dict[str, str]
    run: str | None = None
    note: str | None = None


@dataclass
class Registry:
    path: Path
    specifiers: dict[str, str] = field(default_factory=dict)
    approvals: list[Approval] = field(default_factory=list)

    def current(self) -> dict[str, str]:
        """name -> specifier text of the approved set."""
        if self.specifiers:
            return self.specifiers
        if not self.approvals:
            return {}
        return {name: f"=={version}" for name, version in self.approvals[-1].packages.items()}


def load_registry(path: Path) -> Registry:
    from vatio.userfiles import read_user_toml

    if not path.exists():
        raise InputError(
            f"The approved-versions file {path} does not exist.",
            "Create one with `vatio env approve --file " + str(path) + "`.",
        )
    data = read_user_toml(path, "approved-versions file")
    registry = Registry(path)
    for name, spec in (data.get("packages") or {}).items():
        try:
            SpecifierSet(str(spec))
        except InvalidSpecifier:
            raise InputError(
                f"{path}: [packages] {name} = {spec!r} is not a version specifier.",
                'Use e.g. "==2.1.0" or ">=1.26,<3".',
            ) from None
        registry.specifiers[canonicalize_name(name)] = str(spec)
    for index, entry in enumerate(data.get("approval") or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("packages"), dict):
            raise InputError(f"{path}: [[approval]] number {index + 1} has no packages table.")
        registry.approvals.append(
            Approval(
                date=str(entry.get("date", "")),
                packages={canonicalize_name(k): str(v) for k, v in entry["packages"].items()},
                run=entry.get("run"),
                note=entry.get("note"),
            )
        )
    return registry


def violations(registry: Registry, installed: dict[str, str]) -> tuple[list, list]:
    """(installed outside the approved specifier, installed but never approved)."""
    approved = registry.current()
    outside = []
    for name, spec in sorted(approved.items()):
        have = installed.get(name)
        if have is None:
            continue
        try:
            ok = Version(have) in SpecifierSet(spec)
        except InvalidVersion:
            ok = False
        if not ok:
            outside.append((name, have, spec))
    unapproved = sorted((n, v) for n, v in installed.items() if n not in approved)
    return outside, unapproved


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def append_approval(
    path: Path, packages: dict[str, str], run: str | None = None, note: str | None = None
) -> Approval:
    """Append a snapshot; the file is only ever appended to, so history is kept."""
    if path.exists():
        registry = load_registry(path)
        if registry.specifiers:
            raise InputError(
                f"{path} holds hand-written [packages] specifiers.",
                "Use another file for snapshots (--file approved-history.toml).",
            )
    approval = Approval(datetime.now(UTC).isoformat().replace("+00:00", "Z"), packages, run, note)
    lines = ["", "[[approval]]", f"date = {_toml_string(approval.date)}"]
    if run:
        lines.append(f"run = {_toml_string(run)}")
    if note:
        lines.append(f"note = {_toml_string(note)}")
    lines.append("[approval.packages]")
    lines += [f"{_toml_string(n)} = {_toml_string(v)}" for n, v in sorted(packages.items())]
    header = "" if path.exists() else "# vatio approved package versions; newest snapshot last\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(header + "\n".join(lines) + "\n")
    return approval


def diff_sets(old: dict[str, str], new: dict[str, str]) -> dict[str, list]:
    """Added, removed and changed packages between two name -> version maps."""
    return {
        "added": sorted((n, new[n]) for n in new.keys() - old.keys()),
        "removed": sorted((n, old[n]) for n in old.keys() - new.keys()),
        "changed": sorted((n, old[n], new[n]) for n in old.keys() & new.keys() if old[n] != new[n]),
    }
