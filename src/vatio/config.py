"""The profile: how runs are measured and accounted, as code.

Sources, lowest priority first: defaults, `[tool.vatio]` in pyproject.toml or
`vatio.toml` (the nearest one up from the working directory), environment
variables (VATIO_ZONE, VATIO_STORE, VATIO_PUE, VATIO_INTERVAL, VATIO_PROJECT), then
flags.
The resolved profile and where each value came from are stored with each run.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from vatio.errors import InputError, ProfileError
from vatio.profile_files import ENV_KEYS, find_profile_file
from vatio.units import parse_duration

__all__ = ["ENV_KEYS", "Profile", "find_profile_file", "load_profile"]


class ReportSettings(BaseModel):
    """`[tool.vatio.report]`: SCI functional unit and embodied-carbon assumptions."""

    model_config = ConfigDict(extra="forbid")

    functional_unit: str | None = None
    embodied_kgco2e: float | None = Field(None, ge=0)
    gpu_embodied_kgco2e: float = Field(150.0, ge=0)
    lifetime_years: float = Field(4.0, gt=0)
    resource_share: float = Field(1.0, gt=0, le=1)


class CheckSettings(BaseModel):
    """`[tool.vatio.check]`: severity of each checklist item, waivers, thresholds."""

    model_config = ConfigDict(extra="forbid")

    severity: dict[str, Literal["fail", "warn", "off"]] = Field(default_factory=dict)
    waive: dict[str, str] = Field(default_factory=dict)
    utilisation_threshold: float = Field(0.3, ge=0, le=1)
    recent_runs: int = Field(20, ge=1)


class ScheduleSettings(BaseModel):
    """`[tool.vatio.schedule]`: make `vatio run` wait for the greenest window by default."""

    model_config = ConfigDict(extra="forbid")

    greenest: bool = False
    duration: str | None = None
    within: str = "24h"
    interruptible: bool = False
    min_chunk: str | None = None


class PowerSettings(BaseModel):
    """`[tool.vatio.power]`: a power setting chosen by `vatio power sweep`, for `vatio power apply`.

    Unset fields leave that knob as it is. Machine knobs (GPU, cpufreq) change the
    whole machine until `vatio power restore`; `threads` and `cores` apply to the
    process `vatio power apply -- CMD` starts.
    """

    model_config = ConfigDict(extra="forbid")

    gpus: list[int] | None = Field(None, description="GPU indices the GPU fields apply to")
    gpu_power_limit_w: float | None = Field(None, gt=0, le=5000)
    gpu_max_clock_mhz: int | None = Field(None, gt=0, le=10000)
    gpu_memory_clock_mhz: int | None = Field(None, gt=0, le=50000)
    cpu_max_freq_khz: int | None = Field(None, gt=0, le=20_000_000)
    cpu_governor: str | None = None
    cpu_epp: str | None = None
    cpu_max_perf_pct: int | None = Field(None, ge=1, le=100)
    threads: int | None = Field(None, ge=1, le=4096)
    cores: int | None = Field(None, ge=1, le=4096)


class LedgerSettings(BaseModel):
    """`[tool.vatio.ledger]`: the key that signs the run log, and keys trusted to verify it."""

    model_config = ConfigDict(extra="forbid")

    key: str | None = Field(None, description="path of this machine's Ed25519 signing key")
    trusted_keys: list[str] = Field(
        default_factory=list, description="verifier keys (vkey text or files) of other signers"
    )


class Profile(BaseModel):
    """Validated settings; every field has a safe default except the grid zone."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    zone: str | None = Field(
        None, description="grid zone for carbon (e.g. ES, US-CAL-CISO, gcp:us-west2)"
    )
    pue: float = Field(1.0, ge=1.0, le=5.0, description="power usage effectiveness")
    intensity: Literal["lca", "direct"] = Field(
        "lca", description="kind of grid intensity: lca (life cycle) or direct"
    )
    store: str | None = Field(
        None, description="run store: a SQLAlchemy URL or an SQLite file path"
    )
    interval: float = Field(1.0, gt=0, le=60, description="sampling interval in seconds")
    idle_baseline: float = Field(
        0.0, ge=0, le=600, description="length of the idle measurement before a run, in seconds"
    )
    cpu_tdp_w: float | None = Field(
        None, gt=0, le=5000, description="CPU TDP in watts, used instead of the bundled tables"
    )
    memory_w_per_gb: float = Field(
        0.3725, gt=0, le=10, description="memory power in watts per GB in use"
    )
    name: str | None = Field(None, description="default run name")
    project: str | None = Field(None, description="project the runs belong to (team stores)")
    provider: Literal["electricitymaps", "ukgrid"] | None = Field(
        None, description="live carbon-intensity source used for scheduling (opt-in, online)"
    )
    electricitymaps_key: SecretStr | None = Field(
        None, description="Electricity Maps API key (else VATIO_ELECTRICITYMAPS_KEY)"
    )
    provider_timeout: float = Field(10.0, gt=0, le=120, description="provider timeout in seconds")
    report: ReportSettings = Field(default_factory=ReportSettings, description="report settings")
    check: CheckSettings = Field(default_factory=CheckSettings, description="checklist settings")
    schedule: ScheduleSettings | None = Field(None, description="default greenest-run settings")
    power: PowerSettings | None = Field(None, description="power setting for `vatio power apply`")
    ledger: LedgerSettings = Field(default_factory=LedgerSettings, description="signed run log")

    @field_validator("interval", "idle_baseline", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except InputError as error:
                raise ValueError(
                    error.message.rstrip(".") + "; use e.g. 500ms, 10s or 1m"
                ) from None
        return value

    @field_validator("zone")
    @classmethod
    def _zone_upper(cls, value: str | None) -> str | None:
        return value.strip().upper() if isinstance(value, str) else value


def load_profile(
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    label: Callable[[str], str] | None = None,
) -> tuple[Profile, dict[str, str]]:
    """The resolved profile and, for each set key, the source it came from.

    `label(key)` names where an override came from (default: the CLI flag).
    """
    cwd = cwd or Path.cwd()
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    found = find_profile_file(cwd)
    if found is not None:
        path, table = found
        where = f"{path}" + (" [tool.vatio]" if path.name == "pyproject.toml" else "")
        _check_keys(table, where)
        values.update(table)
        sources.update(dict.fromkeys(table, where))
    for variable, key in ENV_KEYS.items():
        if env.get(variable):
            values[key] = env[variable]
            sources[key] = f"environment {variable}"
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
            sources[key] = label(key) if label else f"--{key.replace('_', '-')} flag"
    try:
        profile = Profile(**values)
    except ValidationError as error:
        raise _profile_error(error, values, sources) from None
    return profile, sources


def _check_keys(table: Mapping[str, Any], where: str) -> None:
    known = list(Profile.model_fields)
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"Did you mean `{close[0]}`?" if close else f"Known keys: {', '.join(known)}."
            shown = f"`{key}`" if str(key).isprintable() else repr(key)
            raise ProfileError(f"{where}: unknown key {shown}.", hint)


def _profile_error(
    error: ValidationError, values: Mapping[str, Any], sources: Mapping[str, str]
) -> ProfileError:
    first = error.errors()[0]
    key = str(first["loc"][0]) if first["loc"] else "?"
    where = sources.get(key, "profile")
    message = first["msg"].rstrip(".")
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return ProfileError(
        f"{where}: `{key}` = {values.get(key)!r} is not valid: {message}.",
        _field_hint(key),
    )


def _field_hint(key: str) -> str | None:
    field = Profile.model_fields.get(key)
    if field is None or not field.description:
        return None
    return f"`{key}` is the {field.description}."
