"""Flower offline: telemetry, update checks and dependency installs are off in every process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from vatio.federated.flower.env import OFFLINE_ENV, process_env

pytest.importorskip("flwr")


def test_every_flower_process_gets_the_offline_switches(tmp_path):
    env = process_env(tmp_path / "home", {"PATH": "/bin"})
    assert env["FLWR_TELEMETRY_ENABLED"] == "0" and env["FLWR_DISABLE_UPDATE_CHECK"] == "1"
    assert env["FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION"] == "1"
    assert env["FLWR_HOME"] == str(tmp_path / "home") and (tmp_path / "home").is_dir()
    assert "127.0.0.1" in env["NO_PROXY"]


def test_flower_telemetry_sends_nothing_with_them(tmp_path):
    """Flower's own telemetry call, made for real: it must not try to open a connection."""
    code = (
        "import json, sys, urllib.request\n"
        "calls = []\n"
        "urllib.request.urlopen = lambda *a, **k: calls.append(a) or 1/0\n"
        "from flwr.supercore import telemetry\n"
        "result = telemetry.create_event(telemetry.EventType.PING, {})\n"
        "print(json.dumps([telemetry.FLWR_TELEMETRY_ENABLED, result, len(calls)]))\n"
    )
    env = process_env(tmp_path / "home")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.splitlines()[-1]) == ["0", "disabled", 0]


def test_the_switches_are_the_documented_flower_variables():
    names = set(OFFLINE_ENV)
    assert {"FLWR_TELEMETRY_ENABLED", "FLWR_DISABLE_UPDATE_CHECK"} <= names


def test_the_warm_executor_finds_the_runtime_api():
    from vatio.federated.flower import warm

    assert warm.available()
