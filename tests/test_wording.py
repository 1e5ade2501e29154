"""Words a careful user reads: help lines not cut mid-sentence, hints that are sentences."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from vatio.cli.app import app
from vatio.config import load_profile
from vatio.errors import ProfileError


def test_runs_help_lines_are_whole_sentences():
    out = CliRunner().invoke(app, ["runs", "--help"]).output
    assert "Tag a run, e.g." not in out
    assert "Tag a run (a tag names a baseline" in out


@pytest.mark.parametrize(
    "key,value", [("cpu_tdp_w", -3), ("idle_baseline", -1), ("intensity", "x")]
)
def test_profile_hints_read_as_sentences(tmp_path, key, value):
    (tmp_path / "vatio.toml").write_text(f"{key} = {value!r}\n".replace("'", '"'))
    with pytest.raises(ProfileError) as caught:
        load_profile(cwd=tmp_path, env={})
    hint = caught.value.hint
    assert hint.startswith(f"`{key}` is the ") and " the override " not in hint


def test_optimize_progress_names_a_step_while_it_runs_and_counts_it_after():
    from rich.console import Console

    from vatio.optimize.render import Stages

    stages = Stages(Console(force_terminal=True, width=100))
    with stages.bar:
        stages.stage("preparing variants", 2)
        stages.working("distilled")
        task = stages.bar.tasks[0]
        assert task.completed == 0 and task.description.endswith("distilled")
        stages.advance()
        assert stages.bar.tasks[0].completed == 1
