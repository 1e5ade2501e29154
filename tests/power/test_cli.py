"""`vatio power` and `vatio rightsize` flags: user mistakes exit 2 before any work."""

from __future__ import annotations

import json
import sys

import pytest

from vatio.cli.app import main


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["vatio", *args])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["power", "sweep"], "No job to sweep"),
        (["power", "sweep", "--devices", "npu", "--", "true"], "--devices 'npu'"),
        (["power", "sweep", "--eta", "2", "--", "true"], "--eta must be between 0 and 1"),
        (["power", "sweep", "--repeat", "0", "--", "true"], "--repeat must be at least 1"),
        (["power", "sweep", "-o", "best.txt", "--", "true"], "use a .json or .toml name"),
        (["power", "sweep", "-o", "no/such/dir/b.json", "--", "true"], "does not exist"),
        (["power", "sweep", "--threads", "0", "--", "true"], "must be positive"),
        (["power", "sweep", "--cpu-max-freqs", "fast", "--", "true"], "cannot read 'fast'"),
        (["power", "sweep", "--gpu-power-limits", "200", "--", "true"], "No knob for"),
        (["power", "apply", "--profile", "missing.json"], "is not a file"),
        (["rightsize", "--pue", "0.5"], "is not a PUE"),
    ],
)
def test_mistakes_exit_2_with_one_sentence(monkeypatch, capsys, args, message):
    code, _, err = run(monkeypatch, capsys, *args)
    assert code == 2, err
    assert message in err and "Traceback" not in err


def test_dry_run_prints_the_plan_and_changes_nothing(monkeypatch, capsys):
    code, out, _ = run(
        monkeypatch, capsys, "power", "sweep", "--threads", "1,2", "--cores", "1", "--dry-run",
        "--json", "--", "true",
    )  # fmt: skip
    assert code == 0
    plan = json.loads(out)
    assert [s["label"] for s in plan["settings"]] == [
        "default", "1 threads · 1 cores", "2 threads · 1 cores"
    ]  # fmt: skip
    assert plan["dry_run"] and plan["mode"] == "one run per setting"


def test_automatic_knob_on_a_vm_is_threads_and_says_why(monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, "power", "sweep", "--dry-run", "--json", "--", "true")
    assert code == 0
    notes = " ".join(json.loads(out)["notes"])
    assert "GPU power limit not swept" in notes and "sweeping the job's threads" in notes


def test_show_lists_every_knob_with_reasons(monkeypatch, capsys, cpufreq):
    monkeypatch.setenv("VATIO_CPUFREQ_ROOT", str(cpufreq.root))
    code, out, _ = run(monkeypatch, capsys, "power", "show", "--json")
    assert code == 0
    knobs = {k["key"]: k for k in json.loads(out)["knobs"]}
    assert knobs["cpu_max_freq_khz"]["value"] == 3_600_000 and knobs["threads"]["writable"]


def test_apply_dry_run_reads_a_toml_profile(monkeypatch, capsys, cpufreq, tmp_path):
    monkeypatch.setenv("VATIO_CPUFREQ_ROOT", str(cpufreq.root))
    path = tmp_path / "best.toml"
    path.write_text('[tool.vatio.power]\ncpu_max_freq_khz = 2000000\ncpu_governor = "powersave"\n')
    code, out, _ = run(
        monkeypatch, capsys, "power", "apply", "--profile", str(path), "--dry-run", "--json"
    )
    assert code == 0
    assert json.loads(out)["changes"] == ["CPU max frequency: 3.60 GHz -> 2.00 GHz"]
    assert cpufreq.values("scaling_max_freq") == ["3600000", "3600000"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[tool.vatio.power]\ncpu_max_perf_pct = 500\n")
    code, _, err = run(monkeypatch, capsys, "power", "apply", "--profile", str(bad))
    assert code == 2 and "cpu_max_perf_pct" in err


def test_apply_keeps_until_restore(monkeypatch, capsys, cpufreq, tmp_path):
    monkeypatch.setenv("VATIO_CPUFREQ_ROOT", str(cpufreq.root))
    path = tmp_path / "best.json"
    path.write_text(json.dumps({"tool": {"vatio": {"power": {"cpu_max_freq_khz": 1800000}}}}))
    code, _, err = run(monkeypatch, capsys, "power", "apply", "--profile", str(path))
    assert code == 0, err
    assert cpufreq.values("scaling_max_freq") == ["1800000", "1800000"]
    code, out, _ = run(monkeypatch, capsys, "power", "show", "--json")
    assert "kept by `vatio power apply`" in json.loads(out)["held"][0]
    code, out, _ = run(monkeypatch, capsys, "power", "restore", "--json")
    assert code == 0 and "back to 3600000" in json.loads(out)["restored"][0]
    assert cpufreq.values("scaling_max_freq") == ["3600000", "3600000"]
    code, _, err = run(monkeypatch, capsys, "power", "restore")
    assert "Nothing to restore" in err
