"""Settings of `vatio report` and `vatio check`: the store and the `report` / `check` tables.

Read defensively: until `Profile` declares `report` and `check`, those tables
make `load_profile` reject the file, so the raw TOML table is read here and the
store is resolved the way the profile would (flag, VATIO_STORE, file).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatio.errors import ProfileError

OUR_TABLES = ("report", "check")


@dataclass
class Settings:
    """What the report and the checklist need from the profile."""

    store: str | None
    profile_path: Path | None
    report: dict[str, Any] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if hasattr(value, "model_dump"):
        return dict(value.model_dump())
    return dict(value) if isinstance(value, Mapping) else {}


def load_settings(
    store: str | None = None, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """The store to read and our profile tables; a broken profile raises ProfileError."""
    from vatio.config import find_profile_file, load_profile

    cwd = cwd or Path.cwd()
    env = os.environ if env is None else env
    found = find_profile_file(cwd)
    path, table = found if found else (None, {})
    try:
        profile, _ = load_profile(cwd=cwd, env=env, overrides={"store": store})
    except ProfileError as error:
        if not any(f"unknown key `{name}`" in error.message for name in OUR_TABLES):
            raise
        profile = None  # the profile does not know our tables yet: read them raw
    if profile is not None:
        data = profile.model_dump()
        resolved_store = profile.store
    else:
        data = {k: v for k, v in table.items() if k not in OUR_TABLES}
        resolved_store = store or env.get("VATIO_STORE") or table.get("store")
    return Settings(
        store=resolved_store,
        profile_path=path,
        report=_as_dict(data.get("report") or table.get("report")),
        check=_as_dict(data.get("check") or table.get("check")),
        profile=data,
    )


def project_root(settings: Settings, cwd: Path | None = None) -> Path:
    """The folder of the profile file, else the git root, else the working directory."""
    cwd = (cwd or Path.cwd()).resolve()
    if settings.profile_path is not None:
        return settings.profile_path.parent.resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / ".git").exists():
            return folder
    return cwd
