"""The instant a job starts, read before anything else is imported: spawn first, measure from
there.

`vatio run` takes this snapshot, spawns the job at once, and only then imports and
starts the tracker, which counts from the snapshot: machine CPU time (for the TDP
estimate and the job's share), RAPL counters, and the clocks. Standard library only;
a sensor this cannot read ahead (NVML) starts when the tracker does, and the record
says how long that was.
"""

from __future__ import annotations

import glob
import os
import time
from typing import NamedTuple


class Origin(NamedTuple):  # not a dataclass: dataclasses costs ~10 ms before the job starts
    wall: float
    monotonic: float
    #: machine CPU seconds busy and in total (/proc/stat), as psutil counts them
    cpu_busy_s: float | None
    cpu_total_s: float | None
    #: raw RAPL counters (µJ) by the path of their energy_uj file
    rapl_uj: dict[str, int]


def take_origin(powercap_root: str = "/sys/class/powercap") -> Origin:
    mono, wall = time.monotonic(), time.time()
    busy, total = _proc_stat()
    rapl = {}
    for path in glob.glob(os.path.join(powercap_root, "*", "energy_uj")) + glob.glob(
        os.path.join(powercap_root, "*", "*", "energy_uj")
    ):
        try:
            with open(path, "rb") as handle:
                rapl[os.path.realpath(path)] = int(handle.read().strip())
        except (OSError, ValueError):
            continue
    return Origin(wall, mono, busy, total, rapl)


def _proc_stat() -> tuple[float | None, float | None]:
    """Busy and total CPU seconds of the machine, summed exactly as vatio sums
    psutil.cpu_times() (every field of /proc/stat's first line, busy = total - idle - iowait),
    so that later readings subtract from it consistently."""
    try:
        with open("/proc/stat", "rb") as handle:
            fields = handle.readline().split()[1:]
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None, None
    values = [int(v) / ticks for v in fields]
    if len(values) < 5:
        return None, None
    total = sum(values)
    return total - values[3] - values[4], total
