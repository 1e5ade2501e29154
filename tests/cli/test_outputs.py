"""Outputs cannot be turned against the user: the store is never overwritten, Markdown and
CSV carry user text inertly, and one malformed record does not sink an export."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest

from tests.report.inprocess import run_main
from tests.report.records import make_result, save

EVIL_NAME = "x\n# Injected heading\n[click](https://evil.example) <img src=x onerror=alert(1)>"


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "v.db"
    save(path, make_result(name=EVIL_NAME, command=['=HYPERLINK("https://evil")', "+1", "@x"]))
    save(path, make_result(name="plain"))
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "export", "-o", "{store}"),
        ("runs", "export", "--format", "json", "-o", "{store}"),
        ("report", "{run}", "-o", "{store}"),
        ("report", "{run}", "--format", "md", "-o", "{other_db}"),
        ("ledger", "checkpoint", "-o", "{store}"),
        ("env", "sbom", "-o", "{store}"),
        ("runs", "export", "-o", "{folder}"),
        ("runs", "export", "-o", "{missing}/x.csv"),
    ],
)
def test_outputs_never_overwrite_a_store_or_land_in_a_folder(store, tmp_path, capsys,
                                                              monkeypatch, args):  # fmt: skip
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    before = _contents(store)
    run_id = run_main(capsys, monkeypatch, "runs", "list", "--json", store=store)
    import json

    first = json.loads(run_id.stdout)[0]["id"]
    filled = [
        a.format(store=store, run=first, other_db=other, folder=tmp_path, missing=tmp_path / "no")
        for a in args
    ]
    done = run_main(capsys, monkeypatch, *filled, store=store)
    assert done.returncode == 2, done
    assert done.stderr.count("\n") <= 2 and "Traceback" not in done.stderr
    assert _contents(store) == before


def _contents(path) -> list:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT id, digest, record FROM runs ORDER BY id").fetchall()


def test_markdown_escapes_user_text(store, capsys, monkeypatch):
    import json

    rows = json.loads(run_main(capsys, monkeypatch, "runs", "list", "--json", store=store).stdout)
    evil = next(r["id"] for r in rows if r["name"] != "plain")
    md = run_main(capsys, monkeypatch, "report", evil, "--format", "md", store=store).stdout
    assert "\n# Injected heading" not in md
    assert "[click](https://evil.example)" not in md and "\\[click\\]" in md
    assert "<img" not in md and "&lt;img" in md
    aiact = run_main(capsys, monkeypatch, "report", evil, "--aiact", store=store).stdout
    assert "<img" not in aiact and "\n# Injected" not in aiact


def test_csv_cells_that_would_run_as_formulas_are_neutralised(store, capsys, monkeypatch):
    out = run_main(capsys, monkeypatch, "runs", "export", "--format", "csv", store=store).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value
    assert any(r["command"].startswith("'=HYPERLINK") for r in rows)


def test_one_malformed_record_is_skipped_with_a_warning(store, capsys, monkeypatch):
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE runs SET record='{broken' WHERE name='plain'")
    done = run_main(capsys, monkeypatch, "runs", "export", "--format", "json", store=store)
    assert done.returncode == 1 and "skipped" in done.stderr
    import json

    assert len(json.loads(done.stdout)) == 1
    listed = run_main(capsys, monkeypatch, "runs", "list", store=store)
    assert listed.returncode == 0
