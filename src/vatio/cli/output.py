"""Shared console helpers: errors, JSON output, number formatting."""

from __future__ import annotations

import json
import sys
from typing import Any

from vatio.errors import VatioError


def one_line(text: str) -> str:
    """Text for one terminal line: line breaks flattened, control characters escaped (a file
    name or value from the user must not move the cursor or clear the screen)."""
    flat = " ".join(str(text).split("\n"))
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in flat)


def print_error(error: VatioError) -> None:
    sys.stderr.write(f"vatio: error: {one_line(error.message)}\n")
    if error.hint:
        sys.stderr.write(f"  hint: {one_line(error.hint)}\n")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def fmt_kwh(joules: float | None) -> str:
    if joules is None:
        return "—"
    kwh = joules / 3.6e6
    if kwh >= 0.1:
        return f"{kwh:.3f}"
    if kwh >= 0.001:
        return f"{kwh:.4f}"
    return f"{kwh:.2e}"


def fmt_g(grams: float | None) -> str:
    if grams is None:
        return "—"
    return f"{grams:.3g}" if grams < 100 else f"{grams:.0f}"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def write_json_file(path: Any, data: Any) -> None:
    """Write JSON to a file the user named (checked before the job ran)."""
    from pathlib import Path

    text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        sys.stderr.write(f"vatio: warning: cannot write {path}: {error.strerror}\n")
