"""A simulated 2 nodes × 2 local ranks job: real processes, distinct host names, fake devices.

node-a runs `vatio.track()` in each rank (as a torchrun script would), node-b runs
`vatio run` per rank; all four see torchrun's variables. One part per node measures
its devices; the other registers its process with it. The merged run counts each
device once and its energy is exactly the sum of the node parts.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.team.helpers import cli
from vatio.record.group import load_group, merge_group
from vatio.store.runstore import RunStore

REPO = Path(__file__).resolve().parents[2]
HOSTS = {0: ("node-a", 0), 1: ("node-a", 1), 2: ("node-b", 0), 3: ("node-b", 1)}


def _env(rank: int, job: str, store: str, locks: str) -> dict[str, str]:
    host, local = HOSTS[rank]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VATIO_", "SLURM_"))}
    env.update(
        PYTHONPATH=str(REPO),
        VATIO_HOSTNAME=host,
        VATIO_STORE=store,
        VATIO_PROJECT="llm",
        VATIO_INTERVAL="200ms",
        VATIO_NODE_LOCK_DIR=locks,
        RANK=str(rank),
        LOCAL_RANK=str(local),
        WORLD_SIZE="4",
        LOCAL_WORLD_SIZE="2",
        GROUP_RANK=str(rank // 2),
        TORCHELASTIC_RUN_ID=job,
        MASTER_ADDR="node-a",
        MASTER_PORT="29500",
    )
    return env


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    root = tmp_path_factory.mktemp("job")
    store = str(root / "team.db")
    RunStore(f"sqlite:///{store}").engine.dispose()
    job_id = f"exp-{uuid.uuid4().hex[:8]}"
    worker = [sys.executable, "-m", "tests.team.node_worker"]
    commands = {
        0: [*worker, "api", str(root), "0"],
        1: [*worker, "api", str(root), "1"],
        2: [sys.executable, "-m", "vatio", "run", "-q", "--", *worker, "job", str(root), "2"],
        3: [sys.executable, "-m", "vatio", "run", "-q", "--", *worker, "job", str(root), "3"],
    }
    processes = [
        subprocess.Popen(
            command,
            env=_env(rank, job_id, store, str(root / "locks")),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank, command in commands.items()
    ]
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    return {"store": store, "group": f"torchrun-{job_id}"}


def _parts(job) -> list[dict]:
    store = RunStore(f"sqlite:///{job['store']}")
    return [store.get(row["id"]) for row in store.group_summaries(job["group"])]


def test_one_part_per_node_measures_its_devices_the_others_register(job):
    parts = _parts(job)
    assert len(parts) == 4
    sections = {p["id"]: p["extensions"]["multinode"] for p in parts}
    assert {s["group_id"] for s in sections.values()} == {job["group"]}
    by_host: dict[str, list[dict]] = {}
    for part in parts:
        by_host.setdefault(sections[part["id"]]["host"], []).append(part)
    assert sorted(by_host) == ["node-a", "node-b"]
    for host, members in by_host.items():
        measuring = [p for p in members if sections[p["id"]]["measures_devices"]]
        others = [p for p in members if not sections[p["id"]]["measures_devices"]]
        assert len(measuring) == 1 and len(others) == 1, host
        node, rank = measuring[0], others[0]
        assert node["devices"] and node["totals"]["energy_j"] > 0
        assert rank["devices"] == [] and rank["totals"]["energy_j"] is None
        assert rank["carbon"] is None
        assert sections[rank["id"]]["node_part"] == node["id"]
        attributed = sections[node["id"]]["attributed"]
        assert [a["run_id"] for a in attributed] == [rank["id"]]
        # the measuring part's job share holds both ranks' CPU time, not only its own
        assert node["sampler"]["process_cpu_s"] > 1.5 * rank["sampler"]["process_cpu_s"]
        assert {p["summary"]["host"] for p in members} == {host}
        assert {p["summary"]["group_id"] for p in members} == {job["group"]}


def test_merged_run_is_the_exact_sum_and_counts_no_device_twice(job):
    parts = _parts(job)
    merged = merge_group(parts)
    node_energy = [p["totals"]["energy_j"] for p in parts if p["devices"]]
    assert merged["totals"]["energy_j"] == math.fsum(node_energy)
    assert merged["totals"]["energy_j"] == math.fsum(reversed(node_energy))
    group = merged["group"]
    assert group["devices_double_counted"] == 0 and group["left_out"] == []
    names = [d["name"] for d in merged["devices"]]
    assert len(names) == len(set(names)) == group["devices_counted"]
    assert {n.split("/")[0] for n in names} == {"node-a", "node-b"}
    assert [n["host"] for n in group["nodes"]] == ["node-a", "node-b"]
    assert math.fsum(n["energy_j"] for n in group["nodes"]) == merged["totals"]["energy_j"]
    assert group["slowest"] in ("node-a", "node-b") and group["spread_s"] >= 0
    assert merged["work"] == {"samples": 200.0}  # node-a's two ranks counted 100 each
    assert merged["status"] == "completed" and group["world_size"] == 4


def test_runs_show_and_report_show_the_merged_run(job, capsys):
    store = job["store"]
    code, out, err = cli(capsys, "runs", "show", job["group"], "--store", store, "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["id"] == job["group"] and shown["verification"]["verified"], shown
    assert len(shown["group"]["nodes"]) == 2
    part = shown["group"]["parts"][0]
    code, out, err = cli(capsys, "runs", "show", part, "--store", store)
    assert code == 0 and "node-a" in out and "node-b" in out and "slowest" in out, err
    code, out, err = cli(capsys, "runs", "show", part, "--store", store, "--part", "--json")
    assert code == 0 and json.loads(out)["id"] == part, err
    code, out, err = cli(capsys, "report", job["group"], "--store", store, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    from vatio.report.schema import validation_errors

    assert validation_errors(report) == []
    run = report["runs"][0]
    assert run["id"] == job["group"] and report["verified"]
    assert [n["host"] for n in run["multinode"]["nodes"]] == ["node-a", "node-b"]
    assert run["multinode"]["devices_double_counted"] == 0


def test_load_group_reads_the_parts_from_the_store(job):
    merged = load_group(RunStore(f"sqlite:///{job['store']}"), job["group"])
    assert len(merged["group"]["parts"]) == 4
