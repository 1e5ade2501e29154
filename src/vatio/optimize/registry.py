"""The variants vatio knows, in table order, and the user's selection of them."""

from __future__ import annotations

from vatio.errors import InputError
from vatio.optimize.variant import Variant

THREADS = "threads"


def all_variants() -> list[Variant]:
    from vatio.optimize.distill import Distilled
    from vatio.optimize.eager import Fp32Eager
    from vatio.optimize.fp16 import OrtFp16
    from vatio.optimize.int8_dynamic import OrtInt8Dynamic
    from vatio.optimize.int8_static import OrtInt8Static
    from vatio.optimize.ort_fp32 import OrtFp32
    from vatio.optimize.prune import Pruned
    from vatio.optimize.stack import DistilledInt8, PrunedInt8

    return [
        Fp32Eager(), OrtFp32(), OrtInt8Dynamic(), OrtInt8Static(), OrtFp16(),
        Pruned(), PrunedInt8(), Distilled(), DistilledInt8(),
    ]  # fmt: skip


NAMES = (
    "fp32-eager", "ort-fp32", "ort-int8-dynamic", "ort-int8-static", "ort-fp16",
    "pruned", "pruned+int8-static", "distilled", "distilled+int8-static", THREADS,
)  # fmt: skip


def parse_selection(text: str | None) -> tuple[set[str] | None, bool]:
    """(names chosen or None for all, whether to sweep threads) from `--variants a,b,...`."""
    if not text:
        return None, True
    chosen = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(chosen - set(NAMES))
    if unknown:
        raise InputError(
            f"Unknown variant {unknown[0]!r} in --variants.",
            f"Choose from: {', '.join(NAMES)}.",
        )
    return chosen - {THREADS}, THREADS in chosen


def select(chosen: set[str] | None, baseline: str) -> list[Variant]:
    """The chosen variants, always with the baseline first (every Δ is measured against it)."""
    variants = all_variants()
    picked = [v for v in variants if chosen is None or v.name in chosen or v.name == baseline]
    picked.sort(key=lambda v: v.name != baseline)
    return picked
