"""Shared console helpers: errors, JSON output, number formatting."""

from __future__ import annotations

import json
import sys
from typing import Any

from vatio.errors import VatioError


def print_error(error: VatioError) -> None:
    sys.stderr.write(f"vatio: error: {error.message}\n")
    if error.hint:
        sys.stderr.write(f"  hint: {error.hint}\n")


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
