"""Sweep plans, input checks and the oversubscription warning."""

from __future__ import annotations

import pytest

from vatio.errors import InputError
from vatio.scale.configs import Config, Nodes, oversubscription_warnings, parse_counts, plan


def test_parse_counts():
    assert parse_counts("4, 1,2,2", "--workers") == [1, 2, 4]
    assert parse_counts(None, "--workers") == []
    for bad in ("1,x", "0", " , "):
        with pytest.raises(InputError):
            parse_counts(bad, "--workers")


def test_worker_plan_runs_the_baseline_first_and_adds_no_sync_checks():
    mode, configs = plan([2, 1], [], [], Nodes(), no_sync_check=True)
    assert mode == "workers"
    assert [c.key for c in configs] == ["w1", "w2", "w2-nosync"]
    assert configs[2].label == "2 workers (no_sync check)"


def test_grid_of_workers_and_threads_orders_by_resources():
    _, configs = plan([1, 2], [1, 2], [], Nodes())
    assert [(c.workers, c.threads, c.resources) for c in configs] == [
        (1, 1, 1),
        (1, 2, 2),
        (2, 1, 2),
        (2, 2, 4),
    ]
    assert configs[3].label == "2 workers × 2 threads"


def test_thread_and_batch_plans():
    mode, configs = plan([], [1, 2], [], Nodes())
    assert mode == "threads" and [c.label for c in configs] == ["1 thread", "2 threads"]
    mode, configs = plan([], [], [8, 1], Nodes())
    assert mode == "batch" and [c.batch_size for c in configs] == [1, 8]
    with pytest.raises(InputError):
        plan([1], [], [8], Nodes())
    with pytest.raises(InputError):
        plan([], [], [], Nodes())
    with pytest.raises(InputError):
        plan([], [2], [], Nodes(nnodes=2))


def test_multi_node_configs():
    _, configs = plan([1, 2], [], [], Nodes(nnodes=2, rdzv_endpoint="h:1"))
    assert configs[1].world_size == 4 and configs[1].resources == 4
    assert configs[1].label == "2 nodes × 2 workers" and configs[1].key == "w2-n2"


def test_more_workers_than_cores_warns():
    configs = [
        Config("workers", workers=1),
        Config("workers", workers=4),
        Config("workers", workers=2, threads=2),
    ]
    warnings = oversubscription_warnings(configs, cores=2)
    assert len(warnings) == 2
    assert "4 threads in all on a node with 2 cores" in warnings[0]
    assert "distorted" in warnings[0]
    gpu = oversubscription_warnings([Config("workers", workers=2)], cores=64, gpus=1, on_gpu=True)
    assert "1 GPU(s)" in gpu[0]


def test_the_demo_and_the_example_build_a_valid_study():
    from vatio.scale.options import build_spec, default_options

    spec = build_spec(default_options(example="digits", workers="1,2", args=["--epochs", "10"]))
    assert spec.mode == "workers" and [c.key for c in spec.configs] == ["w1", "w2"]
    assert spec.target.module == "vatio.examples.digits_ddp"
    assert spec.target.argv() == ["-m", "vatio.examples.digits_ddp", "--epochs", "10"]
    assert spec.backend in ("gloo", "nccl") and spec.command is None
    with pytest.raises(TypeError):
        default_options(epochs=3)


def test_torchrun_command_passes_multi_node_settings_through(tmp_path):
    from vatio.scale.launch import Target, build_command, build_env

    nodes = Nodes(nnodes=2, node_rank=1, rdzv_endpoint="node0:29500", rdzv_id="exp1")
    config = Config("workers", workers=2, nnodes=2)
    command = build_command(
        config, Target(script="train.py", args=("--epochs", "1")), nodes, tmp_path
    )
    assert command[1:4] == ["-m", "torch.distributed.run", "--nproc-per-node=2"]
    assert "--nnodes=2" in command and "--node-rank=1" in command
    assert "--rdzv-endpoint=node0:29500" in command and "--rdzv-id=exp1" in command
    assert "--standalone" not in command
    assert command[-3:] == ["train.py", "--epochs", "1"]
    env = build_env(config, tmp_path, "weak", "gloo", base={})
    assert env["OMP_NUM_THREADS"] == "1" and env["VATIO_SCALE_SCALING"] == "weak"
    assert "VATIO_SCALE_NO_SYNC" not in env
