"""What differs between the environments of two runs: packages, hardware, git, settings.

A comparison of energy means little without this: a different torch, a dirty
tree or another GPU explains many "regressions".
"""

from __future__ import annotations

from typing import Any

#: (area, field, how to read it from a record)
FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("hardware", "cpu model", ("manifest", "cpu", "model")),
    ("hardware", "logical cores", ("manifest", "cpu", "logical_cores")),
    ("hardware", "memory GB", ("manifest", "memory_gb")),
    ("hardware", "host", ("manifest", "hostname")),
    ("software", "python", ("manifest", "python", "version")),
    ("software", "os", ("manifest", "os", "platform")),
    ("software", "environment", ("manifest", "environment", "kinds")),
    ("software", "lockfile", ("manifest", "lockfile", "path")),
    ("software", "lockfile sha256", ("manifest", "lockfile", "sha256")),
    ("git", "commit", ("manifest", "git", "commit")),
    ("git", "branch", ("manifest", "git", "branch")),
    ("git", "uncommitted changes", ("manifest", "git", "dirty")),
    ("settings", "zone", ("profile", "zone")),
    ("settings", "PUE", ("profile", "pue")),
    ("settings", "intensity", ("profile", "intensity")),
    ("settings", "interval s", ("profile", "interval")),
)


def dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _gpus(record: dict[str, Any]) -> list[str]:
    return sorted(
        str(g.get("name") or g.get("model")) for g in dig(record, ("manifest", "gpus")) or []
    )


def _packages(record: dict[str, Any]) -> dict[str, str] | None:
    packages = dig(record, ("manifest", "packages"))
    if not isinstance(packages, list):
        return None
    return {str(p.get("name")): str(p.get("version")) for p in packages if isinstance(p, dict)}


def package_changes(old: dict[str, str], new: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    """Packages added, removed and changed from `old` to `new` (name -> version maps)."""
    return {
        "added": [{"name": n, "version": new[n]} for n in sorted(new.keys() - old.keys())],
        "removed": [{"name": n, "version": old[n]} for n in sorted(old.keys() - new.keys())],
        "changed": [
            {"name": n, "from": old[n], "to": new[n]}
            for n in sorted(old.keys() & new.keys())
            if old[n] != new[n]
        ],
    }


def environment_diff(base: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Differences from the baseline run `base` to `other`."""
    changes = []
    for area, name, path in FIELDS:
        before, after = dig(base, path), dig(other, path)
        if before != after:
            changes.append({"area": area, "field": name, "from": before, "to": after})
    if _gpus(base) != _gpus(other):
        changes.append(
            {"area": "hardware", "field": "GPUs", "from": _gpus(base), "to": _gpus(other)}
        )
    env_before = dig(base, ("manifest", "env_vars")) or {}
    env_after = dig(other, ("manifest", "env_vars")) or {}
    for var in sorted(set(env_before) | set(env_after)):
        if env_before.get(var) != env_after.get(var):
            changes.append(
                {
                    "area": "environment variables",
                    "field": var,
                    "from": env_before.get(var),
                    "to": env_after.get(var),
                }
            )
    old, new = _packages(base), _packages(other)
    packages = package_changes(old, new) if old is not None and new is not None else None
    same_packages = packages is not None and not any(packages.values())
    return {
        "id": other["id"],
        "against": base["id"],
        "changes": changes,
        "packages": packages,
        "identical": not changes and same_packages,
    }
