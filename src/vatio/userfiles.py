"""Every file a user hands to vatio goes in and out through here.

Reading: missing files, folders, files too large, undecodable bytes and JSON
nested too deep become one `InputError` sentence, never a traceback. Writing:
an output path is checked before any work starts — its folder must exist, it
must not be a folder, the run store, or any SQLite database — so a long study
never fails at its last step, and `-o` can never destroy the records.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from vatio.errors import InputError

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_JSON_DEPTH = 64
_SQLITE_MAGIC = b"SQLite format 3\x00"


def read_user_bytes(path: Path | str, what: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a file the user named, or one clear sentence why not."""
    file = Path(path)
    try:
        if file.is_dir():
            raise InputError(f"The {what} {file} is a folder, not a file.", "Give a file path.")
        size = file.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"The {what} {file} is {size / 1e6:.1f} MB; vatio reads at most "
                f"{max_bytes / 1e6:.0f} MB for it.",
                "Check that this is the right file.",
            )
        with file.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"The {what} {file} does not exist.", "Check the path.") from None
    except PermissionError:
        raise InputError(
            f"The {what} {file} cannot be read: permission denied.", "Check its permissions."
        ) from None
    except OSError as error:
        shown = str(file)[:200]
        raise InputError(f"The {what} {shown} cannot be read: {error.strerror}.") from None
    except ValueError as error:  # e.g. an embedded NUL byte
        raise InputError(f"The {what} path {str(file)[:200]!r} is not usable: {error}.") from None
    if len(data) > max_bytes:
        raise InputError(f"The {what} {file} is larger than {max_bytes / 1e6:.0f} MB.")
    return data


def read_user_text(path: Path | str, what: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """A user file as UTF-8 text (a BOM is accepted)."""
    data = read_user_bytes(path, what, max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"The {what} {path} is not UTF-8 text (byte {error.start} is 0x"
            f"{data[error.start]:02x}).",
            "Give a text file (UTF-8); a binary or differently encoded file cannot be read.",
        ) from None


def parse_json(text: str, what: str) -> Any:
    """JSON from user text: errors and excessive nesting become one sentence."""
    if _too_deep(text):
        raise InputError(
            f"The {what} nests JSON more than {MAX_JSON_DEPTH} levels deep.",
            "Check that this is the right file.",
        )
    try:
        return json.loads(text)
    except ValueError as error:
        raise InputError(
            f"The {what} is not valid JSON: {getattr(error, 'msg', error)} at line "
            f"{getattr(error, 'lineno', '?')}.",
            "Fix the syntax.",
        ) from None


def read_user_json(path: Path | str, what: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    return parse_json(read_user_text(path, what, max_bytes), f"{what} {path}")


def read_user_toml(path: Path | str, what: str) -> dict[str, Any]:
    import tomllib

    text = read_user_text(path, what, 8 * 1024 * 1024)
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as error:
        raise InputError(
            f"The {what} {path} is not valid TOML: {error}.", "Fix the syntax."
        ) from None


def _too_deep(text: str) -> bool:
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def is_sqlite_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def check_output_path(
    path: Path | str | None,
    what: str,
    *,
    protect: list[str | None] | None = None,
    suffixes: tuple[str, ...] | None = None,
) -> Path | None:
    """Refuse, before any work, an output path that cannot be written or must not be.

    `protect` lists store URLs or paths that must never be overwritten (the run store).
    """
    if path is None:
        return None
    if str(path) == "-":
        return Path("-")
    try:
        return _check_output_path(Path(path).expanduser(), what, protect or [], suffixes)
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"The {what} {str(path)[:200]} is not usable: {reason}.") from None


def _check_output_path(
    file: Path, what: str, protect: list[str | None], suffixes: tuple[str, ...] | None
) -> Path:
    path = file
    if str(path).strip() == "":
        raise InputError(f"The {what} path is empty.", "Give a file name.")
    if file.is_dir():
        raise InputError(f"The {what} {file} is a folder.", "Give a file name inside it.")
    folder = file.parent if str(file.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(
            f"Cannot write the {what} {file}: the folder {folder} does not exist.",
            "Create the folder first, or choose another path.",
        )
    if not os.access(folder, os.W_OK):
        raise InputError(
            f"Cannot write the {what} {file}: the folder {folder} is not writable.",
            "Choose a writable folder.",
        )
    if file.exists() and not os.access(file, os.W_OK):
        raise InputError(f"Cannot write the {what} {file}: it is read-only.")
    for guarded in protect:
        guarded_path = _path_of(guarded)
        if guarded_path is not None and _same_file(file, guarded_path):
            raise InputError(
                f"The {what} {file} is the run store itself; writing it would destroy the records.",
                "Choose another file name.",
            )
    if file.exists() and is_sqlite_file(file):
        raise InputError(
            f"The {what} {file} is an SQLite database (perhaps a run store); vatio will not "
            "overwrite it.",
            "Choose another file name.",
        )
    if suffixes and file.suffix.lower() not in suffixes:
        raise InputError(
            f"The {what} {file} has the suffix {file.suffix or '(none)'!r}; use one of "
            f"{', '.join(suffixes)}.",
            f"e.g. {file.with_suffix(suffixes[0]).name}",
        )
    return file


def check_output_folder(path: Path | str, what: str) -> Path:
    """A folder vatio will write into: it exists, or its parent does (it is then made)."""
    folder = Path(path).expanduser()
    try:
        if folder.exists() and not folder.is_dir():
            raise InputError(f"The {what} {folder} is a file, not a folder.", "Give a folder.")
        missing_parent = not folder.exists() and not folder.parent.is_dir()
        if missing_parent and str(folder.parent) not in ("", ".") and not _default_vatio(folder):
            raise InputError(
                f"The {what} {folder} cannot be made: {folder.parent} does not exist.",
                "Create the parent folder first, or choose another place.",
            )
    except OSError as error:
        raise InputError(
            f"The {what} {str(folder)[:200]} is not usable: {error.strerror}."
        ) from None
    return folder


def _default_vatio(folder: Path) -> bool:
    """vatio's own .vatio/... folders are made with their parents."""
    return ".vatio" in folder.parts


def _path_of(spec: str | None) -> Path | None:
    if not spec:
        return None
    if spec.startswith("sqlite:///"):
        return Path(spec.removeprefix("sqlite:///").split("?", 1)[0])
    if "://" in spec:
        return None
    return Path(spec).expanduser()


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False
