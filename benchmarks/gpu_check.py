"""On a machine with an NVIDIA GPU: vatio's GPU energy against the driver's own figures.

(a) The same window, three ways: vatio's NVML energy counter (measured:nvml-counter), vatio's
    power sampling integrated over time (measured:nvml-power, 100 ms), and `nvidia-smi`'s
    power.draw sampled every 100 ms by nvidia-smi itself and integrated here (trapezoid);
    an idle window, then a window of bf16 matrix products.
(b) A CUDA training loop (benchmarks/gpu_train.py's MLP) under `vatio.track`: the record's
    method, GPU energy, process share, phases per epoch, overhead.
Prints Markdown and writes gpu_check.json to $OUT (or the current folder). All measured.

Run: python benchmarks/gpu_check.py [--idle 8] [--load 20] [--train-steps 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def smi_samples(stop: threading.Event, out: list[tuple[float, float]]) -> None:
    """power.draw every 100 ms from nvidia-smi's own loop (-lms), with our timestamps."""
    proc = subprocess.Popen(
        ["nvidia-smi", "-i", "0", "--query-gpu=power.draw", "--format=csv,noheader,nounits",
         "-lms", "100"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        try:
            out.append((time.monotonic(), float(line.strip())))
        except ValueError:
            continue
        if stop.is_set():
            break
    proc.terminate()
    proc.wait()


def integrate(points: list[tuple[float, float]], start: float, end: float) -> float | None:
    """Joules of a power series (t, W) over [start, end], trapezoid, clipped at the ends."""
    inside = [(t, w) for t, w in points if start <= t <= end]
    if len(inside) < 2:
        return None
    energy = sum((t1 - t0) * (w0 + w1) / 2 for (t0, w0), (t1, w1) in pairwise(inside))
    covered = inside[-1][0] - inside[0][0]
    return energy * (end - start) / covered if covered > 0 else None


def three_ways(seconds: float, load: bool) -> dict:
    import pynvml

    from vatio.devices.nvidia import NvidiaSensor, _Session
    from vatio.measure.sampler import Sampler

    pynvml.nvmlInit()
    session = _Session(pynvml)
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    counter = NvidiaSensor(session, 0, handle, counter=True)
    power = NvidiaSensor(session, 0, handle, counter=False)
    power.name = "gpu:0-power"
    smi: list[tuple[float, float]] = []
    stop = threading.Event()
    reader = threading.Thread(target=smi_samples, args=(stop, smi), daemon=True)
    reader.start()
    time.sleep(1.5)  # nvidia-smi's first lines
    sampler = Sampler([counter, power], interval_s=0.1)
    begin = sampler.start()
    t0 = time.monotonic()
    if load:
        import torch

        a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
        products = 0
        while time.monotonic() - t0 < seconds:
            for _ in range(20):
                torch.matmul(a, b)
            torch.cuda.synchronize()
            products += 20
    else:
        time.sleep(seconds)
    t1 = time.monotonic()
    end = sampler.stop().minus(begin)
    time.sleep(0.3)
    stop.set()
    reader.join(timeout=5)
    smi_j = integrate(smi, t0, t1)
    result = {
        "window_s": round(t1 - t0, 3),
        "counter_j": end.machine["gpu:0"].energy_j,
        "power_integrated_j": end.machine["gpu:0-power"].energy_j,
        "nvidia_smi_j": smi_j,
        "nvidia_smi_samples": len([1 for t, _ in smi if t0 <= t <= t1]),
        "sampler_ticks": sampler.ticks,
    }
    if load:
        result["tflops"] = round(2 * 8192**3 * products / (t1 - t0) / 1e12, 1)
    for key in ("counter_j", "power_integrated_j", "nvidia_smi_j"):
        value = result[key]
        result[key.replace("_j", "_w")] = None if value is None else value / (t1 - t0)
    return result


def training_under_tracker(steps: int) -> dict:
    import torch

    import vatio

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gpu_train import build

    model = build(4096, 4, 1000).cuda()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randn(8192, 4096, device="cuda")
    y = torch.randint(0, 1000, (8192,), device="cuda")
    with vatio.track("gpu-train", store=False, interval="100ms", zone="FR") as tracker:
        for epoch in range(3):
            with tracker.phase(f"epoch-{epoch + 1}"):
                for _ in range(steps // 3):
                    with torch.autocast("cuda", dtype=torch.bfloat16):
                        loss = torch.nn.functional.cross_entropy(model(x), y)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                torch.cuda.synchronize()
            tracker.add_work(samples=8192 * (steps // 3))
    r = tracker.result
    gpu = [d for d in r.devices if d.device == "gpu"]
    return {
        "method": r.method,
        "duration_s": r.duration_s,
        "gpu": [
            {"name": d.name, "method": d.method, "energy_j": d.energy_j,
             "process_energy_j": d.process_energy_j, "details": d.details}
            for d in gpu
        ],
        "energy_j": r.energy_j,
        "process_energy_j": r.process_energy_j,
        "energy_per_sample_j": r.energy_per_unit_j.get("samples"),
        "phases": [(p.name, p.duration_s, p.energy_j, p.overhead_j) for p in r.phases],
        "overhead": r.overhead,
        "co2e_g": r.co2e_g,
        "warnings": r.warnings,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=8.0)
    parser.add_argument("--load", type=float, default=20.0)
    parser.add_argument("--train-steps", type=int, default=300)
    args = parser.parse_args()
    out = Path(os.environ.get("OUT") or ".")
    smi = subprocess.run(
        ["nvidia-smi", "--query-gpu=name,driver_version,power.limit", "--format=csv,noheader"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    data = {"gpu": smi, "idle": three_ways(args.idle, False), "load": three_ways(args.load, True)}
    print(json.dumps(data, indent=1), flush=True)
    data["training"] = training_under_tracker(args.train_steps)
    (out / "gpu_check.json").write_text(json.dumps(data, indent=1, default=str))
    print("\n## GPU energy: vatio vs the driver (benchmarks/gpu_check.py)\n")
    print(f"GPU: {smi}. All figures measured.\n")
    print(
        "| window | length | NVML counter | NVML power ×t (100 ms) | nvidia-smi power.draw ×t "
        "(100 ms) | counter vs smi |"
    )
    print("|---|---|---|---|---|---|")
    for label in ("idle", "load"):
        w = data[label]
        ratio = (w["counter_j"] / w["nvidia_smi_j"] - 1) * 100 if w["nvidia_smi_j"] else None
        rate = f", {w['tflops']} TFLOP/s" if "tflops" in w else ""
        print(
            f"| {label}{rate} | {w['window_s']:.1f} s | {w['counter_j']:.0f} J "
            f"({w['counter_w']:.0f} W) | {w['power_integrated_j']:.0f} J "
            f"({w['power_integrated_w']:.0f} W) | "
            + (
                f"{w['nvidia_smi_j']:.0f} J ({w['nvidia_smi_w']:.0f} W)"
                if w["nvidia_smi_j"]
                else "—"
            )
            + " | "
            + (f"{ratio:+.1f} %" if ratio is not None else "—")
            + " |"
        )
    t = data["training"]
    print(f"\nTraining under vatio.track: {t['method']}, {t['duration_s']:.1f} s, "
          f"{t['energy_j']:.0f} J machine, {t['process_energy_j']:.0f} J this job, "
          f"{t['energy_per_sample_j']:.4g} J per sample, overhead {t['overhead']}, "
          f"phases {[(n, round(d, 2), round(e)) for n, d, e, _ in t['phases']]}")  # fmt: skip


if __name__ == "__main__":
    main()
