"""Choose the sensors for this machine: counters where they exist, estimates elsewhere.

Kept apart from common.py so that the contract does not import its vendors.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vatio.devices.common import Discovery, SensorStatus
from vatio.devices.estimate import CpuTdpEstimator, MemoryEstimator, build_cpu_model

DEFAULT_POWERCAP_ROOT = "/sys/class/powercap"


def discover(
    *,
    powercap_root: str | Path = DEFAULT_POWERCAP_ROOT,
    nvml: Any = None,
    env: Mapping[str, str] | None = None,
    cpu_tdp_w: float | None = None,
    memory_w_per_gb: float | None = None,
    use_nvml: bool = True,
) -> Discovery:
    """Every usable sensor, and a status line for each source tried (for `vatio hardware`)."""
    from vatio.devices.nvidia import discover_nvidia
    from vatio.devices.rapl import discover_rapl

    found = Discovery()
    rapl = discover_rapl(powercap_root)
    found.statuses += rapl.statuses
    found.sensors += _whole_families(rapl, found.statuses)
    devices = {s.device for s in found.sensors}

    if "cpu" not in devices:
        model = build_cpu_model(tdp_override_w=cpu_tdp_w)
        cpu = CpuTdpEstimator(model)
        found.sensors.append(cpu)
        found.statuses.append(
            SensorStatus("CPU estimate", True, cpu.method, "; ".join(model.assumptions), None)
        )
    if "dram" not in devices:
        kwargs = {} if memory_w_per_gb is None else {"w_per_gb": memory_w_per_gb}
        memory = MemoryEstimator(**kwargs)
        found.sensors.append(memory)
        found.statuses.append(
            SensorStatus("Memory estimate", True, memory.method, memory.assumptions[0], None)
        )
    if use_nvml:
        gpus = discover_nvidia(nvml=nvml, env=os.environ if env is None else env)
        found.sensors += gpus.sensors
        found.statuses += gpus.statuses
    return found


def _whole_families(rapl: Discovery, statuses: list[SensorStatus]) -> list:
    """RAPL sensors of families where every domain is readable.

    One readable socket and one denied would otherwise leave the denied one
    neither measured nor estimated; the whole family falls back to estimation.
    """
    kept = []
    for family in ("cpu", "dram"):
        members = [s for s in rapl.sensors if s.device == family]
        broken = [
            st for st in rapl.statuses if not st.available and st.name.startswith(f"{family}:")
        ]
        if members and broken:
            statuses.append(
                SensorStatus(
                    f"{family} (RAPL)",
                    False,
                    None,
                    f"RAPL {family} domains only partly readable "
                    f"({', '.join(st.name for st in broken)}); estimating all of them instead",
                    broken[0].hint,
                )
            )
            continue
        kept += members
    return kept
