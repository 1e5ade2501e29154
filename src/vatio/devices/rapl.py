"""CPU package and DRAM energy from Linux powercap (Intel RAPL and AMD RAPL).

The kernel exposes each RAPL domain as a directory under /sys/class/powercap
holding a cumulative ``energy_uj`` counter that wraps at ``max_energy_range_uj``.
Only package and DRAM domains are read: ``core``/``uncore`` sit inside the
package and ``psys`` covers the whole platform, so adding them would count the
same joules twice.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from vatio.devices.common import MEASURED_RAPL, Discovery, EnergySensor, Reading, SensorStatus
from vatio.errors import SensorReadError

DEFAULT_ROOT = "/sys/class/powercap"
#: power ceiling assumed when the domain states none; above any current server socket
DEFAULT_CEILING_W = 500.0
#: poll at least twice per wrap period, because turbo (PL2) can exceed constraint_0
SAFETY_FACTOR = 2.0

_DOMAIN_RE = re.compile(
    r"^(?P<ctype>[a-z0-9]+(?:-[a-z0-9]+)*-rapl(?P<mmio>-mmio)?):(?P<pkg>\d+)(?::(?P<sub>\d+))?$"
)
_ESTIMATE_HINT = "vatio will estimate CPU energy from TDP and load instead."
_INSIDE_PACKAGE = {"core", "uncore"}


def _read_text(path: Path) -> str:
    """Read a small sysfs file; the one place files are opened, so tests can patch it."""
    with open(path) as f:
        return f.read()


def _read_int(path: Path) -> int:
    return int(_read_text(path).strip())


class RaplSensor(EnergySensor):
    """One RAPL domain; turns the wrapping microjoule counter into cumulative joules."""

    method = MEASURED_RAPL

    def __init__(self, name: str, device: str, path: Path, max_range_uj: int, ceiling_uw: int):
        super().__init__()
        self.name = name
        self.device = device
        self.path = Path(path)
        self._energy_file = self.path / "energy_uj"
        self.max_range_uj = max_range_uj
        self.ceiling_uw = ceiling_uw
        self.wraps = 0
        self._last_raw: int | None = None
        self._total_uj = 0
        self._started_at: float | None = None
        #: seconds before the first good read when start() itself failed (energy not seen)
        self.unmeasured_s = 0.0
        self.assumptions.append(
            "A wrap adds max_energy_range_uj - previous + new; the kernel counter actually "
            "rolls over one energy unit (~15-61 µJ) later, an error below 1e-6 of a wrap."
        )

    @property
    def max_interval_s(self) -> float:
        """Time for the counter to cover half its range at the power ceiling: at most one wrap."""
        return self.max_range_uj / self.ceiling_uw / SAFETY_FACTOR

    def _raw(self) -> int:
        try:
            return _read_int(self._energy_file)
        except (OSError, ValueError) as exc:
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise SensorReadError(f"{self.name}: cannot read {self._energy_file}: {exc}") from exc

    def start(self, now: float) -> None:
        self._total_uj = 0
        self.wraps = 0
        self._last_raw = None
        self._started_at = now
        self._last_raw = self._raw()

    def start_from(self, origin: Any, now: float) -> bool:
        raw = origin.rapl_uj.get(os.path.realpath(self._energy_file))
        if raw is None:
            return super().start_from(origin, now)
        self._total_uj, self.wraps = 0, 0
        self._started_at, self._last_raw = origin.monotonic, raw
        return True

    def read(self, now: float) -> Reading:
        raw = self._raw()
        if self._last_raw is not None:
            self._total_uj += self._delta(self._last_raw, raw)
        elif self._started_at is not None:
            self.unmeasured_s += max(0.0, now - self._started_at)
        self._last_raw = raw
        return Reading.exact(self._total_uj / 1e6)

    def _delta(self, prev: int, new: int) -> int:
        """Counter difference; a smaller value means the counter wrapped once."""
        if new >= prev:
            return new - prev
        self.wraps += 1
        return self.max_range_uj - prev + new

    def describe(self) -> dict:
        return {
            **super().describe(),
            "path": str(self.path),
            "max_energy_range_uj": self.max_range_uj,
            "power_ceiling_w": self.ceiling_uw / 1e6,
            "max_interval_s": self.max_interval_s,
            "wraps": self.wraps,
            "unmeasured_s": self.unmeasured_s,
            "errors": self.errors,
            "last_error": self.last_error,
            "assumptions": list(self.assumptions),
        }


def discover_rapl(root: str | Path = DEFAULT_ROOT) -> Discovery:
    """Find the package and DRAM domains of every socket; say why any is unusable."""
    root = Path(root)
    found = Discovery()
    if not root.is_dir():
        found.statuses.append(
            _status(
                f"RAPL: {root} absent — virtual machine, container without /sys, or a non-Linux OS",
                _ESTIMATE_HINT,
            )
        )
        return found
    domains = _list_domains(root)
    if not domains:
        found.statuses.append(
            _status(
                f"RAPL: no *-rapl domains under {root} "
                "(RAPL driver not loaded, or a CPU without RAPL)",
                "Try `sudo modprobe intel_rapl_msr` (it also serves AMD Zen on recent kernels); "
                + _ESTIMATE_HINT,
            )
        )
        return found
    seen: dict[str, str] = {}
    for match in domains:
        _consider(root, match, seen, found)
    return found


def _list_domains(root: Path) -> list[re.Match[str]]:
    """Domain directories, MSR interface before MMIO so MMIO duplicates can be recognised."""
    matches = [m for p in root.iterdir() if (m := _DOMAIN_RE.match(p.name))]
    return sorted(matches, key=lambda m: (bool(m["mmio"]), int(m["pkg"]), int(m["sub"] or -1)))


def _consider(root: Path, match: re.Match[str], seen: dict[str, str], found: Discovery) -> None:
    """Turn one domain directory into a sensor or a status line."""
    dirname = match.group(0)
    path = root / dirname
    try:
        label = _read_text(path / "name").strip()
    except OSError as exc:
        found.statuses.append(_status(f"RAPL: {dirname} has no readable name ({exc}); skipped"))
        return
    key = _sensor_name(label, match)
    if key is None:
        found.statuses.append(_status(_ignored_reason(dirname, label)))
        return
    if key in seen and not match["mmio"]:
        key = f"{key.split(':', 1)[0]}:{dirname}"  # two sockets with one label: keep both
    if key in seen:
        found.statuses.append(
            _status(
                f"RAPL: {dirname} ({label}) duplicates {seen[key]}; "
                "skipped so it is not counted twice"
            )
        )
        return
    sensor_or_status = _make_sensor(key, path, match["ctype"], root)
    if isinstance(sensor_or_status, SensorStatus):
        found.statuses.append(sensor_or_status)
        return
    seen[key] = dirname
    found.sensors.append(sensor_or_status)
    found.statuses.append(
        SensorStatus(
            key,
            True,
            MEASURED_RAPL,
            f"RAPL: {dirname} ({label}), counter range {sensor_or_status.max_range_uj / 1e6:.0f} J",
        )
    )


def _sensor_name(label: str, match: re.Match[str]) -> str | None:
    """'cpu:package-N' for a package, 'dram:N' for a DRAM subdomain, None for anything else."""
    if match["sub"] is None and label.startswith("package"):
        return f"cpu:{label}"
    if match["sub"] is not None and label == "dram":
        return f"dram:{match['pkg']}"
    return None


def _ignored_reason(dirname: str, label: str) -> str:
    if label in _INSIDE_PACKAGE:
        return f"RAPL: {dirname} ({label}) ignored: already included in its package"
    if label == "psys":
        return (
            f"RAPL: {dirname} (psys) ignored: platform domain spanning the package and more; "
            "adding it would double count"
        )
    return f"RAPL: {dirname} ({label}) ignored: not a package or DRAM domain"


def _make_sensor(key: str, path: Path, ctype: str, root: Path) -> RaplSensor | SensorStatus:
    for needed in ("energy_uj", "max_energy_range_uj"):
        if not (path / needed).is_file():
            return _status(f"RAPL: {path.name} lacks {needed}; skipped", name=key)
    try:
        max_range = _read_int(path / "max_energy_range_uj")
        _read_int(path / "energy_uj")
    except PermissionError as exc:
        return _status(
            f"RAPL: permission denied reading {exc.filename or path / 'energy_uj'}",
            _permission_hint(root, ctype),
            name=key,
        )
    except (OSError, ValueError) as exc:
        return _status(f"RAPL: cannot read {path.name}: {exc}; skipped", name=key)
    if max_range <= 0:
        return _status(
            f"RAPL: {path.name} reports max_energy_range_uj={max_range}; skipped", name=key
        )
    device = key.split(":", 1)[0]
    return RaplSensor(key, device, path, max_range, _ceiling_uw(path))


def _ceiling_uw(path: Path) -> int:
    """constraint_0_max_power_uw when the domain states one, else the 500 W default."""
    try:
        value = _read_int(path / "constraint_0_max_power_uw")
    except (OSError, ValueError):
        value = 0
    return value if value > 0 else int(DEFAULT_CEILING_W * 1e6)


def _permission_hint(root: Path, ctype: str) -> str:
    return (
        "Since CVE-2020-8694 (Platypus) energy_uj is readable by root only. "
        f"Fix with `sudo chmod a+r {root}/{ctype}:*/energy_uj {root}/{ctype}:*:*/energy_uj` "
        "(lasts until reboot), a udev rule that does the same at boot, or run as root. "
        "Until then vatio will estimate CPU energy from TDP and load instead."
    )


def _status(detail: str, hint: str | None = None, name: str = "rapl") -> SensorStatus:
    return SensorStatus(name=name, available=False, method=MEASURED_RAPL, detail=detail, hint=hint)
