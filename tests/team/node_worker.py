"""One rank of a simulated multi-node job (run by tests/team/test_multinode.py).

`api ROOT RANK`: measures itself with `vatio.track()` and fake devices (a CPU package
at 50 W and a GPU at 200 W), like a training script launched by torchrun;
`job ROOT RANK`: the workload only, for `vatio run -- python -m ... job`.
Every rank waits for all the others before working and before finishing, as the
collectives of a real job do, so that the parts overlap in time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

WORLD = 4


def barrier(root: Path, name: str, rank: int, timeout_s: float = 60.0) -> None:
    (root / f"{name}-{rank}").touch()
    deadline = time.monotonic() + timeout_s
    while len(list(root.glob(f"{name}-*"))) < WORLD:
        if time.monotonic() > deadline:
            raise SystemExit(f"rank {rank}: barrier {name} timed out")
        time.sleep(0.01)


def burn(cpu_s: float) -> None:
    began = time.process_time()
    while time.process_time() - began < cpu_s:
        sum(i * i for i in range(1000))


def work(root: Path, rank: int) -> None:
    barrier(root, "ready", rank)
    burn(0.6)
    barrier(root, "done", rank)


def main() -> None:
    mode, root, rank = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    if mode == "job":
        work(root, rank)
        return
    import vatio
    from tests.measure.fakes import ConstantPowerSensor

    sensors = [
        ConstantPowerSensor("cpu:package-0", watts=50.0),
        ConstantPowerSensor("gpu:0", watts=200.0, device="gpu", method="measured:nvml-counter"),
    ]
    with vatio.track("train", sensors=sensors, interval="200ms") as tracker:
        work(root, rank)
        tracker.add_work(samples=100)


if __name__ == "__main__":
    main()
