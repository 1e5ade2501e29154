"""Finding and reading the profile file, without pydantic (cheap for every command)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vatio.errors import InputError, ProfileError

#: environment variables that set profile values, and the key each sets
ENV_KEYS = {
    "VATIO_ZONE": "zone",
    "VATIO_STORE": "store",
    "VATIO_PUE": "pue",
    "VATIO_INTERVAL": "interval",
    "VATIO_PROJECT": "project",
}


def find_profile_file(cwd: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest vatio.toml, or pyproject.toml with a [tool.vatio] table, from cwd up."""
    for folder in (cwd, *cwd.parents):
        candidate = folder / "vatio.toml"
        if candidate.is_file():
            return candidate, _table(_read_toml(candidate), candidate)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            tool = _read_toml(pyproject).get("tool")
            table = tool.get("vatio") if isinstance(tool, dict) else None
            if table is not None:
                return pyproject, _table(table, pyproject)
    return None


def _table(table: Any, path: Path) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ProfileError(f"{path}: the vatio settings must be a table, not a value.")
    return table


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when a profile file exists: ~5 ms that `vatio run` spares otherwise

    from vatio.userfiles import read_user_text

    try:
        text = read_user_text(path, "profile", 8 * 1024 * 1024)
        data = tomllib.loads(text)
    except InputError as error:
        raise ProfileError(error.message, error.hint) from None
    except (tomllib.TOMLDecodeError, RecursionError) as error:
        raise ProfileError(f"{path} is not valid TOML: {error}.", "Fix the syntax.") from None
    tool = data.get("tool")
    if path.name == "vatio.toml" and isinstance(tool, dict) and "vatio" in tool:
        return tool["vatio"]
    return data
