"""RunResult.to_dict: the same as dataclasses.asdict, without its deep copy of every leaf."""

from __future__ import annotations

from dataclasses import asdict

from hypothesis import given
from hypothesis import strategies as st

from vatio.measure.result import DeviceEnergy, PhaseResult, RunResult

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(manifest=st.dictionaries(st.text(max_size=5), json_values, max_size=5),
       extensions=st.dictionaries(st.text(max_size=5), json_values, max_size=3))  # fmt: skip
def test_to_dict_matches_asdict_and_shares_no_container(manifest, extensions):
    result = RunResult(id="r1", name="n", command=["python", "x.py"], status="completed",
                       started_at="2026-12-01T00:00:00Z")  # fmt: skip
    result.devices = [DeviceEnergy("cpu", "cpu", "estimated:tdp", 1.0, 0.5, 1.5, None,
                                   details={"tdp_w": 65})]  # fmt: skip
    when = "2026-12-01T00:00:00Z"
    result.phases = [PhaseResult("train", when, when, 1.0, 2.0, 1.0, 3.0, None)]
    result.manifest = manifest
    result.extensions = extensions
    data = result.to_dict()
    expected = asdict(result)
    assert {k: v for k, v in data.items() if k != "totals"} == expected
    data["manifest"]["added"] = 1
    data["command"].append("--more")
    assert "added" not in result.manifest
    assert result.command == ["python", "x.py"]
