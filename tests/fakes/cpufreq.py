"""A cpufreq sysfs tree with the kernel's files, for machines (VMs) without one.

`<tmp>/sys/devices/system/cpu/cpufreq/policyN/` holds scaling_max_freq,
scaling_min_freq, cpuinfo_{min,max}_freq, scaling_governor,
scaling_available_governors, energy_performance_preference and
energy_performance_available_preferences; `intel_pstate/` holds max_perf_pct
and min_perf_pct. Writes really change the files. `install()` makes
vatio.power.cpufreq's writer behave like the kernel: EINVAL for values out of
range or unknown names, EBUSY for EPP under the performance governor, EACCES
for files deny() marked (root ignores file modes, so a mode alone cannot).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

GOVERNORS = "performance powersave"
EPPS = "default performance balance_performance balance_power power"


class FakeCpufreq:
    def __init__(
        self,
        tmp_path: Path,
        *,
        policies: int = 2,
        min_khz: int = 800_000,
        max_khz: int = 3_600_000,
        intel_pstate: bool = True,
    ) -> None:
        self.root = Path(tmp_path) / "sys" / "devices" / "system" / "cpu"
        self.min_khz, self.max_khz = min_khz, max_khz
        self.denied: set[Path] = set()
        for n in range(policies):
            folder = self.root / "cpufreq" / f"policy{n}"
            folder.mkdir(parents=True)
            files = {
                "cpuinfo_min_freq": min_khz,
                "cpuinfo_max_freq": max_khz,
                "scaling_min_freq": min_khz,
                "scaling_max_freq": max_khz,
                "scaling_governor": "powersave",
                "scaling_available_governors": GOVERNORS,
                "energy_performance_preference": "balance_performance",
                "energy_performance_available_preferences": EPPS,
                "scaling_driver": "intel_pstate",
            }
            for name, value in files.items():
                (folder / name).write_text(f"{value}\n")
        if intel_pstate:
            folder = self.root / "intel_pstate"
            folder.mkdir()
            (folder / "max_perf_pct").write_text("100\n")
            (folder / "min_perf_pct").write_text("20\n")
            (folder / "status").write_text("active\n")

    def path(self, policy: int | None, name: str) -> Path:
        if policy is None:
            return self.root / "intel_pstate" / name
        return self.root / "cpufreq" / f"policy{policy}" / name

    def read(self, policy: int | None, name: str) -> str:
        return self.path(policy, name).read_text().strip()

    def values(self, name: str) -> list[str]:
        folder = self.root / "cpufreq"
        return [self.read(int(p.name[6:]), name) for p in sorted(folder.iterdir())]

    def deny(self, policy: int | None, name: str) -> None:
        target = self.path(policy, name)
        target.chmod(0o444)
        self.denied.add(target)

    def validate(self, path: Path, text: str) -> None:
        """Raise the OSError the kernel would for this write."""
        name, folder = path.name, path.parent
        if path in self.denied:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        if name == "scaling_max_freq":
            value = int(text)
            low = int((folder / "scaling_min_freq").read_text())
            if not max(low, self.min_khz) <= value <= self.max_khz:
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), str(path))
        elif name == "scaling_governor" and text not in GOVERNORS.split():
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), str(path))
        elif name == "energy_performance_preference":
            if text not in EPPS.split():
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), str(path))
            if (folder / "scaling_governor").read_text().strip() == "performance":
                raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(path))
        elif name == "max_perf_pct":
            low = int((folder / "min_perf_pct").read_text())
            if not low <= int(text) <= 100:
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), str(path))

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Route vatio's cpufreq writes through the kernel's checks."""
        from vatio.power import cpufreq

        real = cpufreq._write_text

        def writer(path: Path, text: str) -> None:
            self.validate(Path(path), text)
            real(path, text)

        monkeypatch.setattr(cpufreq, "_write_text", writer)
        monkeypatch.setattr(cpufreq, "_writable", lambda p: Path(p) not in self.denied)
