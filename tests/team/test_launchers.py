"""Which launcher started a rank, its logical run, and the per-node measuring slot."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import pytest

from tests.measure.fakes import ConstantPowerSensor
from tests.team.helpers import cli, result, save
from vatio.errors import InputError
from vatio.record.group import merge_group
from vatio.record.multinode import AUTO, NodeSlot, detect, plan
from vatio.record.tracker import RecordingTracker

TORCHRUN = {"RANK": "5", "LOCAL_RANK": "1", "WORLD_SIZE": "8", "LOCAL_WORLD_SIZE": "4",
            "GROUP_RANK": "1", "MASTER_ADDR": "n0", "MASTER_PORT": "29500",
            "TORCHELASTIC_RUN_ID": "exp42"}  # fmt: skip
SLURM = {"SLURM_JOB_ID": "9001", "SLURM_STEP_ID": "2", "SLURM_PROCID": "3", "SLURM_LOCALID": "1",
         "SLURM_NODEID": "1", "SLURM_NNODES": "2", "SLURM_STEP_NUM_TASKS": "4",
         "SLURM_STEP_TASKS_PER_NODE": "2(x2)"}  # fmt: skip


def test_torchrun():
    launch = detect(TORCHRUN)
    assert launch is not None and launch.launcher == "torchrun"
    assert (launch.job_id, launch.rank, launch.local_rank, launch.world_size) == (
        "torchrun-exp42", 5, 1, 8
    )  # fmt: skip
    assert (launch.local_world_size, launch.node_rank) == (4, 1)
    assert plan(AUTO, TORCHRUN).group_id == "torchrun-exp42"


def test_torchrun_without_a_run_id_uses_the_slurm_step_or_warns():
    env = TORCHRUN | {"TORCHELASTIC_RUN_ID": "none"}
    planned = plan(AUTO, env)
    assert planned.group_id is None and "--group" in planned.warning
    assert plan(AUTO, env | SLURM).group_id == "slurm-9001.2"


def test_slurm_step_tasks_but_not_the_batch_script():
    launch = detect(SLURM)
    assert launch.launcher == "slurm" and launch.job_id == "slurm-9001.2"
    assert (launch.rank, launch.local_rank, launch.world_size, launch.local_world_size,
            launch.node_rank, launch.nnodes) == (3, 1, 4, 2, 1, 2)  # fmt: skip
    batch = {k: v for k, v in SLURM.items() if k != "SLURM_STEP_ID"}
    assert detect(batch) is None  # sequential `vatio run`s of a batch script stay apart


def test_open_mpi_and_pmi():
    ompi = {"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_LOCAL_RANK": "0",
            "OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_LOCAL_SIZE": "2",
            "PMIX_NAMESPACE": "prterun-n0-123@1"}  # fmt: skip
    launch = detect(ompi)
    assert launch.launcher == "openmpi" and launch.job_id == "mpi-prterun-n0-123@1"
    assert plan(AUTO, ompi).group_id == "mpi-prterun-n0-123@1"
    pmi = {"PMI_RANK": "1", "PMI_SIZE": "2", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "2"}
    launch = detect(pmi)
    assert (launch.launcher, launch.rank, launch.local_rank, launch.job_id) == ("pmi", 1, 1, None)
    assert plan(AUTO, pmi).group_id is None  # no job id: not grouped (a warning says so)
    assert plan(AUTO, pmi | SLURM).group_id == "slurm-9001.2"  # mpirun inside a Slurm step


def test_single_process_and_explicit_groups():
    assert plan(AUTO, {}).group_id is None
    assert plan(AUTO, TORCHRUN | {"WORLD_SIZE": "1"}).group_id is None
    assert plan(None, TORCHRUN).group_id is None  # features' trackers never group
    assert plan("exp-7", {}).group_id == "exp-7"
    assert plan("exp-7", TORCHRUN).group_id == "exp-7"  # given beats detected
    for bad in ("", "a b", "x" * 200, "-x", "job/1"):
        with pytest.raises(InputError, match="not a usable group id"):
            plan(bad, {})


def test_one_process_per_node_claims_the_slot():
    group = f"g-{uuid.uuid4().hex[:8]}"
    first, second, other_host = (NodeSlot(group, "node-a"), NodeSlot(group, "node-a"),
                                 NodeSlot(group, "node-b"))  # fmt: skip
    assert first.claim("run-1") and not second.claim("run-2") and other_host.claim("run-3")
    assert second.holder() == "run-1"
    first.release()
    assert second.claim("run-2")
    second.release()
    other_host.release()


def test_the_measuring_part_attributes_a_registered_rank(monkeypatch):
    monkeypatch.setenv("VATIO_HOSTNAME", "node-z")
    group = f"g-{uuid.uuid4().hex[:8]}"
    tracker = RecordingTracker(group=group, sensors=[ConstantPowerSensor()], store=False,
                               interval_s=0.1)  # fmt: skip
    tracker.start()
    # another rank: a process outside this one's tree (its parent exits at once)
    spawn = (
        "import subprocess, sys\n"
        "code = 'import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.6: "
        "pass\\ntime.sleep(0.5)'\n"
        "print(subprocess.Popen([sys.executable, '-c', code]).pid)"
    )
    pid = int(subprocess.run([sys.executable, "-c", spawn], capture_output=True, text=True,
                             check=True).stdout)  # fmt: skip
    NodeSlot(group, "node-z").register(pid, {"run_id": "rank-1", "rank": 1, "cpu_from_s": 0.0})
    import psutil

    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.05)
    result_ = tracker.stop()
    section = result_.extensions["multinode"]
    assert section["measures_devices"] and section["group_id"] == group
    assert [a["run_id"] for a in section["attributed"]] == ["rank-1"]
    assert result_.sampler["process_cpu_s"] >= 0.4  # the rank's CPU time is this job's


def test_a_second_part_on_the_same_node_measures_nothing(monkeypatch):
    monkeypatch.setenv("VATIO_HOSTNAME", "node-y")
    group = f"g-{uuid.uuid4().hex[:8]}"
    node = RecordingTracker(group=group, sensors=[ConstantPowerSensor()], store=False).start()
    rank = RecordingTracker(group=group, sensors=[ConstantPowerSensor()], store=False).start()
    rank_result, node_result = rank.stop(), node.stop()
    assert rank_result.devices == [] and rank_result.energy_j is None
    assert rank_result.extensions["multinode"]["node_part"] == node.run_id
    assert node_result.devices and node_result.extensions["multinode"]["role"] == "node"


def test_overlapping_measurements_of_one_node_are_counted_once():
    section = {"group_id": "g1", "host": "n1", "measures_devices": True}
    a = result(run_id="aaaaaaaaaaaa", energy_j=10.0, extensions={"multinode": section}).to_dict()
    b = result(run_id="bbbbbbbbbbbb", energy_j=30.0, extensions={"multinode": section}).to_dict()
    merged = merge_group([a, b])
    assert merged["totals"]["energy_j"] == 10.0 and merged["group"]["devices_double_counted"] == 0
    assert "bbbbbbbbbbbb" in merged["group"]["left_out"][0]
    later = dict(b, started_at="2026-11-20T11:00:00.000000Z", ended_at="2026-11-20T11:01:00.0Z")
    assert merge_group([a, later])["totals"]["energy_j"] == 40.0  # one after the other: both


def test_compare_takes_multi_node_runs_as_one_run_each(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'v.db'}"
    for index, energy in enumerate((100.0, 102.0, 101.0, 99.0)):
        group = f"job-{index}"
        parts = [
            result(host=host, energy_j=energy, run_id=f"{group}-{host}".ljust(12, "x"),
                   extensions={"multinode": {"group_id": group, "host": host,
                                             "measures_devices": True}})
            for host in ("n1", "n2")
        ]  # fmt: skip
        save(url, parts)
        tag = "base" if index < 2 else "cand"
        code, _, err = cli(capsys, "runs", "tag", parts[1].id, tag, "--store", url)
        assert code == 0, err
    code, out, err = cli(capsys, "compare", "--baseline", "base", "--candidate", "cand",
                         "--metric", "energy", "--store", url, "--json")  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["baseline_runs"] == ["job-0", "job-1"] and data["candidate_runs"] == [
        "job-2",
        "job-3",
    ]


def test_an_unusable_lock_folder_measures_and_says_so(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("VATIO_NODE_LOCK_DIR", str(blocker))
    tracker = RecordingTracker(group="g-lock", sensors=[ConstantPowerSensor()], store=False)
    found = tracker.start().stop()
    section = found.extensions["multinode"]
    assert section["measures_devices"] and section["lock_error"] and found.devices
    assert any("measuring slot" in w for w in found.warnings)
