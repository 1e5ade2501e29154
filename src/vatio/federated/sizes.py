"""Reading counts ("2.4M" parameters) and sizes ("3GB") given on the command line."""

from __future__ import annotations

import re

from vatio.errors import InputError

_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")
_COUNT = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
_BYTES = {
    "": 1,
    "b": 1,
    "kb": 1e3,
    "mb": 1e6,
    "gb": 1e9,
    "tb": 1e12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_count(text: str | float | int, *, what: str = "count") -> float:
    """2400000 from '2.4M', '2400k' or '2400000'."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        match = _NUMBER.match(text)
        unit = match.group(2).lower() if match else None
        if match is None or unit not in _COUNT:
            raise InputError(
                f"Cannot read the {what} {text!r}.", "Use a number, optionally with k, M or B."
            )
        value = float(match.group(1)) * _COUNT[unit]
    if value <= 0:
        raise InputError(f"The {what} must be positive, not {text!r}.")
    return value


def parse_bytes(text: str | float | int, *, what: str = "size") -> float:
    """Bytes from '3GB', '500MB', '2GiB' or a number of bytes (decimal units are 10^n)."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        match = _NUMBER.match(text)
        unit = match.group(2).lower() if match else None
        if match is None or unit not in _BYTES:
            raise InputError(
                f"Cannot read the {what} {text!r}.", "Use a size such as 500MB, 3GB or 2GiB."
            )
        value = float(match.group(1)) * _BYTES[unit]
    if value <= 0:
        raise InputError(f"The {what} must be positive, not {text!r}.")
    return value


def human_bytes(value: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.0f} B"
