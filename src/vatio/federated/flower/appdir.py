"""The bundled example as a Flower App on disk, and the CLI's SuperLink connection.

`flwr run` builds a Flower App Bundle (FAB) from a folder with a
`pyproject.toml`; the SuperNodes install that bundle and import its
components. The folder written here holds two one-line shims that point at
vatio's own ServerApp and ClientApp, so the code that runs is the installed
vatio, and the bundle stays a few hundred bytes.
"""

from __future__ import annotations

from pathlib import Path

APP_PACKAGE = "vatio_fl_app"

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "vatio-fl-health"
version = "1.0.0"
description = "vatio's bundled federated example (breast-cancer data, compact model)"
license = "MIT"
dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "vatio"

[tool.flwr.app.components]
serverapp = "vatio_fl_app.server_app:app"
clientapp = "vatio_fl_app.client_app:app"

[tool.flwr.app.config]
vatio-plan = ""
"""

_SHIM = "from vatio.federated.flower.health_app import {0}\n\napp = {0}\n"
SHIMS = {
    "__init__.py": '"""vatio\'s bundled federated example."""\n',
    "server_app.py": _SHIM.format("server_app"),
    "client_app.py": _SHIM.format("client_app"),
}


def write_app(folder: Path) -> Path:
    """Write the app folder (idempotent) and return it."""
    package = folder / APP_PACKAGE
    package.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for name, text in SHIMS.items():
        (package / name).write_text(text, encoding="utf-8")
    return folder


def superlink_config(home: Path, address: str) -> Path:
    """The `flwr` CLI's config in FLWR_HOME: one connection, "vatio", insecure, on loopback."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(
        f'[superlink]\ndefault = "vatio"\n\n[superlink.vatio]\naddress = "{address}"\n'
        "insecure = true\n",
        encoding="utf-8",
    )
    return path
