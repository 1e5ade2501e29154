"""TDP tables (Green Algorithms, CodeCarbon) and model-name matching.

Names in /proc/cpuinfo carry marketing noise ("Intel(R) Xeon(R) Gold 6248 CPU
@ 2.50GHz"); both sides are normalised to tokens before matching, and a match
must share the model number, so "Xeon Gold 6248" never matches "Xeon Gold 6230".
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from vatio.data import data_file

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
    table = _cpu_table()
    for norm, model, tdp, cores, source in table:
        if norm == key:
            return TdpMatch(model, tdp, cores, source, 1.0)
    numbers = set(re.findall(r"\d{3,}\w*", key))
    best: TdpMatch | None = None
    for norm, model, tdp, cores, source in table:
        if numbers and not numbers & set(re.findall(r"\d{3,}\w*", norm)):
            continue
        score = difflib.SequenceMatcher(None, key, norm).ratio()
        if score >= 0.75 and (best is None or score > best.score):
            best = TdpMatch(model, tdp, cores, source, round(score, 3))
    return best


@lru_cache(maxsize=1)
def _gpu_table() -> list[tuple[str, str, float]]:
    path = data_file("gpu_tdp.csv")
    with path.open(encoding="utf-8") as handle:
        return [
            (normalise(r["model"]), r["model"], float(r["tdp_w"]))
            for r in csv.DictReader(handle)
            if r["tdp_w"] and r["model"] != "Any"
        ]


def match_gpu(model_name: str) -> TdpMatch | None:
    key = normalise(model_name.replace("NVIDIA", ""))
    best: TdpMatch | None = None
    for norm, model, tdp in _gpu_table():
        score = difflib.SequenceMatcher(None, key, normalise(norm.replace("nvidia", ""))).ratio()
        if score >= 0.8 and (best is None or score > best.score):
            best = TdpMatch(model, tdp, None, "Green Algorithms", round(score, 3))
    return best
