"""Facts about the host and interpreter for the run manifest; cheap, and cached where fixed.

Python, OS, CPU and the installed packages cannot change within a process, so they are
read once (``clear_caches`` forgets them, for tests or after an in-process install).
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    from importlib.metadata import Distribution

_CONTAINER_CGROUP_MARKERS = ("docker", "kubepods", "containerd")
_PEP503_SEPARATORS = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    """PEP 503 normalised project name, so 'Foo_Bar' and 'foo-bar' count as one package."""
    return _PEP503_SEPARATORS.sub("-", name).lower()


# --- parts that cannot change within a process (cached) ---------------------------------


@functools.lru_cache(maxsize=1)
def _python_static() -> tuple[tuple[str, str], ...]:
    return (
        ("version", sys.version.split()[0]),  # what platform.python_version() parses out
        ("implementation", _implementation()),
        ("executable", sys.executable),
    )


@functools.lru_cache(maxsize=1)
def _os_static() -> tuple[tuple[str, str], ...]:
    return (
        ("system", _uname().sysname),
        ("release", _uname().release),
        ("machine", _uname().machine),
        ("platform", _platform_text()),
    )


#: sys.implementation.name -> platform.python_implementation()
_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "ironpython": "IronPython",
                    "jython": "Jython"}  # fmt: skip


def _implementation() -> str:
    known = _IMPLEMENTATIONS.get(sys.implementation.name)
    return known or _platform().python_implementation()


def _platform():
    """The platform module, imported only where os.uname() and sys cannot answer (~5 ms)."""
    import platform

    return platform


def _uname() -> Any:
    try:
        return os.uname()
    except AttributeError:  # no os.uname (Windows)
        return _platform().uname()


def _platform_text() -> str:
    """platform.platform(), remembered per machine and interpreter: on Linux it forks
    `uname -p` and reads the interpreter's binary for its libc (~10 ms every run)."""
    import json

    from vatio.statefiles import recall, remember

    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):
        libc = ""
    key = json.dumps([list(_uname()), libc, sys.version, sys.executable])
    saved = recall("platform", key)
    if isinstance(saved, str) and saved:
        return saved
    text = _platform().platform()
    remember("platform", key, text)
    return text


@functools.lru_cache(maxsize=4)
def _cpu_static(cpuinfo: str = "/proc/cpuinfo") -> tuple[tuple[str, Any], ...]:
    """CPU model and hypervisor flag; the first processor block of cpuinfo is enough."""
    model: str | None = None
    hypervisor: bool | None = None  # unknown unless a flags line says either way
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, sep, value = line.partition(":")
                if not line.strip() and (model or hypervisor is not None):
                    break  # end of the first processor block
                key = key.strip()
                if sep and key == "model name" and model is None:
                    model = value.strip() or None
                elif sep and key == "flags" and hypervisor is None:
                    hypervisor = "hypervisor" in value.split()
                if model and hypervisor is not None:
                    break
    except OSError:
        pass
    return (
        ("model", model or _platform().processor() or None),
        ("logical_cores", psutil.cpu_count(logical=True)),
        ("physical_cores", psutil.cpu_count(logical=False)),
        ("hypervisor", hypervisor),
    )


def _name_version(dist: Distribution) -> tuple[str | None, str | None]:
    """Name and version from the metadata header only: parsing whole METADATA files with the
    email parser costs ~15x more, which matters at the start of every run."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    name = version = None
    if text:
        end = text.find("\n\n")
        for line in (text if end < 0 else text[:end]).splitlines():
            if name is None and line.startswith("Name:"):
                name = line[5:].strip()
            elif version is None and line.startswith("Version:"):
                version = line[8:].strip()
    if not name or not version:
        name, version = dist.metadata["Name"], dist.version  # slow, exact fallback
    return name, version


@functools.lru_cache(maxsize=1)
def _installed_packages() -> tuple[tuple[str, str], ...]:
    """Read from a cache keyed on every sys.path folder's modification time (installing or
    removing a package changes its folder's), else scanned and the cache written."""
    from vatio.statefiles import recall, remember

    key = _paths_key()
    try:
        return tuple((str(n), str(v)) for n, v in recall("packages", key))
    except (TypeError, ValueError):  # nothing remembered (None), or not pairs
        pass
    found = _scan_packages()
    remember("packages", key, found)
    return found


