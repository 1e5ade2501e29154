"""`vatio schedule` through typer's CliRunner (the command module on its own app)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from vatio.cli.schedule import register

WHEN = ["--earliest", "2026-11-26T10:00Z"]


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.callback()
    def _root() -> None:
        """vatio (test app)"""

    register(app)
    return app


def invoke(app: typer.Typer, *args: str):
    return CliRunner().invoke(
        app, ["schedule", *args], env={"VATIO_ELECTRICITYMAPS_KEY": "", "VATIO_ZONE": ""}
    )


def test_json_window(app):
    result = invoke(
        app, "--zone", "ES", "--duration", "3h", "--deadline", "2026-11-28T08:00Z", *WHEN, "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    home = data["home"]
    assert data["mode"] == "window" and home["zone"] == "ES"
    assert "2026-11-26T10:00" <= home["start"] <= "2026-11-28T05:00"
    assert home["mean_intensity_gco2e_per_kwh"] <= home["now_intensity_gco2e_per_kwh"]
    assert any("typical-year proxy" in note and "not a forecast" in note for note in data["notes"])


def test_regions_table_and_json(app):
    args = ["--zone", "ES,FR,DE", "--duration", "3h", "--within", "24h", "--energy", "12kWh", *WHEN]
    data = json.loads(invoke(app, *args, "--json").stdout)
    means = [row["mean_intensity_gco2e_per_kwh"] for row in data["zones"]]
    assert means == sorted(means) and {row["zone"] for row in data["zones"]} == {"ES", "FR", "DE"}
    assert [row["home"] for row in data["zones"] if row["zone"] == "ES"] == [True]
    assert data["home"]["gco2e"] == pytest.approx(12 * data["home"]["mean_intensity_gco2e_per_kwh"])
    assert any("moving a job also moves its data" in note for note in data["notes"])
    text = invoke(app, *args).stdout
    assert "Greenest start by zone" in text and "moving a job" in text


def test_interruptible_plan(app):
    result = invoke(
        app, "--zone", "ES", "--duration", "6h", "--interruptible", "--min-chunk", "30m", *WHEN
    )
    assert result.exit_code == 0, result.output
    assert "chunk(s), suspended in between" in result.stdout
    data = json.loads(
        invoke(app, "--zone", "ES", "--duration", "6h", "--interruptible", *WHEN, "--json").stdout
    )
    assert data["mode"] == "slots" and data["home"]["chunks"]


def test_forecast_file_and_emit(app, tmp_path):
    path = tmp_path / "fc.csv"
    rows = [f"2026-11-26T{h:02d}:00Z,{300 - 10 * h}" for h in range(10, 24)]
    path.write_text("time,intensity\n" + "\n".join(rows) + "\n")
    result = invoke(
        app, "--zone", "ES", "--duration", "2h", "--forecast", str(path), *WHEN,
        "--emit", "slurm", "--", "python", "train.py",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "forecast file fc.csv" in result.stdout
    assert "sbatch --begin=" in result.stdout and "--wrap='python train.py'" in result.stdout


def test_plot(app, tmp_path):
    target = tmp_path / "s.png"
    result = invoke(app, "--zone", "FR", "--duration", "2h", *WHEN, "--plot", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:4] == b"\x89PNG"


def test_provider_failure_falls_back(app):
    result = invoke(app, "--zone", "ES", "--duration", "2h", *WHEN, "--provider", "electricitymaps")
    assert result.exit_code == 0, result.output
    assert "Provider electricitymaps failed" in result.stdout and "Falling back" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--zone", "ES", "--duration", "3h", "--deadline", "2026-11-26T12:00Z"], "deadline"),
        (["--zone", "QQ", "--duration", "3h"], "Unknown grid zone"),
        (["--zone", "ES", "--duration", "3 hours"], "Cannot read the duration"),
        (
            ["--zone", "ES", "--duration", "3h", "--deadline", "tomorrow"],
            "Cannot read the deadline",
        ),
        (["--zone", "ES", "--duration", "3h", "--provider", "x"], "Unknown provider"),
        (["--zone", "ES", "--duration", "3h", "--emit", "at"], "needs the command"),
        (["--duration", "3h"], "No grid zone"),
    ],
)
def test_bad_input_exits_2_with_one_sentence(app, args, message):
    result = invoke(app, *args, *WHEN)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("vatio: error:") and message in lines[0]
    assert len(lines) <= 2 and "Traceback" not in result.output


def test_bad_forecast_file_and_horizon(app, tmp_path):
    path = tmp_path / "fc.csv"
    path.write_text("time,intensity\n2026-11-26T10:00Z,1\n2026-11-26T11:00Z,-2\n")
    result = invoke(app, "--zone", "ES", "--duration", "1h", "--forecast", str(path), *WHEN)
    assert result.exit_code == 2 and "fc.csv line 3" in result.stderr
    path.write_text("time,intensity\n2026-11-26T10:00Z,1\n2026-11-26T11:00Z,2\n")
    result = invoke(app, "--zone", "ES", "--duration", "3h", "--forecast", str(path), *WHEN)
    assert result.exit_code == 2 and "forecast horizon" in result.stderr


def test_zone_from_environment(app):
    result = CliRunner().invoke(
        app, ["schedule", "--duration", "1h", *WHEN, "--json"], env={"VATIO_ZONE": "fr"}
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["home"]["zone"] == "FR"
    assert "Zone FR from environment VATIO_ZONE." in data["notes"]


def test_module_import_stays_light():
    code = "import sys, vatio.cli.schedule; print('numpy' in sys.modules, 'rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
