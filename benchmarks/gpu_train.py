"""A CUDA training loop for benchmarks/gpu_power.sh: an MLP on random data, no download.

bf16 autocast, AdamW, the same batch every step (the GPU's arithmetic is the
point, not learning); `vatio.power.step(samples=batch)` after every step, so
`vatio power sweep --steps N` profiles power limits inside this one run.
`--calibrate` times a few steps and prints {"ms_per_step": ...} instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def build(width: int, layers: int, classes: int):
    import torch.nn as nn

    blocks: list = []
    for _ in range(layers):
        blocks += [nn.Linear(width, width), nn.GELU()]
    return nn.Sequential(*blocks, nn.Linear(width, classes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--width", type=int, default=8192)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=16384)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--calibrate", action="store_true", help="Time 15 steps and exit.")
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    import vatio.power

    if not torch.cuda.is_available():
        sys.exit("gpu_train.py: torch sees no CUDA device")
    torch.manual_seed(0)
    device = torch.device("cuda")
    model = build(args.width, args.layers, args.classes).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randn(args.batch, args.width, device=device)
    y = torch.randint(args.classes, (args.batch,), device=device)

    def one_step() -> torch.Tensor:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(x), y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        return loss

    if args.calibrate:
        for _ in range(5):  # kernels chosen, memory allocated
            one_step()
        torch.cuda.synchronize()
        began = time.perf_counter()
        for _ in range(10):
            one_step()
        torch.cuda.synchronize()
        ms = (time.perf_counter() - began) / 10 * 1000
        print(json.dumps({"ms_per_step": ms, "gpu": torch.cuda.get_device_name(0)}))
        return
    began = time.perf_counter()
    loss = None
    for _ in range(args.steps):
        loss = one_step()
        vatio.power.step(samples=args.batch)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - began
    print(
        json.dumps(
            {
                "steps": args.steps,
                "seconds": round(seconds, 3),
                "ms_per_step": round(seconds / args.steps * 1000, 3),
                "loss": float(loss) if loss is not None else None,
            }
        ),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
