"""Run `vatio ARGS` in this process as its entry point does (exit code, stdout, stderr).

Much faster than a subprocess; one end-to-end test per command still uses one.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from vatio.cli.app import main


def run_main(capsys, monkeypatch, *args: str, store=None) -> subprocess.CompletedProcess:
    if store is not None:
        monkeypatch.setenv("VATIO_STORE", str(store))
    monkeypatch.setattr(sys, "argv", ["vatio", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), stop.value.code or 0, out, err)
