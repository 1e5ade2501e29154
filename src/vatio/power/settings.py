"""Power settings: what a sweep tries, what `[tool.vatio.power]` holds, and how to read them.

A setting is a few knob values ({"gpu_power_limit_w": 200, "threads": 2}); an
empty one is the default, i.e. the machine as it was when vatio started. The
keys are the fields of `vatio.config.PowerSettings`, so a chosen setting is
written as the profile section as is.
"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vatio.errors import InputError

KEYS = (
    "gpu_power_limit_w",
    "gpu_max_clock_mhz",
    "gpu_memory_clock_mhz",
    "cpu_max_freq_khz",
    "cpu_governor",
    "cpu_epp",
    "cpu_max_perf_pct",
    "threads",
    "cores",
)
JOB_KEYS = ("threads", "cores")
MAX_SETTINGS = 64
SHORT = {
    "gpu_power_limit_w": ("", " W"),
    "gpu_max_clock_mhz": ("SM≤", " MHz"),
    "gpu_memory_clock_mhz": ("mem≤", " MHz"),
    "cpu_max_freq_khz": ("CPU≤", ""),
    "cpu_governor": ("", ""),
    "cpu_epp": ("EPP ", ""),
    "cpu_max_perf_pct": ("perf≤", "%"),
    "threads": ("", " threads"),
    "cores": ("", " cores"),
}


@dataclass(frozen=True)
class Setting:
    """Knob values in KEYS order; () is the default setting."""

    values: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, mapping: dict[str, Any]) -> Setting:
        unknown = [k for k in mapping if k not in KEYS]
        if unknown:
            raise InputError(f"Unknown power setting {unknown[0]!r}.", f"Known: {', '.join(KEYS)}.")
        return cls(tuple((k, mapping[k]) for k in KEYS if mapping.get(k) is not None))

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)

    def get(self, key: str) -> Any:
        return self.as_dict().get(key)

    @property
    def is_default(self) -> bool:
        return not self.values

    @property
    def label(self) -> str:
        if not self.values:
            return "default"
        return " · ".join(_short(k, v) for k, v in self.values)

    def machine_values(self) -> dict[str, Any]:
        return {k: v for k, v in self.values if k not in JOB_KEYS}


def _short(key: str, value: Any) -> str:
    before, after = SHORT[key]
    if key == "cpu_max_freq_khz":
        return f"{before}{value / 1e6:.2f} GHz"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{before}{value}{after}"


# -- parsing sweep flags ---------------------------------------------------------------
def split_list(text: str | None, what: str) -> list[str]:
    if text is None:
        return []
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        raise InputError(f"{what} is empty.", "Give values separated by commas, e.g. 150,200,250.")
    return items


def parse_numbers(text: str | None, what: str, *, integer: bool = False) -> list[float]:
    values = []
    for item in split_list(text, what):
        cleaned = re.sub(r"(?i)\s*(w|mhz|%)$", "", item)
        try:
            number = float(cleaned)
        except ValueError:
            raise InputError(
                f"{what}: cannot read {item!r}.", "Give numbers, e.g. 150,200."
            ) from None
        if number <= 0:
            raise InputError(f"{what}: {item!r} must be positive.")
        values.append(int(number) if integer else number)
    return values


def parse_frequencies_khz(text: str | None) -> list[int]:
    """'1.2GHz,2000MHz,2400000kHz' -> kHz; a bare number is MHz below 10000, else kHz."""
    found = []
    factors = {"ghz": 1_000_000, "mhz": 1000, "khz": 1}
    for item in split_list(text, "--cpu-max-freqs"):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", item)
        unit = (match.group(2).lower() if match else None) or None
        if match is None or (unit is not None and unit not in factors):
            raise InputError(
                f"--cpu-max-freqs: cannot read {item!r}.", "Use e.g. 1.2GHz, 1800MHz or 2400000kHz."
            )
        number = float(match.group(1))
        factor = factors[unit] if unit else (1000 if number < 10000 else 1)
        found.append(round(number * factor))
    return found


def grid(choices: dict[str, list[Any]]) -> list[Setting]:
    """The default first, then every combination of the listed values (KEYS order)."""
    keys = [k for k in KEYS if choices.get(k)]
    combos = [
        Setting.of(dict(zip(keys, values, strict=True)))
        for values in itertools.product(*(choices[k] for k in keys))
    ]
    settings = [Setting()]
    for setting in combos:
        if setting not in settings:
            settings.append(setting)
    if len(settings) > MAX_SETTINGS:
        raise InputError(
            f"That is {len(settings)} settings to measure (at most {MAX_SETTINGS}).",
            "List fewer values, or sweep one knob at a time.",
        )
    return settings


def ladder(low: float, high: float, count: int, step: float | None = None) -> list[float]:
    """`count` values from high down to low, evenly spaced, rounded to `step`."""
    if count <= 1 or high <= low:
        return [high]
    values = []
    for i in range(count):
        value = high - (high - low) * i / (count - 1)
        if step:
            value = round(value / step) * step
        value = min(max(value, low), high)
        if value not in values:
            values.append(value)
    return values


# -- the profile format ------------------------------------------------------------------
def to_profile(setting: Setting, gpus: list[int] | None = None) -> dict[str, Any]:
    """The `[tool.vatio.power]` table of a setting."""
    table = setting.as_dict()
    if gpus is not None and any(k.startswith("gpu_") for k in table):
        table = {"gpus": list(gpus), **table}
    return table


def profile_toml(table: dict[str, Any]) -> str:
    lines = ["[tool.vatio.power]"]
    for key, value in table.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def load_power_profile(path: Path | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """A `[tool.vatio.power]` table from a sweep's JSON, a TOML file, or the project profile."""
    from pydantic import ValidationError

    from vatio.config import PowerSettings

    if path is None:
        from vatio.config import load_profile

        profile, _ = load_profile(cwd=cwd)
        if profile.power is None:
            raise InputError(
                "The profile has no [tool.vatio.power] table.",
                "Give --profile best.json (written by `vatio power sweep --output`).",
            )
        return profile.power.model_dump(exclude_none=True)
    if not path.is_file():
        raise InputError(
            f"{path} is not a file.", "Give the file `vatio power sweep --output` wrote."
        )
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{path} cannot be read: {error}.") from None
    table = _find_table(data)
    if table is None:
        raise InputError(
            f"{path} holds no power setting.", "Expected a [tool.vatio.power] table (or `power`)."
        )
    try:
        return PowerSettings(**table).model_dump(exclude_none=True)
    except ValidationError as error:  # name the bad field
        first = error.errors()[0]
        where = first["loc"][0] if first["loc"] else "?"
        raise InputError(f"{path}: power setting `{where}` is not valid: {first['msg']}.") from None


def _find_table(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    for path in (("tool", "vatio", "power"), ("power",)):
        node: Any = data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            return node
    keys = set(data) - {"gpus"}
    return data if keys and keys <= set(KEYS) else None
