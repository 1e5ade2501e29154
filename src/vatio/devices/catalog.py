"""TDP tables (Green Algorithms, CodeCarbon) and model-name matching.

Names in /proc/cpuinfo carry marketing noise ("Intel(R) Xeon(R) Gold 6248 CPU
@ 2.50GHz"); both sides are normalised to tokens before matching, and a match
must share the model number, so "Xeon Gold 6248" never matches "Xeon Gold 6230".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vatio.data import data_file

if TYPE_CHECKING:  # csv and difflib load only when a table is read (a run reads none)
    import difflib

#: Green Algorithms' default when the CPU model is unknown (W per core).
DEFAULT_TDP_PER_CORE_W = 12.0
#: Green Algorithms' default GPU TDP when the model is unknown (W).
DEFAULT_GPU_TDP_W = 200.0
#: Memory power model (Green Algorithms, W per GB).
MEMORY_W_PER_GB = 0.3725

_NOISE = re.compile(
    r"\((r|tm)\)|\bcpu\b|\bprocessor\b|\bwith\b.*$|@.*$|\d+-core|[,]", re.IGNORECASE
)


@dataclass(frozen=True)
class TdpMatch:
    """A TDP figure and where it came from, so the estimate can cite it."""

    model: str
    tdp_w: float
    cores: int | None
    source: str
    score: float


def normalise(name: str) -> str:
    text = _NOISE.sub(" ", name.lower())
    text = text.replace("intel", " ").replace("amd", " ")
    return " ".join(text.split())


def _has_model_number(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


@lru_cache(maxsize=1)
def _cpu_table() -> list[tuple[str, str, float, int | None, str]]:
    import csv

    rows = []
    path = data_file("cpu_tdp.csv")
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            try:
                tdp = float(row["tdp_w"])
            except ValueError:  # a few source rows are malformed ("27.29.5"); skip them
                continue
            cores = int(row["cores"]) if row["cores"] else None
            rows.append((normalise(row["model"]), row["model"], tdp, cores, row["source"]))
    return rows


def match_cpu(model_name: str) -> TdpMatch | None:
    """Best TDP entry for a CPU model name, or None when nothing credible matches."""
    key = normalise(model_name)
    if not key or not _has_model_number(key):
        return None
    return _remembered("cpu", model_name, lambda: _match_cpu(key))


def _remembered(kind: str, name: str, match: Callable[[], TdpMatch | None]) -> TdpMatch | None:
    """A match from the previous run on this machine when the table has not changed: reading
    the 5,000-row CPU table costs ~55 ms of CPU, paid by every `vatio run` otherwise."""
    from vatio import __version__
    from vatio.statefiles import recall, remember

    table = data_file(f"{kind}_tdp.csv")
    try:  # the table and the matching code (a new vatio, an edited checkout) make the key
        stamps = [(p.stat().st_size, p.stat().st_mtime_ns) for p in (table, Path(__file__))]
    except OSError:
        return match()
    key = f"{kind}|{name}|{__version__}|{stamps}"
    saved = recall("tdp", key)
    if saved is not None:
        try:
            return _checked_match(saved["match"])
        except (TypeError, ValueError, KeyError):
            pass  # matched again below
    found = match()
    remember("tdp", key, {"match": found.__dict__ if found else None})
    return found


def _checked_match(saved: Any) -> TdpMatch | None:
    """A remembered match as the tables could give it, else ValueError (matched again)."""
    if saved is None:
        return None
    found = TdpMatch(**saved)
    good = (
        isinstance(found.model, str)
        and isinstance(found.source, str)
        and isinstance(found.tdp_w, int | float)
        and 0 < found.tdp_w < 10_000
        and (found.cores is None or (isinstance(found.cores, int) and 0 < found.cores < 10_000))
        and isinstance(found.score, int | float)
        and 0 <= found.score <= 1
    )
    if not good:
        raise ValueError("a remembered TDP match out of range")
    return found


def _match_cpu(key: str) -> TdpMatch | None:
    table = _cpu_table()
    for norm, model, tdp, cores, source in table:
        if norm == key:
            return TdpMatch(model, tdp, cores, source, 1.0)
    import difflib

    numbers = set(re.findall(r"\d{3,}\w*", key))
    best: TdpMatch | None = None
    matcher = difflib.SequenceMatcher(None)
    matcher.set_seq1(key)  # a: the model name, b: each table entry (ratio is not symmetric)
    for norm, model, tdp, cores, source in table:
        if numbers and not numbers & set(re.findall(r"\d{3,}\w*", norm)):
            continue
        score = _score(matcher, norm, 0.75)
        if score >= 0.75 and (best is None or score > best.score):
            best = TdpMatch(model, tdp, cores, source, round(score, 3))
    return best


def _score(matcher: difflib.SequenceMatcher, candidate: str, cutoff: float) -> float:
    """The similarity ratio, or 0 where difflib's cheap upper bounds already fall below the
    cutoff (as get_close_matches does): the same matches, ~10x less work for a model name
    that matches nothing (every `vatio run` on such a CPU pays it)."""
    matcher.set_seq2(candidate)
    if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
        return 0.0
    return matcher.ratio()


@lru_cache(maxsize=1)
def _gpu_table() -> list[tuple[str, str, float]]:
    import csv

    path = data_file("gpu_tdp.csv")
    with path.open(encoding="utf-8") as handle:
        return [
            (normalise(r["model"]), r["model"], float(r["tdp_w"]))
            for r in csv.DictReader(handle)
            if r["tdp_w"] and r["model"] != "Any"
        ]


def match_gpu(model_name: str) -> TdpMatch | None:
    import difflib

    key = normalise(model_name.replace("NVIDIA", ""))
    best: TdpMatch | None = None
    matcher = difflib.SequenceMatcher(None)
    matcher.set_seq1(key)
    for norm, model, tdp in _gpu_table():
        score = _score(matcher, normalise(norm.replace("nvidia", "")), 0.8)
        if score >= 0.8 and (best is None or score > best.score):
            best = TdpMatch(model, tdp, None, "Green Algorithms", round(score, 3))
    return best
