"""Tiny training scripts that the end-to-end tests hand to `vatio scale`."""

from __future__ import annotations

from pathlib import Path

DDP = """
import sys, torch, torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
import vatio.scale

dist.init_process_group(vatio.scale.backend())
torch.manual_seed(0)
model = vatio.scale.instrument(DistributedDataParallel(torch.nn.Linear(16, 4)))
optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(8, 16)
for _ in range(int(sys.argv[sys.argv.index("--steps") + 1])):
    optimiser.zero_grad()
    model(x).sum().backward()
    optimiser.step()
    vatio.scale.step(samples=len(x))
dist.barrier()  # gloo: a peer that closes first can abort the other's last receive
dist.destroy_process_group()
"""

# No torch in the ranks: these stay fast; only torchrun itself imports it.
FAILS_IN_RANK_ONE = """
import os, sys
import vatio.scale

for _ in range(3):
    vatio.scale.step(samples=1)
if os.environ.get("WORLD_SIZE") == "2" and os.environ.get("RANK") == "1":
    print("loading shard 1", flush=True)
    raise ValueError("bad shard on rank 1")
"""

THREADS = """
import os, time
import vatio.scale

for _ in range(5):
    time.sleep(0.01)
    vatio.scale.step(samples=4)
print("threads seen:", os.environ.get("OMP_NUM_THREADS"), flush=True)
"""

MODELS = """
import torch


def build():
    return torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))


def inputs():
    return torch.randn(40, 8), torch.zeros(40)
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
