"""Run the real `vatio` command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

VATIO = [sys.executable, "-m", "vatio"]
#: settings of the test session itself, not of a user: where its resident recorder lives
KEPT = ("VATIO_RESIDENT_DIR", "VATIO_RESIDENT", "VATIO_RESIDENT_IDLE")


def env_for(store: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VATIO_") or k in KEPT}
    if store is not None:
        env["VATIO_STORE"] = str(store)
    return env


def vatio(*args: str, store: Path | None = None, timeout: float = 60, **kwargs):
    return subprocess.run(
        [*VATIO, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env_for(store),
        **kwargs,
    )


def runs_json(store: Path) -> list[dict]:
    done = vatio("runs", "list", "--json", "--limit", "0", store=store)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
