"""Parsers for the lockfile formats a Python project may pin its environment with.

requirements.txt (pip, with `--hash`), poetry.lock, Pipfile.lock and uv.lock all
become one list of `LockedPackage`s. A malformed file raises `LockfileError`
naming the file and the line, so the user can fix it.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from vatio.errors import InputError


class LockfileError(InputError):
    """A lockfile that cannot be read."""


@dataclass
class LockedPackage:
    """One pinned distribution: exact when the version is fixed with ==/===."""

    name: str
    version: str | None
    exact: bool
    hashes: list[str] = field(default_factory=list)
    line: int | None = None
    marker: str | None = None
    source: str | None = None  # "editable", "url", "directory", "git", ...

    def applies(self) -> bool:
        """Whether the environment marker (if any) matches this interpreter."""
        if not self.marker:
            return True
        from packaging.markers import Marker

        try:
            return Marker(self.marker).evaluate()
        except Exception:  # an unreadable marker: assume it applies and let drift show it
            return True


@dataclass
class Lockfile:
    path: Path
    kind: str
    packages: list[LockedPackage]

    def by_name(self) -> dict[str, LockedPackage]:
        return {p.name: p for p in self.packages}


def parse_lockfile(path: Path, kind: str | None = None) -> Lockfile:
    """Read any supported lockfile; the kind comes from the file name unless given."""
    from vatio.errors import InputError
    from vatio.userfiles import read_user_text

    kind = kind or kind_of(path)
    try:
        text = read_user_text(path, "lockfile", 64 * 1024 * 1024)
    except InputError as error:
        raise LockfileError(error.message, error.hint) from None
    parser = {
        "requirements": parse_requirements,
        "requirements-lock": parse_requirements,
        "poetry": parse_poetry,
        "pipenv": parse_pipfile,
        "uv": parse_uv,
    }.get(kind)
    if parser is None:
        raise LockfileError(
            f"Unknown lockfile kind {kind!r} for {path}.",
            "Supported: requirements.txt, poetry.lock, Pipfile.lock, uv.lock.",
        )
    return Lockfile(path, kind, parser(text, str(path)))


def kind_of(path: Path) -> str:
    name = path.name
    if name == "uv.lock":
        return "uv"
    if name == "poetry.lock":
        return "poetry"
    if name == "Pipfile.lock":
        return "pipenv"
    return "requirements"


# -- requirements.txt -----------------------------------------------------------
_OPTION_WITH_VALUE = re.compile(r"^(-i|--index-url|--extra-index-url|-f|--find-links|-c|-r)\b")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations; keep the number of the first physical line."""
    lines: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        if buffer.strip():
            lines.append((start, buffer.strip()))
        buffer = ""
    if buffer.strip():
        lines.append((start, buffer.strip()))
    return lines


def parse_requirements(text: str, where: str = "requirements.txt") -> list[LockedPackage]:
    packages = []
    for number, line in _logical_lines(text):
        if line.startswith("-e ") or line.startswith("--editable"):
            target = line.split(None, 1)[1] if " " in line else ""
            packages.append(LockedPackage(target, None, False, line=number, source="editable"))
            continue
        if line.startswith("-"):
            if not _OPTION_WITH_VALUE.match(line) and not line.startswith("--"):
                raise LockfileError(f"{where}, line {number}: unknown option {line.split()[0]!r}.")
            continue
        hashes = re.findall(r"--hash[= ]([A-Za-z0-9]+:[A-Fa-f0-9]+)", line)
        spec = re.sub(r"\s--hash[= ]\S+", "", line).strip()
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as error:
            raise LockfileError(
                f"{where}, line {number}: cannot read {spec!r} "
                f"({str(error).splitlines()[0].strip()}).",
                "Each line should look like name==1.2.3 --hash=sha256:...",
            ) from None
        pins = [s for s in requirement.specifier if s.operator in ("==", "===")]
        exact = len(pins) == 1 and "*" not in pins[0].version and len(requirement.specifier) == 1
        packages.append(
            LockedPackage(
                name=canonicalize_name(requirement.name),
                version=pins[0].version if pins else None,
                exact=exact or bool(requirement.url),
                hashes=hashes,
                line=number,
                marker=str(requirement.marker) if requirement.marker else None,
                source="url" if requirement.url else None,
            )
        )
    return packages


