"""On a machine with an NVIDIA GPU: the exporter's GPU power next to nvidia-smi's.

Run: python benchmarks/exporter_nvml.py [--seconds 60] [--load]

Starts `vatio exporter` (1 s sampling), then once a second reads
`vatio_power_watts{family="gpu"}` from /metrics and `power.draw` from nvidia-smi;
with --load (and a CUDA build of torch) half of the time runs matrix products on
GPU 0. Prints the median of each and of their difference per GPU; all measured.
The two are not sampled at the same instant nor averaged over the same window
(vatio: its last 1 s interval; nvidia-smi: the driver's own averaging), so a few
watts of difference per reading are expected; a systematic gap is what to look at.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integrations.helpers import free_port, named, samples, scrape_when_ready


def smi_power() -> dict[int, float]:
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=index,power.draw", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {int(i): float(p) for i, p in (line.split(",") for line in out.strip().splitlines())}


def load(stop: threading.Event) -> None:
    import torch

    if not torch.cuda.is_available():
        print("no CUDA torch: --load ignored", file=sys.stderr)
        return
    a = torch.randn(8192, 8192, device="cuda")
    while not stop.is_set():
        (a @ a).sum().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--load", action="store_true")
    options = parser.parse_args()
    import shutil

    if shutil.which("nvidia-smi") is None:
        sys.exit("nvidia-smi is not on this machine: this check needs an NVIDIA GPU.")
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VATIO_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "vatio", "exporter", "--port", str(port), "--interval", "1s"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    stop = threading.Event()
    rows: dict[str, list[tuple[float, float]]] = {}
    try:
        scrape_when_ready(url, process=process)
        time.sleep(3)
        worker = None
        for second in range(options.seconds):
            if options.load and second == options.seconds // 2:
                worker = threading.Thread(target=load, args=(stop,), daemon=True)
                worker.start()
            text = urllib.request.urlopen(url, timeout=5).read().decode()
            smi = smi_power()
            for labels, watts in named(samples(text), "vatio_power_watts").items():
                tags = dict(labels)
                if tags["family"] != "gpu":
                    continue
                index = int(tags["device"].split(":")[1])
                phase = "load" if worker is not None else "idle"
                key = f"{tags['device']} ({tags['method']}), {phase}"
                rows.setdefault(key, []).append((watts, smi.get(index, float("nan"))))
            time.sleep(1)
    finally:
        stop.set()
        process.terminate()
        err = process.communicate(timeout=20)[1]
    print(err.strip().splitlines()[0] if err else "")
    print("| GPU, phase | vatio W (median) | nvidia-smi W (median) | difference (median) | n |")
    print("|---|---|---|---|---|")
    for key, pairs in rows.items():
        ours, theirs = zip(*pairs, strict=True)
        diff = statistics.median(a - b for a, b in pairs)
        print(
            f"| {key} | {statistics.median(ours):.1f} | {statistics.median(theirs):.1f} | "
            f"{diff:+.1f} | {len(pairs)} |"
        )


if __name__ == "__main__":
    main()
