"""Flower, installed and offline: the import check and the environment of every process.

Flower phones home unless told not to: a telemetry event on each start
(`FLWR_TELEMETRY_ENABLED`), a release check (`FLWR_DISABLE_UPDATE_CHECK`) and,
on the SuperLink, `uv sync` of the app's dependencies
(`FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION`). All three are switched off
here, proxies are bypassed for loopback, and each process gets its own
`FLWR_HOME` inside the run folder so that nothing is written to ~/.flwr.
"""

from __future__ import annotations

import os
from pathlib import Path

from vatio.errors import InputError

#: the Flower versions whose deployment engine vatio drives (checked at run time)
SUPPORTED = ">=1.42,<2"

OFFLINE_ENV = {
    "FLWR_TELEMETRY_ENABLED": "0",
    "FLWR_TELEMETRY_LOGGING": "0",
    "FLWR_DISABLE_UPDATE_CHECK": "1",
    "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1",
    "FLWR_TRACING_ENABLED": "0",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


def flower_version() -> str:
    """The installed flwr version, or an InputError that says how to install it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("flwr")
    except PackageNotFoundError:
        raise InputError(
            "Federated learning needs Flower (flwr), which is not installed.",
            "Install it with: pip install 'vatio[fl]'",
        ) from None
    from packaging.specifiers import SpecifierSet

    if found not in SpecifierSet(SUPPORTED):
        raise InputError(
            f"Flower {found} is installed; vatio fl drives Flower {SUPPORTED}.",
            "Install a supported version with: pip install 'vatio[fl]'",
        )
    return found


def process_env(home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of one Flower process: offline switches and its own FLWR_HOME."""
    import sys

    env = dict(os.environ if base is None else base)
    env.update(OFFLINE_ENV)
    # Flower starts its own commands (flower-superexec, flwr-clientapp) by name.
    scripts = str(Path(sys.executable).parent)
    path = env.get("PATH", "")
    if scripts not in path.split(os.pathsep):
        env["PATH"] = scripts + (os.pathsep + path if path else "")
    env["FLWR_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    return env


def apply_offline_env(home: Path) -> None:
    """Set the offline switches in this process, before flwr is imported."""
    os.environ.update(process_env(home, {}))
