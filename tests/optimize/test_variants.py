"""Every variant turns the tiny model into a runnable artefact whose outputs match."""

from __future__ import annotations

import numpy as np
import pytest

from vatio.optimize.registry import NAMES, THREADS, all_variants, parse_selection, select
from vatio.optimize.variant import VariantError

#: max |output - baseline output| allowed, relative to the spread of the baseline outputs
TOLERANCE = {
    "fp32-eager": 1e-6,
    "ort-fp32": 1e-4,
    "ort-fp16": 1e-2,
    "ort-int8-dynamic": 0.1,
    "ort-int8-static": 0.1,
}


def _baseline_outputs(model, x):
    import torch

    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("name", list(TOLERANCE))
def test_variant_artefact_runs_and_matches_baseline(ctx, name):
    variant = next(v for v in all_variants() if v.name == name)
    artefact = variant.prepare(ctx)
    assert artefact.path.is_file() and artefact.size_bytes > 0
    assert artefact.recipe["technique"]
    runner = variant.open(artefact)
    expected = _baseline_outputs(ctx.torch_model, ctx.eval.x)
    got = runner(ctx.eval.x)
    scale = float(np.ptp(expected))
    assert got.shape == expected.shape
    assert float(np.abs(got - expected).max()) <= TOLERANCE[name] * scale
    agree = float((got.argmax(1) == expected.argmax(1)).mean())
    assert agree >= 0.9


@pytest.mark.parametrize("name", ["pruned", "distilled", "pruned+int8-static"])
def test_smaller_model_artefacts_run_and_match_their_torch_model(ctx, name):
    variant = next(v for v in all_variants() if v.name == name)
    artefact = variant.prepare(ctx)
    runner = variant.open(artefact)
    got = runner(ctx.eval.x)
    assert got.shape == (len(ctx.eval.x), 3)
    model = ctx.cache["pruned" if name.startswith("pruned") else "student"][0]
    expected = _baseline_outputs(model, ctx.eval.x)
    tolerance = 1e-4 if "int8" not in name else 0.1
    assert float(np.abs(got - expected).max()) <= tolerance * float(np.ptp(expected))


def test_pruning_really_removes_units_and_keeps_the_rest_exact(ctx):
    from vatio.optimize.mlp import hidden_widths, l1_keep, rebuild
    from vatio.optimize.torchutil import n_params

    model = ctx.torch_model
    same = rebuild(model, l1_keep(model, 0.0))
    x = ctx.eval.x
    assert np.allclose(_baseline_outputs(same, x), _baseline_outputs(model, x), atol=1e-6)
    half = rebuild(model, l1_keep(model, 0.5))
    assert hidden_widths(half) == [16, 16]
    assert n_params(half) < n_params(model) / 2


def test_pruning_a_model_it_cannot_rebuild_fails_with_a_reason(ctx):
    import torch.nn as nn

    from vatio.optimize.mlp import flatten, linear_positions

    class NotSequential(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(VariantError, match=r"nn\.Sequential"):
        flatten(NotSequential())
    with pytest.raises(VariantError, match="LayerNorm"):
        linear_positions(flatten(nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))))


def test_skip_reasons(ctx):
    ctx.train = None
    by_name = {v.name: v for v in all_variants()}
    assert "--train" in by_name["distilled"].skip_reason(ctx)
    assert "--calib" in by_name["ort-int8-static"].skip_reason(ctx)
    ctx.torch_model = None
    assert "PyTorch" in by_name["pruned"].skip_reason(ctx)


def test_registry_names_and_selection():
    assert [v.name for v in all_variants()] == [n for n in NAMES if n != THREADS]
    chosen, sweep = parse_selection("ort-int8-static,threads")
    assert chosen == {"ort-int8-static"} and sweep
    assert [v.name for v in select(chosen, "fp32-eager")] == ["fp32-eager", "ort-int8-static"]
    assert parse_selection(None) == (None, True)


def test_thread_counts():
    from vatio.optimize.threads import thread_counts

    assert thread_counts(1) == [1]
    assert thread_counts(2) == [1, 2]
    assert thread_counts(6) == [1, 2, 4, 6]
