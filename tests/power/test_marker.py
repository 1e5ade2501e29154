"""`vatio.power.step()` costs nothing outside a sweep and never breaks the job."""

from __future__ import annotations

from vatio.power import marker, pause, step


def test_outside_a_sweep_step_is_a_no_op():
    step(32)
    pause()
    assert marker._state.checked and marker._state.link is None
    for _ in range(1000):  # one attribute check each: no environment read, no I/O
        step(32)
    assert marker._state.link is None


def test_a_dead_link_turns_profiling_off_with_one_warning(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("VATIO_POWER_SOCKET", str(tmp_path / "gone.sock"))
    step(1)
    step(1)
    err = capsys.readouterr().err
    assert err.count("no link to the sweep") == 1 and "profiling off" in err


def test_other_ranks_do_not_talk_to_vatio(monkeypatch, tmp_path):
    monkeypatch.setenv("VATIO_POWER_SOCKET", str(tmp_path / "x.sock"))
    monkeypatch.setenv("RANK", "1")
    step(1)
    assert marker._state.link is None
