"""The §4.1 advisor: each criterion from its inputs, the verdict, and what would change it."""

from __future__ import annotations

import pytest

from vatio.errors import InputError
from vatio.federated.advisor import AdviceInputs, advise

BASE = {"model_params": 2.4e6, "clients": 50, "data_per_client_bytes": 3e9, "rounds": 100}


def _criteria(advice) -> dict[str, bool]:
    return {c.name: c.met for c in advice.criteria}


def test_the_issue_example_is_recommended_with_every_criterion_and_reason():
    advice = advise(**BASE, link="4g", sensitive=True, heterogeneous=True)
    met = _criteria(advice)
    assert advice.verdict == "recommended"
    assert len(advice.criteria) == 8 and all(c.reason for c in advice.criteria)
    assert met["sensitive or regulated data"] and met["compact model or partial updates"]
    assert met["device heterogeneity, stragglers"] and met["unstable or costly links"]
    assert not met["large model"] and not met["strict traceability or reproducibility"]
    assert advice.energy["fl_bytes"] == 100 * 50 * 2 * 2.4e6 * 4
    assert advice.energy["central_bytes"] == 50 * 3e9
    assert advice.energy["comparison"] == "federated lower"
    assert advice.references and advice.link["link"] == "4g"


def test_a_large_model_on_small_data_is_not_recommended():
    advice = advise(model_params=200e6, clients=5, data_per_client_bytes=1e8, rounds=100)
    assert advice.verdict == "not recommended"
    assert _criteria(advice)["large model"]
    assert advice.energy["comparison"] == "federated higher"


def test_real_time_needs_block_a_recommendation_unless_data_is_sensitive():
    plain = advise(**BASE, realtime=True)
    assert plain.verdict == "not recommended" and not _criteria(plain)["no real-time need"]


def test_overlapping_evidence_depends():
    advice = advise(**BASE, heterogeneous=True, link="4g")  # lower energy, two against
    assert advice.energy["comparison"] == "federated lower"
    assert advice.verdict == "depends"
    assert advise(**BASE, heterogeneous=True, link="4g", sensitive=True).verdict == "recommended"


def test_compression_and_participation_scale_the_bytes():
    full = advise(**BASE)
    eight_bit = advise(**BASE, compression=0.25)
    sampled = advise(**BASE, participation=0.1)
    assert full.energy["fl_bytes"] == 4 * eight_bit.energy["fl_bytes"]
    assert full.energy["fl_bytes"] == 10 * sampled.energy["fl_bytes"]
    assert any(c.startswith("with 8-bit updates FL moves") for c in full.changes)


def test_compute_from_joules_per_sample_is_the_same_budget_on_both_sides():
    advice = advise(**BASE, samples_per_client=1000, local_epochs=2, client_j_per_sample=0.5)
    samples = 100 * 50 * 1000 * 2
    assert advice.energy["fl"]["compute_j"]["central"] == pytest.approx(samples * 0.5)
    assert advice.energy["central"]["compute_j"]["central"] == pytest.approx(samples * 0.5)
    without = advise(**BASE)
    assert without.energy["compute_note"].startswith("compute left out")


def test_a_verdict_change_is_named():
    advice = advise(model_params=1e6, clients=20, data_per_client_bytes=5e8, rounds=80)
    assert any("verdict becomes" in c for c in advice.changes) or advice.changes


@pytest.mark.parametrize(
    "bad",
    [
        {"clients": 0},
        {"rounds": 0},
        {"compression": 0},
        {"participation": 1.5},
        {"link": "carrier-pigeon"},
        {"client_j_per_sample": -1.0},
    ],
)
def test_bad_inputs_name_the_flag(bad):
    with pytest.raises(InputError):
        advise(AdviceInputs(**{**BASE, **bad}))


def test_json_is_complete():
    import json

    data = json.loads(json.dumps(advise(**BASE).to_dict()))
    assert set(data) >= {"verdict", "criteria", "energy", "changes", "link", "references"}