# -- TOML locks -----------------------------------------------------------------
def _toml(text: str, where: str) -> dict:
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as error:
        raise LockfileError(f"{where} is not valid TOML: {error}.") from None


def _shape(value: object, kind: type, where: str, what: str) -> Any:
    """`value` when it has the expected JSON/TOML type (None counts as empty)."""
    if value is None:
        return kind()
    if not isinstance(value, kind) or isinstance(value, bool):
        raise LockfileError(f"{where}: {what} should be a {kind.__name__}, not {value!r:.40}.")
    return value


def _text(value: object, where: str, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise LockfileError(f"{where}: {what} should be text, not {value!r:.40}.")
    return str(value)


def _entry(where: str, index: int, item: object) -> dict:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise LockfileError(f"{where}: package entry {index + 1} has no name.")
    return item


def _hashes(items: object, where: str, key: str = "hash") -> list[str]:
    return [
        str(f[key])
        for f in _shape(items, list, where, "the file list")
        if isinstance(f, dict) and isinstance(f.get(key), str)
    ]


def parse_poetry(text: str, where: str = "poetry.lock") -> list[LockedPackage]:
    data = _toml(text, where)
    metadata = _shape(data.get("metadata"), dict, where, "[metadata]")
    legacy = _shape(metadata.get("files"), dict, where, "[metadata.files]")
    packages = []
    for index, raw in enumerate(_shape(data.get("package"), list, where, "[[package]]")):
        item = _entry(where, index, raw)
        files = item.get("files") or legacy.get(item["name"], [])
        version = _text(item.get("version"), where, f"the version of {item['name']}")
        source = _shape(item.get("source"), dict, where, f"the source of {item['name']}")
        packages.append(
            LockedPackage(
                canonicalize_name(item["name"]),
                version,
                version is not None,
                _hashes(files, where),
                marker=item.get("markers") if isinstance(item.get("markers"), str) else None,
                source=_text(source.get("type"), where, "a source type"),
            )
        )
    return packages


def parse_uv(text: str, where: str = "uv.lock") -> list[LockedPackage]:
    data = _toml(text, where)
    packages = []
    for index, raw in enumerate(_shape(data.get("package"), list, where, "[[package]]")):
        item = _entry(where, index, raw)
        source = _shape(item.get("source"), dict, where, f"the source of {item['name']}")
        kind = next(
            (k for k in ("editable", "virtual", "directory", "git", "url") if k in source), None
        )
        hashes = _hashes(item.get("wheels"), where)
        if isinstance(item.get("sdist"), dict) and isinstance(item["sdist"].get("hash"), str):
            hashes.append(item["sdist"]["hash"])
        version = _text(item.get("version"), where, f"the version of {item['name']}")
        packages.append(
            LockedPackage(
                canonicalize_name(item["name"]), version, version is not None, hashes, source=kind
            )
        )
    return packages


def parse_pipfile(text: str, where: str = "Pipfile.lock") -> list[LockedPackage]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        line = getattr(error, "lineno", "?")
        raise LockfileError(f"{where}, line {line}: invalid JSON.") from None
    data = _shape(data, dict, where, "the file")
    packages = []
    for group in ("default", "develop"):
        for name, item in _shape(data.get(group), dict, where, f"{group!r}").items():
            if not isinstance(item, dict):
                raise LockfileError(f"{where}: entry {name!r} in {group!r} is not an object.")
            version = _text(item.get("version"), where, f"the version of {name}") or ""
            hashes = [h for h in _shape(item.get("hashes"), list, where, "hashes")
                      if isinstance(h, str)]  # fmt: skip
            marker = item.get("markers")
            packages.append(
                LockedPackage(
                    canonicalize_name(name),
                    version.lstrip("=") or None,
                    version.startswith("=="),
                    hashes,
                    marker=marker if isinstance(marker, str) else None,
                    source="editable" if item.get("editable") else None,
                )
            )
    return packages
