"""The manifest section of a run: hardware, software, lockfile, git, environment."""

from __future__ import annotations

from typing import Any

from vatio.report.blocks import Block, Details, Heading, Para, Table
from vatio.report.manifest import hardware_line


def _git(git: dict[str, Any] | None) -> str:
    if not git:
        return "not a git repository (or git unavailable)"
    dirty = {True: ", uncommitted changes", False: ", clean", None: ""}[git.get("dirty")]
    return f"{git.get('commit') or 'no commit'} on {git.get('branch') or 'detached HEAD'}{dirty}"


def manifest_blocks(summary: dict[str, Any] | None) -> list[Block]:
    heading = Heading(3, "Manifest: hardware, software, provenance")
    if summary is None:
        return [heading, Para("No manifest was recorded with this run.", note=True)]
    software = summary["software"]
    python = software.get("python") or {}
    os_info = software.get("os") or {}
    lockfile = summary["lockfile"]
    environment = summary["environment"] or {}
    rows = [
        ["hardware", hardware_line(summary)],
        ["host", str(summary["hardware"].get("hostname") or "—")],
        ["operating system", str(os_info.get("platform") or os_info.get("system") or "—")],
        ["python", f"{python.get('version', '?')} ({python.get('implementation', '?')})"],
        [
            "key packages",
            ", ".join(f"{p['name']} {p['version']}" for p in software["key_packages"]) or "—",
        ],
        [
            "lockfile",
            f"{lockfile['path']} ({lockfile['kind']}, sha256 {lockfile['sha256'][:16]}…)"
            if lockfile
            else "none found",
        ],
        ["git", _git(summary["git"])],
        [
            "isolation",
            ", ".join(environment.get("kinds") or []) or "none detected (system Python)",
        ],
        ["collected (UTC)", str(summary.get("collected_at") or "—")],
    ]
    for name, value in sorted((summary.get("env_vars") or {}).items()):
        rows.append([f"env {name}", str(value)])
    blocks: list[Block] = [heading, Table(["", ""], rows)]
    packages = software["packages"]
    if packages:
        table = Table(["package", "version"], [[p["name"], p["version"]] for p in packages])
        blocks.append(Details(f"All {len(packages)} installed packages", [table]))
    if summary["collection_errors"]:
        blocks.append(
            Para(
                "Parts of the manifest could not be collected: "
                + "; ".join(summary["collection_errors"]),
                note=True,
            )
        )
    return blocks
