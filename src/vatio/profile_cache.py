"""The profile of `vatio run`, validated by pydantic once per distinct input.

Importing pydantic and building the profile's models costs more than the rest
of a run's start-up (measured: `benchmarks/run_overhead.py`). The same project,
environment and flags always give the same profile, so once validated it is
kept (as JSON, in the user's state folder) under a key made of everything it
came from — the profile file's table, the VATIO_* variables, the flags, the
working folder and vatio's version — and read back as a `ProfileView`. A new
input is validated again, so a bad value is still refused before the job starts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vatio.profile_files import ENV_KEYS, find_profile_file
from vatio.statefiles import recall, remember

#: settings tables read as nested views
_NESTED = ("report", "check", "schedule", "power", "ledger")


class ProfileView:
    """A validated profile read back from its JSON dump: attribute access, read-only."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            value = self._data[name]
        except KeyError:
            raise AttributeError(name) from None
        if name in _NESTED and isinstance(value, dict):
            return _Settings(value)
        return value

    def model_dump(self, mode: str | None = None) -> dict[str, Any]:
        return json.loads(json.dumps(self._data))

    def model_copy(self, update: Mapping[str, Any] | None = None) -> ProfileView:
        return ProfileView({**self._data, **dict(update or {})})


class _Settings:
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def model_dump(self, mode: str | None = None) -> dict[str, Any]:
        return json.loads(json.dumps(self._data))


def cached_profile(
    overrides: Mapping[str, Any], cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> tuple[Any, dict[str, str]]:
    """(profile, sources): from the cache when this exact input was validated before."""
    from vatio import __version__

    cwd = cwd or Path.cwd()
    env = os.environ if env is None else env
    found = find_profile_file(cwd)
    material = {
        "vatio": __version__,
        "config": _stamp(),
        "cwd": str(cwd),
        "file": [str(found[0]), found[1]] if found else None,
        "env": {k: env.get(k) for k in ENV_KEYS},
        "overrides": {k: v for k, v in overrides.items() if v is not None},
    }
    key = json.dumps(material, sort_keys=True, default=str)
    try:
        saved = recall("profiles", key)
        return ProfileView(dict(saved["profile"])), dict(saved["sources"])
    except (ValueError, KeyError, TypeError):  # nothing remembered (None), or damaged
        pass
    from vatio.config import load_profile

    profile, sources = load_profile(cwd=cwd, env=env, overrides=overrides)
    if profile.electricitymaps_key is None:  # never write a secret to the cache
        remember("profiles", key, {"profile": profile.model_dump(mode="json"), "sources": sources})
    return profile, sources


def _stamp() -> list[float]:
    """Changes when the profile's definition changes (a new vatio, an edited checkout)."""
    here = Path(__file__).with_name("config.py")
    try:
        stat = here.stat()
        return [stat.st_mtime, float(stat.st_size)]
    except OSError:
        return []
