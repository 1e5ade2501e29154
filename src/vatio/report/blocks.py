"""The report as a document: headings, tables, plots. HTML and Markdown both render this.

Keeping one document means the two formats say the same thing; only plots are
HTML-only (Markdown names the HTML report instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Heading:
    level: int
    text: str
    anchor: str | None = None


@dataclass
class Para:
    text: str
    note: bool = False  # a caveat the reader must see (rendered as a callout)


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str | None = None


@dataclass
class Plot:
    """A plot drawn by `vatio.report.plots.<kind>` from `data` (HTML only)."""

    kind: str
    data: dict[str, Any]
    caption: str


@dataclass
class Details:
    """A folded part: long lists a reader opens when needed."""

    summary: str
    blocks: list[Any] = field(default_factory=list)


Block = Heading | Para | Table | Plot | Details
