"""What a run is recorded with: its profile, kind, parent, store and extra sinks.

The zone is resolved once here, for the whole recording (carbon, store column).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vatio.hostname import hostname
from vatio.redact import redact_obj, redact_url

if TYPE_CHECKING:
    from vatio.carbon.zones import Zone
    from vatio.config import Profile


@dataclass
class RecordContext:
    profile: Profile
    profile_sources: dict[str, str] = field(default_factory=dict)
    kind: str = "run"
    parent_id: str | None = None
    cwd: Path = field(default_factory=Path.cwd)
    store_enabled: bool = True
    store_url: str | None = None
    #: the forecast a scheduled run planned on; its carbon then uses it where it covers
    forecast: Any = None
    #: more sinks (objects with `name` and `write(record)`), e.g. MLflow
    sinks: list[Any] = field(default_factory=list)
    zone: Zone | None = None
    username: str | None = None
    project: str | None = None
    host: str | None = None
    #: the logical run this record is a part of (multi-node jobs), stored as `group_id`
    group_id: str | None = None

    @classmethod
    def build(
        cls,
        profile: Profile,
        sources: dict[str, str] | None = None,
        *,
        kind: str = "run",
        parent_id: str | None = None,
        cwd: Path | None = None,
        store: bool = True,
        sinks: list[Any] | None = None,
    ) -> RecordContext:
        """Resolve the zone (with where it came from in the error) and the store location."""
        sources = dict(sources or {})
        cwd = cwd or Path.cwd()
        zone = _zone(profile, sources)
        store_url = None
        if store:
            from vatio.store.location import resolve_url

            store_url = resolve_url(profile.store, cwd)
        return cls(
            profile=profile,
            profile_sources=sources,
            kind=kind,
            parent_id=parent_id,
            cwd=cwd,
            store_enabled=store,
            store_url=store_url,
            sinks=list(sinks or []),
            zone=zone,
            username=_username(),
            project=profile.project or project_of(cwd),
            host=hostname(),
        )

    def owner(self) -> dict[str, Any]:
        """The record's `owner` section: who ran it, where, for which project."""
        return {"user": self.username, "host": self.host or hostname(), "project": self.project}

    def profile_section(self) -> dict[str, Any]:
        """The resolved profile as stored with the run: secrets masked, sources kept."""
        data = self.profile.model_dump(mode="json")
        data["store"] = redact_url(data.get("store"))
        return redact_obj({**data, "sources": dict(self.profile_sources)})


def check_zone(profile: Profile, sources: dict[str, str]) -> Zone | None:
    """The profile's zone, or an error naming where the unknown zone came from."""
    return _zone(profile, sources)


def _zone(profile: Profile, sources: dict[str, str]) -> Zone | None:
    if not profile.zone:
        return None
    from vatio.carbon.zones import resolve_zone  # the zone tables: only when a zone is set
    from vatio.errors import UnknownZoneError

    try:
        return resolve_zone(profile.zone)
    except UnknownZoneError as error:
        where = sources.get("zone")
        if where:
            error.message = f"{error.message.rstrip('.')} (from {where})."
        raise


def _username() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return None


def project_of(cwd: Path) -> str | None:
    """The project a folder belongs to, found without running git: the repository name of
    its git remote `origin` (the same for every clone), else the repository's folder name."""
    for folder in (cwd, *cwd.parents):
        dot_git = folder / ".git"
        if dot_git.exists():
            return _remote_name(dot_git) or folder.name
    return None


def _remote_name(dot_git: Path) -> str | None:
    """`llm` for a remote `origin` at git@host:team/llm.git or https://host/team/llm."""
    import configparser
    import re

    try:
        git_dir = dot_git
        if dot_git.is_file():  # a worktree or submodule: "gitdir: PATH"
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            git_dir = (dot_git.parent / text.removeprefix("gitdir:").strip()).resolve()
            common = git_dir / "commondir"
            if common.is_file():
                git_dir = (git_dir / common.read_text(encoding="utf-8").strip()).resolve()
        parser = configparser.RawConfigParser(strict=False)
        parser.read(git_dir / "config", encoding="utf-8")
        url = parser.get('remote "origin"', "url", fallback=None)
    except (OSError, ValueError, configparser.Error):
        return None
    if not url:
        return None
    name = re.split(r"[/:]", url.strip().rstrip("/"))[-1].removesuffix(".git")
    return name if name and name.isprintable() and len(name) <= 256 else None
