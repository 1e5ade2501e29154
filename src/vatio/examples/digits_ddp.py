"""Data-parallel (DDP) training of the digits MLP: the bundled example of `vatio scale`.

    vatio scale --example digits --workers 1,2
    python -m torch.distributed.run --nproc-per-node 2 --standalone -m vatio.examples.digits_ddp

Strong scaling (default): the global batch is fixed and split across ranks,
so every configuration does the same work. Weak scaling: each rank keeps the
full batch and goes through the whole training set, so the work grows with
the number of ranks. After training (and its accuracy), a few steps under
`model.no_sync()` (gradient sync off) give the reference step time without
communication for the check of the hook's all-reduce time. Without torchrun
it trains in one process (the thread sweep runs it so).
"""

from __future__ import annotations

import argparse
import contextlib
import os

import vatio.scale
from vatio.examples.digits import accuracy, build_model, load_digits_data, require_ml


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="DDP training of an MLP on scikit-learn's digits.")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=64,
        help="global batch (strong scaling) or per-rank batch (weak)",
    )
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument(
        "--no-sync-steps",
        type=int,
        default=40,
        help="steps with gradient sync off at the end, for the comm check",
    )
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    require_ml()
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    backend = vatio.scale.backend()
    if distributed:
        dist.init_process_group(backend)
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local_rank}" if backend == "nccl" else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)

    torch.manual_seed(args.seed)  # same initial weights on every rank
    data = load_digits_data(args.seed)
    x_train, y_train = data.x_train.to(device), data.y_train.to(device)
    net = build_model(args.hidden).to(device)
    ids = [local_rank] if device.type == "cuda" else None
    model = DistributedDataParallel(net, device_ids=ids) if distributed else net
    vatio.scale.instrument(model)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    weak = vatio.scale.scaling() == "weak"
    per_rank = args.batch_size if weak else max(1, args.batch_size // world)
    generator = torch.Generator().manual_seed(args.seed)

    def batches():
        """This rank's batches of one epoch: its shard (strong) or the whole set (weak)."""
        order = torch.randperm(len(x_train), generator=generator).to(device)
        mine = order if weak else order[rank::world]
        steps = len(order) // args.batch_size if not weak else len(mine) // per_rank
        for step in range(max(steps, 1)):
            yield mine[step * per_rank : (step + 1) * per_rank]

    def train_step(index, sync: bool = True) -> None:
        optimiser.zero_grad(set_to_none=True)
        context = contextlib.nullcontext() if sync or not distributed else model.no_sync()
        with context:
            loss_fn(model(x_train[index]), y_train[index]).backward()
        optimiser.step()
        vatio.scale.step(samples=len(index))

    model.train()
    for _ in range(args.epochs):
        for index in batches():
            train_step(index)
    with vatio.scale.pause():  # evaluation is not a training step
        acc = accuracy(net, data.x_test.to(device), data.y_test.to(device))
    done = 0
    while distributed and done < args.no_sync_steps:
        for index in batches():
            if done >= args.no_sync_steps:
                break
            train_step(index, sync=False)
            done += 1
    if rank == 0:
        print(f"world size {world}, {per_rank} samples per rank and step, test accuracy {acc:.3f}")
    if distributed:
        # without it, a gloo rank that closes first can abort a peer's last receive (SIGABRT)
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
