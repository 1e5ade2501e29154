"""A real powercap directory tree with kernel-like counters, for machines without RAPL.

Files are the ones the kernel exposes (``name``, ``energy_uj``,
``max_energy_range_uj``, ``constraint_0_max_power_uw``); counters wrap modulo
the range as the kernel does. Permission denial needs ``install()`` when tests
run as root, because root reads a mode-000 file without complaint.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

#: a common value on Intel servers (2**32 units of 61.035 µJ)
DEFAULT_RANGE_UJ = 262_143_328_850


@dataclass
class _Domain:
    path: Path
    energy_uj: int
    max_range_uj: int


class FakePowercap:
    """Builds ``<tmp>/sys/class/powercap`` and drives its counters."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = Path(tmp_path) / "sys" / "class" / "powercap"
        self.root.mkdir(parents=True)
        self.domains: dict[str, _Domain] = {}
        self.denied: set[Path] = set()

    def add_domain(
        self,
        dirname: str,
        name: str,
        *,
        energy_uj: int = 0,
        max_range_uj: int = DEFAULT_RANGE_UJ,
        max_power_uw: int | None = None,
    ) -> str:
        """One domain directory (e.g. 'intel-rapl:0:0' named 'dram'); returns dirname."""
        path = self.root / dirname
        path.mkdir()
        (path / "name").write_text(name + "\n")
        (path / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
        if max_power_uw is not None:
            (path / "constraint_0_max_power_uw").write_text(f"{max_power_uw}\n")
        self.domains[dirname] = _Domain(path, energy_uj % max_range_uj, max_range_uj)
        self._write(dirname)
        return dirname

    def add_package(self, socket: int, *, ctype: str = "intel-rapl", **kwargs: int) -> str:
        (self.root / ctype).mkdir(exist_ok=True)  # the control-type directory, not a domain
        return self.add_domain(f"{ctype}:{socket}", f"package-{socket}", **kwargs)

    def add_subdomain(
        self, socket: int, index: int, name: str, *, ctype: str = "intel-rapl", **kwargs: int
    ) -> str:
        return self.add_domain(f"{ctype}:{socket}:{index}", name, **kwargs)

    def _write(self, dirname: str) -> None:
        dom = self.domains[dirname]
        if dom.path.is_dir() and dom.path / "energy_uj" not in self.denied:
            (dom.path / "energy_uj").write_text(f"{dom.energy_uj}\n")

    def advance(self, dirname: str, delta_uj: int) -> int:
        """Add energy; the counter wraps modulo max_energy_range_uj. Returns the new value."""
        dom = self.domains[dirname]
        dom.energy_uj = (dom.energy_uj + delta_uj) % dom.max_range_uj
        if (dom.path / "energy_uj").exists():
            self._write(dirname)
        return dom.energy_uj

    def energy(self, dirname: str) -> int:
        return self.domains[dirname].energy_uj

    def path(self, dirname: str, filename: str = "energy_uj") -> Path:
        return self.domains[dirname].path / filename

    def deny(self, dirname: str, filename: str = "energy_uj") -> None:
        """chmod 000, plus a record that install()'s reader turns into EACCES under root."""
        target = self.path(dirname, filename)
        target.chmod(0)
        self.denied.add(target)

    def remove_file(self, dirname: str, filename: str = "energy_uj") -> None:
        """The file disappears: reads fail with FileNotFoundError, an OSError."""
        self.path(dirname, filename).unlink()

    def restore_file(self, dirname: str) -> None:
        """Put energy_uj back with the value the counter reached meanwhile."""
        self._write(dirname)

    def remove_domain(self, dirname: str) -> None:
        for child in self.domains[dirname].path.iterdir():
            child.chmod(0o644)
            child.unlink()
        self.domains.pop(dirname).path.rmdir()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Route vatio.devices.rapl's file reads through a reader honouring deny() under root."""
        from vatio.devices import rapl

        real = rapl._read_text

        def reader(path: Path) -> str:
            if Path(path) in self.denied:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real(path)

        monkeypatch.setattr(rapl, "_read_text", reader)
