"""A whole study on the tiny model with scripted sensors: failures stay local, artefacts verify."""

from __future__ import annotations

import json

import pytest

from vatio.optimize.harness import accuracy
from vatio.optimize.study import StudyConfig, run_study, validate

FAST = {"batch_sizes": [1, 16], "repeats": 2, "phase_s": 0.01}


def _study(ctx, fake_tracker, **config):
    return run_study(
        ctx,
        StudyConfig(**{**FAST, **config}),
        metric=accuracy,
        metric_name="accuracy",
        new_tracker=fake_tracker,
    )


def test_a_failing_variant_does_not_stop_the_others(ctx, fake_tracker, monkeypatch):
    from vatio.optimize.int8_dynamic import OrtInt8Dynamic

    def boom(self, ctx):
        raise RuntimeError("ORT cannot quantise operator Foo\nmore detail")

    monkeypatch.setattr(OrtInt8Dynamic, "prepare", boom)
    chosen = {"ort-fp32", "ort-int8-dynamic", "ort-int8-static", "pruned"}
    study = _study(ctx, fake_tracker, chosen=chosen, sweep_threads=False)
    rows = {r.name: r for r in study.rows}
    assert list(rows) == ["fp32-eager", "ort-fp32", "ort-int8-dynamic", "ort-int8-static", "pruned"]
    failed = rows["ort-int8-dynamic"]
    assert failed.status == "failed"
    assert failed.reason == "RuntimeError: ORT cannot quantise operator Foo"
    for name in ("fp32-eager", "ort-fp32", "ort-int8-static", "pruned"):
        row = rows[name]
        assert row.ok, row.reason
        assert row.metric is not None and row.delta_pts is not None
        for size in (1, 16):
            stats = row.batches[size].to_dict()
            # the process share can round to 0 in a 10 ms phase (CPU time is counted in ticks)
            assert stats["repeats"] == 2 and stats["machine_energy_per_1k_j"] > 0
            assert 0 <= stats["energy_per_1k_low_j"] <= stats["energy_per_1k_j"]
            assert stats["p50_ms"] <= stats["p95_ms"]
    assert study.method == "estimated:tdp" and study.batch == 16
    assert study.recommendation.name in rows
    assert any(r.on_front for r in study.rows)
    data = json.loads(json.dumps(study.to_dict(), default=str))
    assert data["variants"][2]["status"] == "failed"
    text = _rendered(study)
    assert "ort-int8-dynamic failed" in text and "cannot quantise operator Foo" in text
    assert "estimated:tdp" in text and "Recommended:" in text


def _rendered(study) -> str:
    from rich.console import Console

    from vatio.optimize.render import render

    console = Console(record=True, width=120)
    render(study, console)
    return " ".join(console.export_text().split())


def test_thread_sweep_adds_rows_for_the_chosen_variant(ctx, fake_tracker):
    study = _study(ctx, fake_tracker, chosen={"ort-fp32"}, batch_sizes=[8], repeats=1)
    sweep = [r for r in study.rows if r.base is not None]
    assert sweep and all("@" in r.name for r in sweep)
    assert all(r.artefact.threads == int(r.name.split("@")[1][:-1]) for r in sweep)


def test_skipped_variants_are_reported_not_run(ctx, fake_tracker):
    ctx.train = None
    study = _study(ctx, fake_tracker, chosen={"distilled"}, sweep_threads=False, repeats=1)
    row = study.row("distilled")
    assert row.status == "skipped" and "--train" in row.reason and not row.batches


def test_validate_rejects_an_eval_set_of_the_wrong_shape(ctx):
    from vatio.errors import InputError
    from vatio.optimize.variant import Dataset

    ctx.eval = Dataset(ctx.eval.x[:, :5], ctx.eval.y)
    with pytest.raises(InputError, match=r"shape \(96, 5\)"):
        validate(ctx, accuracy)


def test_artefacts_carry_a_provenance_record_whose_sha256_matches(ctx, fake_tracker, tmp_path):
    from vatio.optimize.artefacts import file_sha256, verify, write_artefacts

    study = _study(ctx, fake_tracker, chosen={"ort-int8-static"}, sweep_threads=False, repeats=1)
    manifest = {"python": {"version": "3.11"}}
    out = tmp_path / "optimized"
    written = write_artefacts(
        study, out, run_id="abc123", manifest=manifest, source={"model": "tiny"}
    )
    assert [p.parent.name for p in written] == ["ort-int8-static"]
    for path in written:
        record = json.loads((path.parent / "provenance.json").read_text())
        assert record["artefact"]["sha256"] == file_sha256(path)
        assert record["run_id"] == "abc123" and record["manifest"] == manifest
        assert record["recipe"]["technique"] and record["measurements"]["batches"]
        assert verify(path.parent / "provenance.json")
    written[0].write_bytes(written[0].read_bytes() + b"\0")
    assert not verify(written[0].parent / "provenance.json")


def test_demo_step_runs_a_quick_pass(monkeypatch, tiny_model):
    from rich.console import Console

    from tests.optimize import tiny
    from vatio.cli import optimize as cli
    from vatio.optimize import example
    from vatio.optimize.variant import Dataset

    def small(epochs=20, seed=0):
        x, y = tiny.data(96, 1)
        tx, ty = tiny.data(256, 2)
        return example.ExampleInputs(tiny_model, Dataset(x, y), Dataset(tx, ty), {"example": "t"})

    monkeypatch.setattr(example, "digits", small)
    monkeypatch.setitem(cli.DEMO, "phase_s", 0.01)
    monkeypatch.setitem(cli.DEMO, "repeats", 1)
    console = Console(record=True, width=100)
    cli.demo_step(console, "ES")
    text = " ".join(console.export_text().split())  # wrapping depends on the numbers' widths
    assert "Recommended:" in text and ("estimated:" in text or "measured:" in text)
    assert "gCO2e per million inferences" in text
