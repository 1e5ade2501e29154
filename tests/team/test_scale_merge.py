"""`vatio scale` over several nodes: node 0 finds the other nodes' parts by their group id and
merges them with the common multi-node merge."""

from __future__ import annotations

import math
from types import SimpleNamespace

from tests.team.helpers import result, save
from vatio.scale.configs import Nodes
from vatio.scale.study import StudySpec, _merge_other_nodes, config_group
from vatio.store.runstore import RunStore


def _figures(node_rank: int, energy_j: float) -> dict:
    return {
        "config": {"key": "workers-2"}, "node_rank": node_rank, "ranks": 2, "samples": 100,
        "throughput": 10.0, "energy_j": energy_j, "energy_low_j": energy_j,
        "energy_high_j": energy_j, "step_s": 0.1, "window_s": 5.0, "steps": 10,
        "per_rank": [], "method": "measured:rapl", "instrumented": True,
    }  # fmt: skip


def test_node_0_merges_the_other_nodes_parts_of_a_configuration(tmp_path):
    url = f"sqlite:///{tmp_path / 'v.db'}"
    study, group = "study0000001", config_group("study0000001", "workers-2")
    parts = []
    for node, host, energy in ((0, "node-a", 400.0), (1, "node-b", 600.0)):
        section = {"group_id": group, "host": host, "node_rank": node, "measures_devices": True}
        scale = {"study_id": study, "figures": _figures(node, energy * 0.8)}
        parts.append(
            result(host=host, energy_j=energy, extensions={"multinode": section, "scale": scale})
        )
    save(url, parts)
    save(url, [result(host="node-c", energy_j=5.0)])  # another run of the store: not a part
    spec = StudySpec(mode="workers", configs=[], nodes=Nodes(nnodes=2), merge_timeout_s=0.5)
    row = _figures(0, 320.0) | {"run_energy_j": 400.0}
    _merge_other_nodes(spec, row, SimpleNamespace(store_url=url), study)
    assert row["group_id"] == group and "merge_note" not in row
    assert row["run_energy_j"] == math.fsum([400.0, 600.0])  # whole runs, every node once
    assert row["energy_j"] == 320.0 + 480.0  # training windows, from the figures
    assert row["devices_double_counted"] == 0 and row["slowest_node"] in ("node-a", "node-b")
    assert len(RunStore(url).group_summaries(group)) == 2
