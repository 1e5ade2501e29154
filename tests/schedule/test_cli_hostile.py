"""Hostile values for every option of `vatio schedule`: exit 2, one sentence, nothing hangs.

Each case runs in-process through typer's CliRunner under an alarm, so a hang
fails the test instead of the suite.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

import pytest
import typer
from typer.testing import CliRunner

from vatio.cli.schedule import register

SOON = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
BASE = ["--zone", "ES", "--duration", "2h"]
HUGE = "99999999999999999999"
BAD_LENGTHS = ["", "nan", "inf", "-1h", "1e400h", f"{HUGE}d", "3 hours", "h", "0x10s", "½h"]
BAD_DATES = [
    "tomorrow", "2020-01-01", "1970-01-01T00:00Z", "0001-01-01 00:00", "9999-12-31 00:00",
    "9999-12-31T23:59:59-01:00", "2026-13-45", HUGE, "",
]  # fmt: skip


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.callback()
    def _root() -> None:
        """vatio (test app)"""

    register(app)
    return app


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    (root / "folder.csv").mkdir()
    (root / "bytes.csv").write_bytes(bytes(range(256)) * 4)  # not UTF-8
    (root / "latin1.csv").write_bytes("time,intensity\n2026-01-01T00:00Z,1é\n".encode("latin-1"))
    (root / "nul.csv").write_bytes(b"\x00" * 64)
    (root / "empty.csv").write_text("")
    (root / "garbage.csv").write_text("<?xml version='1.0'?><forecast/>\n")
    (root / "header-only.csv").write_text("time,intensity\n")
    (root / "list.json").write_text("[1, 2, 3]")
    (root / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (root / "zone-number.json").write_text('{"zone": 7, "forecast": []}')
    rows = [
        {"time": (SOON + timedelta(hours=h)).isoformat(), "intensity": 100.0 + h} for h in range(4)
    ]
    import json

    (root / "unknown-zone.json").write_text(json.dumps({"zone": "Atlantis", "forecast": rows}))
    (root / "nan.json").write_text(
        '[{"time": "2027-01-01T00:00Z", "intensity": NaN},'
        '{"time": "2027-01-01T01:00Z", "intensity": 1}]'
    )
    past = [{"time": f"2020-01-01T{h:02d}:00Z", "intensity": 1} for h in range(5)]
    (root / "past.json").write_text(json.dumps(past))
    return root


def cases(files_root: str) -> list[tuple[list[str], str]]:
    """(arguments, a word the one sentence must contain); `F/` is the files folder."""
    f = files_root
    out: list[tuple[list[str], str]] = []
    for value in BAD_LENGTHS:
        out.append((["--zone", "ES", "--duration", value], "duration"))
        out.append(([*BASE, "--within", value], "--within"))
        out.append(([*BASE, "--interruptible", "--min-chunk", value], "--min-chunk"))
    for value in BAD_DATES:
        out.append(([*BASE, "--deadline", value], "deadline"))
        out.append(([*BASE, "--earliest", value], "earliest"))
    out += [
        (["--zone", "", "--duration", "2h"], "zone"),
        (["--zone", "QQ", "--duration", "2h"], "Unknown grid zone"),
        (["--zone", "ES,QQ", "--duration", "2h"], "Unknown grid zone"),
        (["--zone", "x" * 5000, "--duration", "2h"], "Unknown grid zone"),
        (["--zone", "gcp:nowhere-9", "--duration", "2h"], "region"),
        (["--zone", "US", "--duration", "2h"], "hourly"),
        (["--zone", "ES", "--duration", "400d"], "366 days"),
        ([*BASE, "--within", "1h"], "deadline"),
        ([*BASE, "--within", "3000d"], "366 days"),
        ([*BASE, "--deadline", "2h", "--within", "3h"], "deadline"),
        ([*BASE, "--energy", "nan"], "energy"),
        ([*BASE, "--energy", "-5kWh"], "energy"),
        ([*BASE, "--energy", "1e400kWh"], "energy"),
        ([*BASE, "--energy", "0"], "energy"),
        ([*BASE, "--energy", "12 parsecs"], "energy"),
        ([*BASE, "--intensity", "bogus"], "intensity"),
        ([*BASE, "--provider", "bogus"], "provider"),
        ([*BASE, "--provider", "ukgrid", "--forecast", f"{f}/past.json"], "--forecast"),
        (["--zone", "ES,FR", "--duration", "2h", "--forecast", f"{f}/past.json"], "--forecast"),
        ([*BASE, "--emit", "bogus", "--", "true"], "--emit"),
        ([*BASE, "--emit", "at"], "command"),
        ([*BASE, "--interruptible", "--emit", "at", "--", "true"], "interruptible"),
        ([*BASE, "--", "true"], "--emit"),
        ([*BASE, "--emit", "at", "python", "t.py", "--json"], "`--`"),
        ([*BASE, "--plot", "x.txt"], "plot"),
        ([*BASE, "--plot", f"{f}/folder.csv"], "plot"),
        ([*BASE, "--plot", f"{f}/missing/dir/x.png"], "plot"),
    ]
    for name in (
        "folder.csv", "missing.csv", "bytes.csv", "latin1.csv", "nul.csv", "empty.csv",
        "garbage.csv", "header-only.csv", "list.json", "deep.json", "zone-number.json",
        "unknown-zone.json", "nan.json", "past.json",
    ):  # fmt: skip
        out.append((["--duration", "2h", "--forecast", f"{f}/{name}"], name.split(".")[0][:6]))
    return out


def test_every_option_gets_hostile_values(app, files):
    runner = CliRunner()
    env = {"VATIO_ELECTRICITYMAPS_KEY": "", "VATIO_ZONE": ""}
    failures = []
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for args, word in cases(str(files)):
            signal.alarm(20)
            try:
                result = runner.invoke(app, ["schedule", *args], env=env)
            except Hang:
                failures.append(f"{args}: hung")
                continue
            finally:
                signal.alarm(0)
            lines = result.stderr.splitlines()
            ok = (
                result.exit_code == 2
                and bool(lines)
                and lines[0].startswith("vatio: error: ")
                and len(lines) <= 2
                and "Traceback" not in result.output
                and (result.exception is None or isinstance(result.exception, SystemExit))
            )
            if not ok or word.lower() not in result.stderr.lower():
                shown = result.output[-300:] if result.exception is None else repr(result.exception)
                failures.append(f"{args[:6]} -> {result.exit_code}: {shown} (want {word!r})")
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert not failures, "\n".join(failures)
