"""Training FLOPs counted on a sample step with PyTorch's FlopCounterMode."""

from __future__ import annotations

import pytest

from vatio.report.flops import count_training_flops, recorded_flops

torch = pytest.importorskip("torch")


def test_a_step_counts_forward_and_backward_matmuls():
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 16, bias=False), torch.nn.ReLU(), torch.nn.Linear(16, 4, bias=False)
    )
    inputs, targets = torch.randn(2, 8), torch.randn(2, 4)
    flops = count_training_flops(model, (inputs, targets), torch.nn.functional.mse_loss)
    first, second = 2 * 2 * 8 * 16, 2 * 2 * 16 * 4  # 2 × batch × in × out
    # backward: weight gradients of both layers, input gradient of the second only
    assert flops == (first + second) + (first + second) + second


def test_counting_leaves_the_gradients_alone():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    before = [torch.full_like(p, 7.0) for p in model.parameters()]
    for p, g in zip(model.parameters(), before, strict=True):
        p.grad = g.clone()
    flops = count_training_flops(model, torch.randn(3, 4), lambda out: out.sum())
    assert flops > 0
    for p, g in zip(model.parameters(), before, strict=True):
        assert torch.equal(p.grad, g)


def test_recorded_flops_sources():
    assert recorded_flops({"work": {"samples": 10}}) is None
    assert recorded_flops({"work": {"flops": 5.0}})["source"] == "work"
    meta = recorded_flops({"metadata": {"training_flops": 7, "flops_method": "6ND"}})
    assert meta == {"value": 7.0, "source": "metadata", "method": "6ND"}
    assert recorded_flops({"work": {"flops": 5.0}}, given=9.0)["value"] == 9.0