def _paths_key() -> str:
    parts = []
    for position, entry in enumerate(sys.path):
        try:
            if position == 0 and not sys.flags.safe_path:
                # the script's folder (or the working folder for `python -m`): its own mtime
                # changes whenever the job writes a file there, its package metadata rarely
                parts.append(f"{entry}:{_metadata_stamp(entry or '.')}")
            else:
                parts.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            parts.append(f"{entry}:-")
    return "\n".join(parts)


def _metadata_stamp(folder: str) -> str:
    """The package metadata a folder holds (*.dist-info, *.egg-info), with their mtimes."""
    with os.scandir(folder) as entries:
        found = sorted(
            f"{e.name}@{e.stat().st_mtime_ns}"
            for e in entries
            if e.name.endswith((".dist-info", ".egg-info"))
        )
    return ",".join(found)


def _scan_packages() -> tuple[tuple[str, str], ...]:
    import importlib.metadata as md  # lazy: a ~40 ms cold import, needed only here

    found: dict[str, str] = {}
    for dist in md.distributions():
        name, version = _name_version(dist)
        if name and version:
            # First on sys.path wins: that is the copy Python imports.
            found.setdefault(normalize_name(name), version)
    return tuple(sorted(found.items()))


def clear_caches() -> None:
    """Forget cached probes (tests; or after installing packages inside a process)."""
    for cached in (_python_static, _os_static, _cpu_static, _installed_packages):
        cached.cache_clear()


def installed_packages() -> list[dict[str, str]]:
    """Every installed distribution as sorted ``{"name", "version"}`` dicts."""
    return [{"name": n, "version": v} for n, v in _installed_packages()]


# --- environment --------------------------------------------------------------------------


def detect_environment(
    *,
    env: Mapping[str, str] | None = None,
    prefix: str | None = None,
    base_prefix: str | None = None,
    root: Path = Path("/"),
) -> dict[str, Any]:
    """Isolation the run executes in (venv, conda, container; all that apply) and its prefix."""
    env = os.environ if env is None else env
    prefix = sys.prefix if prefix is None else prefix
    base_prefix = sys.base_prefix if base_prefix is None else base_prefix
    kinds: list[str] = []
    if prefix != base_prefix:
        kinds.append("venv")
    if (
        env.get("CONDA_PREFIX")
        or (Path(prefix) / "conda-meta").is_dir()
        or (Path(base_prefix) / "conda-meta").is_dir()
    ):
        kinds.append("conda")
    in_container = (root / ".dockerenv").exists() or (root / "run/.containerenv").exists()
    if not in_container:
        try:
            cgroup = (root / "proc/1/cgroup").read_text(encoding="utf-8", errors="replace")
        except OSError:
            cgroup = ""
        in_container = any(marker in cgroup for marker in _CONTAINER_CGROUP_MARKERS)
    if in_container:
        kinds.append("container")
    return {"kinds": kinds, "prefix": prefix, "base_prefix": base_prefix}


def python_info() -> dict[str, str]:
    """Interpreter version, implementation and path."""
    return dict(_python_static())


def os_info() -> dict[str, str]:
    """Operating system name, release, machine and platform string."""
    return dict(_os_static())


def cpu_info(cpuinfo: str = "/proc/cpuinfo") -> dict[str, Any]:
    """CPU model, logical and physical cores, and whether it runs under a hypervisor."""
    return dict(_cpu_static(cpuinfo))


def memory_gb() -> float:
    """Total RAM in GiB (what people mean by '16 GB of RAM')."""
    return round(psutil.virtual_memory().total / 2**30, 3)
