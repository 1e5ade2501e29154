"""The integrations' libraries load only where used: not by `import vatio` nor `vatio --help`."""

from __future__ import annotations

import subprocess
import sys

LIBRARIES = ("prometheus_client", "mlflow", "transformers", "lightning", "pytorch_lightning")


def test_neither_import_vatio_nor_the_cli_loads_an_integration_library():
    probe = (
        "import sys, vatio, vatio.cli.app, vatio.integrations\n"
        f"print(' '.join(m for m in {LIBRARIES!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == []
