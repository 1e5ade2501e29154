"""Linux CPU frequency knobs through cpufreq sysfs (and intel_pstate when present).

The root (`/sys/devices/system/cpu`) is a parameter, as for RAPL, so tests use
a fake tree; `VATIO_CPUFREQ_ROOT` overrides it for whole commands and is kept
in the restore file. One knob sets every policy (every group of CPUs sharing a
clock) to the same value; its snapshot keeps each policy's own value, so a
restore puts back exactly what was there. Files and their meaning: the
kernel's Documentation/admin-guide/pm/cpufreq.rst and intel_pstate.rst.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from vatio.power.common import Knob, KnobUnavailable

DEFAULT_ROOT = "/sys/devices/system/cpu"
ENV_ROOT = "VATIO_CPUFREQ_ROOT"

NOT_EXPOSED_FIX = (
    "Nothing to do inside a VM or most containers (the host sets the clock); on bare metal load "
    "a cpufreq driver (intel_pstate, amd-pstate or acpi-cpufreq)."
)
GROUP_FIX = (
    "Let a group write it instead of running as root: `sudo groupadd -f power && sudo chgrp power "
    "{path} && sudo chmod g+w {path}`, made permanent with a systemd-tmpfiles rule (docs/power.md)."
)


def default_root() -> Path:
    return Path(os.environ.get(ENV_ROOT) or DEFAULT_ROOT)


def _read_text(path: Path) -> str:
    with open(path, encoding="ascii", errors="replace") as handle:
        return handle.read().strip()


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def policies(root: Path) -> list[Path]:
    folder = root / "cpufreq"
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.name.startswith("policy") and p.name[6:].isdigit()),
        key=lambda p: int(p.name[6:]),
    )


class SysfsKnob(Knob):
    """A value kept in one file per cpufreq policy (or in one intel_pstate file)."""

    target = "cpu"
    filename: str
    cast: type = str

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    def backend(self) -> dict[str, Any]:
        return {"sysfs_root": str(self.root)}

    def files(self) -> list[Path]:
        found = [p / self.filename for p in policies(self.root)]
        return [f for f in found if f.exists()]

    def _files_or_fail(self) -> list[Path]:
        files = self.files()
        if files:
            return files
        if not policies(self.root):
            raise KnobUnavailable(
                f"{self.label}: no cpufreq here ({self.root / 'cpufreq'} is missing).",
                NOT_EXPOSED_FIX,
            )
        raise KnobUnavailable(
            f"{self.label}: this cpufreq driver has no {self.filename}.",
            "Not offered by this CPU's driver; use another knob.",
        )

    def _read_file(self, path: Path) -> Any:
        try:
            text = _read_text(path)
        except OSError as error:
            raise KnobUnavailable(f"{self.label}: cannot read {path} ({error.strerror}).") from None
        try:
            return self.cast(text)
        except ValueError:
            raise KnobUnavailable(f"{self.label}: {path} holds {text!r}.") from None

    def read(self) -> Any:
        return self._read_file(self._files_or_fail()[0])

    def read_all(self) -> dict[str, Any]:
        return {str(f): self._read_file(f) for f in self._files_or_fail()}

    def write(self, value: Any) -> None:
        for path in self._files_or_fail():
            self._write_file(path, value)

    def _write_file(self, path: Path, value: Any) -> None:
        try:
            _write_text(path, str(value))
        except PermissionError:
            raise KnobUnavailable(
                f"{self.label}: writing {path} needs root (or a group that may write it).",
                GROUP_FIX.format(path=path),
            ) from None
        except OSError as error:
            raise self._write_error(path, value, error) from None

    def _write_error(self, path: Path, value: Any, error: OSError) -> KnobUnavailable:
        if error.errno == errno.EROFS:
            return KnobUnavailable(
                f"{self.label}: {path} is on a read-only sysfs (a container).",
                "Set it on the host, or run the container with a writable /sys (privileged).",
            )
        return KnobUnavailable(f"{self.label}: the kernel refused {value!r} ({error.strerror}).")

    def writable(self) -> tuple[bool, str | None, str | None]:
        for path in self._files_or_fail():
            if not _writable(path):
                if not os.access(path.parent, os.W_OK) and _read_only_fs(path):
                    return False, f"{path} is on a read-only sysfs", "Set it on the host."
                return False, f"writing {path} needs root", GROUP_FIX.format(path=path)
        return True, None, None

    def snapshot(self) -> dict[str, Any]:
        return {"files": self.read_all()}

    def restore(self, snapshot: dict[str, Any]) -> None:
        failures = []
        for path, value in snapshot["files"].items():
            try:
                self._write_file(Path(path), value)
            except KnobUnavailable as error:
                failures.append(error.message)
        if failures:
            raise KnobUnavailable("; ".join(failures))

    def notes(self) -> list[str]:
        values = set(self.read_all().values())
        return [] if len(values) <= 1 else [f"policies differ: {sorted(values)}"]


def _read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


class MaxFreqKnob(SysfsKnob):
    """scaling_max_freq: the highest clock the governor may pick (DVFS cap), in kHz."""

    key = "cpu_max_freq_khz"
    label = "CPU max frequency"
    unit = "kHz"
    filename = "scaling_max_freq"
    cast = int

    def allowed(self) -> dict[str, Any]:
        first = self._files_or_fail()[0].parent
        low = (
            self._read_file(first / "cpuinfo_min_freq")
            if (first / "cpuinfo_min_freq").exists()
            else None
        )
        high = (
            self._read_file(first / "cpuinfo_max_freq")
            if (first / "cpuinfo_max_freq").exists()
            else None
        )
        found: dict[str, Any] = {}
        if low is not None:
            found["min"] = int(low)
        if high is not None:
            found["max"] = int(high)
        return found

    def check_value(self, value: Any) -> Any:
        return super().check_value(int(value))


class _ChoiceKnob(SysfsKnob):
    choices_file: str

    def allowed(self) -> dict[str, Any]:
        path = self._files_or_fail()[0].parent / self.choices_file
        if not path.exists():
            return {}
        return {"choices": _read_text(path).split()}


class GovernorKnob(_ChoiceKnob):
    key = "cpu_governor"
    label = "CPU governor"
    filename = "scaling_governor"
    choices_file = "scaling_available_governors"


class EppKnob(_ChoiceKnob):
    """energy_performance_preference (intel_pstate / amd-pstate active mode)."""

    key = "cpu_epp"
    label = "CPU energy-performance preference"
    filename = "energy_performance_preference"
    choices_file = "energy_performance_available_preferences"

    def _write_error(self, path: Path, value: Any, error: OSError) -> KnobUnavailable:
        if error.errno == errno.EBUSY:
            return KnobUnavailable(
                f"{self.label}: the kernel refuses EPP changes under the performance governor.",
                "Set cpu_governor = powersave in the same setting.",
            )
        return super()._write_error(path, value, error)


class MaxPerfPctKnob(SysfsKnob):
    """intel_pstate/max_perf_pct: a cap on P-states, in % of the maximum."""

    key = "cpu_max_perf_pct"
    label = "CPU max performance (intel_pstate)"
    unit = "%"
    cast = int

    def files(self) -> list[Path]:
        path = self.root / "intel_pstate" / "max_perf_pct"
        return [path] if path.exists() else []

    def _files_or_fail(self) -> list[Path]:
        files = self.files()
        if not files:
            raise KnobUnavailable(
                f"{self.label}: no intel_pstate here ({self.root / 'intel_pstate'} is missing).",
                "Only Intel CPUs with the intel_pstate driver have it; use cpu_max_freq_khz.",
            )
        return files

    def allowed(self) -> dict[str, Any]:
        low = self.root / "intel_pstate" / "min_perf_pct"
        return {"min": int(_read_text(low)) if low.exists() else 1, "max": 100}

    def check_value(self, value: Any) -> Any:
        return super().check_value(int(value))


KNOB_CLASSES = {k.key: k for k in (MaxFreqKnob, GovernorKnob, EppKnob, MaxPerfPctKnob)}


def discover_cpu_knobs(root: Path | str | None = None) -> tuple[list[Knob], list[str]]:
    """Every cpufreq knob (also the unusable ones: `vatio power show` says why)."""
    base = Path(root) if root is not None else default_root()
    knobs: list[Knob] = [cls(base) for cls in KNOB_CLASSES.values()]
    notes = [] if policies(base) else [f"no cpufreq under {base} (usual in VMs and containers)"]
    return knobs, notes


def cpu_knob(key: str, backend: dict[str, Any]) -> Knob:
    return KNOB_CLASSES[key](backend.get("sysfs_root") or DEFAULT_ROOT)
