"""`vatio runs list --user --project --host --since --group` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.team.helpers import cli, result, save
from vatio.store.filters import iso


def _ago(days: float) -> str:
    return iso(datetime.now(UTC) - timedelta(days=days))


@pytest.fixture
def team(team_url) -> str:
    runs = [
        result(user="alice", host="gpu-1", project="llm", started_at=_ago(1), run_id="a1" * 6),
        result(user="alice", host="gpu-2", project="llm", started_at=_ago(3), run_id="a2" * 6),
        result(user="alice", host="cpu-1", project="vision", started_at=_ago(20), run_id="a3" * 6),
        result(user="bob", host="gpu-10", project="llm", started_at=_ago(2), run_id="b1" * 6),
        result(user="bob_x", host="gpu_3", project="llm", started_at=_ago(2.5), run_id="b2" * 6),
    ]
    save(team_url, runs)
    return team_url


def _ids(capsys, url: str, *args: str) -> list[str]:
    code, out, err = cli(capsys, "runs", "list", "--store", url, "--json", *args)
    assert code == 0, err
    return [row["id"] for row in json.loads(out)]


def test_filters_select_the_runs_of_a_user_project_host_and_time(capsys, team):
    assert _ids(capsys, team, "--user", "alice") == ["a1" * 6, "a2" * 6, "a3" * 6]
    assert _ids(capsys, team, "--user", "alice", "--since", "7d") == ["a1" * 6, "a2" * 6]
    assert _ids(capsys, team, "--user", "alice", "--project", "llm", "--host", "gpu-*",
                "--since", "7d") == ["a1" * 6, "a2" * 6]  # fmt: skip
    assert _ids(capsys, team, "--host", "gpu-?") == ["a1" * 6, "a2" * 6]
    # glob characters are literal in SQL's sense: _ and % match themselves only
    assert _ids(capsys, team, "--user", "bob_*") == ["b2" * 6]
    assert _ids(capsys, team, "--host", "gpu_*") == ["b2" * 6]
    assert _ids(capsys, team, "--project", "LLM") == []  # case-sensitive on every database
    since = (datetime.now(UTC) - timedelta(days=10)).date().isoformat()
    assert len(_ids(capsys, team, "--since", since)) == 4
    assert _ids(capsys, team, "--user", "nobody") == []


def test_rows_carry_user_host_project_and_group(capsys, team):
    _code, out, _ = cli(capsys, "runs", "list", "--store", team, "--json", "--limit", "1")
    (row,) = json.loads(out)
    assert (row["username"], row["host"], row["project"], row["group_id"]) == (
        "alice", "gpu-1", "llm", None
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "7x"], "--since '7x' is neither a length of time nor a date"),
        (["--since", "2999-01-01"], "--since 2999-01-01 is in the future"),
        (["--since", "2026-13-45"], "is not a date vatio reads"),
        (["--since", "99999d"], "longer than vatio accepts"),
        (["--since", "0d"], "is zero"),
        (["--host", "gpu-[12]"], "character class"),
        (["--user", ""], "--user is empty"),
        (["--project", "a\x01b"], "control characters"),
        (["--group", "job-*"], "a group is named exactly"),
    ],
)
def test_bad_filters_are_one_sentence_and_exit_2(capsys, tmp_path, args, message):
    save(f"sqlite:///{tmp_path / 'v.db'}", [result()])
    code, _out, err = cli(capsys, "runs", "list", "--store", str(tmp_path / "v.db"), *args)
    assert code == 2 and message in err and "Traceback" not in err, err
