"""`import vatio` and `vatio --help` must stay light: nothing heavy at import time."""

import subprocess
import sys

HEAVY = ("torch", "numpy", "sqlalchemy", "pydantic", "onnxruntime", "matplotlib", "rich")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_vatio_loads_nothing_heavy():
    loaded = _loaded_after("import vatio")
    assert not {m for m in HEAVY if m in loaded}


def test_cli_app_loads_no_ml_or_database_stack():
    loaded = _loaded_after("import vatio.cli.app")
    assert not {
        m for m in ("torch", "numpy", "sqlalchemy", "onnxruntime", "matplotlib") if m in loaded
    }
