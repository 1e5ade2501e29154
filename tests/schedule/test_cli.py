"""`vatio schedule` through typer's CliRunner (the command module on its own app).

Times are relative to now: a start in the past is refused, so fixed dates would age.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import typer
from typer.testing import CliRunner

from tests.cli.helpers import KEPT
from vatio.cli.schedule import register

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(
    hour=10, minute=0, second=0, microsecond=0
)
WHEN = ["--earliest", TOMORROW.strftime("%Y-%m-%dT%H:%MZ")]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.callback()
    def _root() -> None:
        """vatio (test app)"""

    register(app)
    return app


def invoke(app: typer.Typer, *args: str, zone: str = ""):
    return CliRunner().invoke(
        app, ["schedule", *args], env={"VATIO_ELECTRICITYMAPS_KEY": "", "VATIO_ZONE": zone}
    )


def forecast_csv(tmp_path, hours: int = 14, start: datetime = TOMORROW, name: str = "fc.csv"):
    """A plain `time,intensity` forecast that names no zone."""
    path = tmp_path / name
    rows = [f"{iso(start + timedelta(hours=h))},{300 - 10 * h}" for h in range(hours)]
    path.write_text("time,intensity\n" + "\n".join(rows) + "\n")
    return path


EM_HEADER = (
    "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),"
    "Carbon Intensity gCO₂eq/kWh (LCA),Low Carbon Percentage,Renewable Percentage,"
    "Data Source,Data Estimated,Data Estimation Method\n"
)


def em_export(tmp_path, zone: str = "ES", hours: int = 24, start: datetime = TOMORROW):
    """An Electricity Maps CSV export, which names its zone in `Zone Id`."""
    rows = "".join(
        f"{(start + timedelta(hours=h)):%Y-%m-%d %H:%M:%S},Spain,Spain,{zone},"
        f"{100 + (h * 7) % 11},{150 + (h * 5) % 13},77,43,entsoe.eu,false,\n"
        for h in range(hours)
    )
    path = tmp_path / f"{zone}_export.csv"
    path.write_text(EM_HEADER + rows, encoding="utf-8")
    return path


def test_json_window(app):
    deadline = iso(TOMORROW + timedelta(hours=46))
    result = invoke(
        app, "--zone", "ES", "--duration", "3h", "--deadline", deadline, *WHEN, "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    home = data["home"]
    assert data["mode"] == "window" and home["zone"] == "ES"
    assert TOMORROW.isoformat() <= home["start"] <= (TOMORROW + timedelta(hours=43)).isoformat()
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


@pytest.mark.parametrize("minute", [0, 17, 59])
def test_default_min_chunk_is_one_step_in_cli_api_and_run_greenest(app, minute):
    """The three entry points plan the same chunks; none shorter than the data step."""
    from vatio.carbon.forecast import typical_year_proxy
    from vatio.cli.greenest import make_plan
    from vatio.config import Profile
    from vatio.schedule import cheapest_slots

    start = TOMORROW.replace(minute=minute)
    result = invoke(
        app, "--zone", "ES", "--duration", "5h", "--within", "30h", "--interruptible",
        "--earliest", iso(start), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    home = json.loads(result.stdout)["home"]
    assert home["min_chunk_s"] == 3600
    cli = [[datetime.fromisoformat(a), datetime.fromisoformat(b)] for a, b in home["chunks"]]
    assert all((b - a).total_seconds() >= 3600 for a, b in cli)

    deadline = start + timedelta(hours=30)
    api = cheapest_slots(typical_year_proxy("ES", start, deadline), 5 * 3600, start, deadline)
    options = {"duration": "5h", "within": "30h", "interruptible": True}
    plan, _ = make_plan(options, Profile(zone="ES"), now=start)
    assert cli == [list(chunk) for chunk in api.chunks] == [list(c) for c in plan.slots.chunks]


def test_forecast_file_and_emit(app, tmp_path):
    path = forecast_csv(tmp_path)
    result = invoke(
        app, "--zone", "ES", "--duration", "2h", "--forecast", str(path), *WHEN,
        "--emit", "slurm", "--", "python", "train.py",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "forecast file fc.csv" in result.stderr and "Greenest start" in result.stderr
    # stdout is the command alone, so that `| sh` works
    (line,) = result.stdout.splitlines()
    assert line.startswith("sbatch --begin=") and line.endswith("--wrap='python train.py'")


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["at", "slurm"])
def test_emit_piped_to_a_real_sh(tmp_path, kind):
    """`vatio schedule ... --emit KIND -- CMD | sh` hands CMD to the scheduler (a stub here)."""
    import os

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "scheduler.log"
    for name in ("at", "sbatch"):  # stubs that log their arguments and standard input
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "{name} $*" >> {log}\ncat >> {log}\n')
        stub.chmod(0o755)
    fc = forecast_csv(tmp_path)
    vatio = [sys.executable, "-m", "vatio", "schedule", "--duration", "2h", "--forecast", str(fc)]
    cmd = [*vatio, *WHEN, "--emit", kind, "--", "python", "train.py", "--lr", "0.1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VATIO_") or k in KEPT}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    producer = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    shell = subprocess.run(["sh"], stdin=producer.stdout, capture_output=True, env=env, timeout=60)
    producer.stdout.close()
    stderr = producer.stderr.read().decode()
    assert producer.wait(timeout=60) == 0, stderr
    assert shell.returncode == 0, shell.stderr
    assert "Greenest start" in stderr  # the table went to stderr
    logged = log.read_text()
    if kind == "at":
        assert logged.startswith("at -t ") and "python train.py --lr 0.1" in logged
    else:
        assert logged.startswith("sbatch --begin=") and "--wrap=python train.py --lr 0.1" in logged


def test_forecast_file_needs_no_zone(app, tmp_path):
    export = em_export(tmp_path, "ES")
    result = invoke(app, "--duration", "2h", "--forecast", str(export), *WHEN, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["home"]["zone"] == "ES"
    assert "Zone ES from the forecast file ES_export.csv." in data["notes"]
    named = tmp_path / "de.json"
    rows = [{"time": iso(TOMORROW + timedelta(hours=h)), "intensity": 300 - h} for h in range(6)]
    named.write_text(json.dumps({"zone": "de", "forecast": rows}))
    data = json.loads(
        invoke(app, "--duration", "1h", "--forecast", str(named), *WHEN, "--json").stdout
    )
    assert data["home"]["zone"] == "DE"
    # a file that names no zone: the plan is made, and the output says there is no zone
    result = invoke(app, "--duration", "1h", "--forecast", str(forecast_csv(tmp_path)), *WHEN)
    assert result.exit_code == 0, result.output
    assert "No zone: the forecast file fc.csv names none" in result.stdout


def test_forecast_zone_that_disagrees_is_refused(app, tmp_path):
    export = em_export(tmp_path, "ES")
    result = invoke(app, "--zone", "FR", "--duration", "2h", "--forecast", str(export), *WHEN)
    assert result.exit_code == 2
    assert "ES_export.csv is a forecast for zone ES, but the zone is FR (from --zone)" in (
        result.stderr
    )
    result = invoke(app, "--duration", "2h", "--forecast", str(export), *WHEN, zone="DE")
    assert result.exit_code == 2 and "(from environment VATIO_ZONE)" in result.stderr
    # the same zone under an alias is no conflict
    result = invoke(app, "--zone", "ESP", "--duration", "2h", "--forecast", str(export), *WHEN)
    assert result.exit_code == 0, result.output


def test_deadline_beyond_a_forecast_file_is_refused(app, tmp_path):
    path = forecast_csv(tmp_path, hours=10)
    result = invoke(app, "--duration", "2h", "--forecast", str(path), *WHEN, "--within", "20h")
    assert result.exit_code == 2
    assert "is after the end of the forecast file fc.csv" in result.stderr
    # without a deadline the default day is cut to the data, with a note
    result = invoke(app, "--duration", "2h", "--forecast", str(path), *WHEN)
    assert result.exit_code == 0 and "The search stops at the end of the data" in result.stdout


def test_past_and_far_future_are_refused_before_any_work(app):
    result = invoke(app, "--zone", "ES", "--duration", "2h", "--earliest", "2020-01-01",
                    "--emit", "at", "--", "echo", "hi")  # fmt: skip
    assert result.exit_code == 2 and "The earliest start 2020-01-01" in result.stderr
    assert "is in the past" in result.stderr and result.stdout == ""
    result = invoke(app, "--zone", "ES", "--duration", "2h", "--deadline", "9999-12-31 00:00")
    assert result.exit_code == 2 and "more than 366 days ahead" in result.stderr
    result = invoke(app, "--zone", "ES", "--duration", "2h", "--within", "100000000000d")
    assert result.exit_code == 2 and "more than 366 days" in result.stderr


def test_years_are_shown_when_not_this_year():
    from vatio.cli.schedule import _short

    this_year = datetime.now().astimezone().replace(month=6, day=1, hour=12, minute=0)
    next_year = this_year.replace(year=this_year.year + 1)
    assert _short(this_year) == "01 Jun 12:00"
    assert _short(next_year) == f"01 Jun {next_year.year} 12:00"
    assert _short(next_year + timedelta(hours=2), next_year) == "14:00"


def test_plot(app, tmp_path):
    target = tmp_path / "s.png"
    result = invoke(app, "--zone", "FR", "--duration", "2h", *WHEN, "--plot", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:4] == b"\x89PNG"


def test_provider_failure_falls_back(app):
    result = invoke(app, "--zone", "ES", "--duration", "2h", *WHEN, "--provider", "electricitymaps")
    assert result.exit_code == 0, result.output
    assert "Provider electricitymaps failed" in result.stdout and "Falling back" in result.stdout


def test_zone_from_environment(app):
    result = invoke(app, "--duration", "1h", *WHEN, "--json", zone="fr")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["home"]["zone"] == "FR"
    assert "Zone FR from environment VATIO_ZONE." in data["notes"]


def test_module_import_stays_light():
    code = "import sys, vatio.cli.schedule; print('numpy' in sys.modules, 'rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
