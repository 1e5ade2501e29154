"""Which GPUs CUDA would use here (CUDA_VISIBLE_DEVICES), and small NVML helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vatio.devices.common import SensorStatus

NO_GPU_HINT = "No NVIDIA GPU or driver here; GPU energy is not measured."


def nvml_text(value: Any) -> str:
    """pynvml returns str in new versions and bytes in old ones."""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def nvml_optional(fn: Any, *args: Any) -> Any:
    """Call an NVML query that some drivers or boards lack; None when it fails."""
    try:
        return fn(*args)
    except Exception:  # any NVML or ctypes failure means "unknown" here
        return None


def gpu_status(detail: str, hint: str | None = None, name: str = "nvidia") -> SensorStatus:
    return SensorStatus(name, False, None, f"NVIDIA: {detail}", hint)


def visible_gpus(nvml: Any, env: Mapping[str, str]) -> tuple[list[int], list[SensorStatus]]:
    """NVML indices of the GPUs CUDA would use here, following CUDA_VISIBLE_DEVICES rules."""
    count = nvml.nvmlDeviceGetCount()
    raw = env.get("CUDA_VISIBLE_DEVICES")
    if raw is None:
        return list(range(count)), []
    if not raw.strip():
        return [], [gpu_status("CUDA_VISIBLE_DEVICES is empty: no GPU is visible to this process")]
    uuids = [_uuid_of(nvml, i) for i in range(count)]
    chosen: list[int] = []
    notes: list[SensorStatus] = []
    for entry in (e.strip() for e in raw.split(",")):
        index: int | None = None
        if entry.upper().startswith("MIG-"):
            index = _mig_parent(nvml, entry, uuids)
            what = f"MIG device {entry}"
            if index is None:
                notes.append(gpu_status(f"{what} not found in NVML; skipped"))
                continue
            notes.append(gpu_status(f"{what} is on GPU {index}; its energy is the whole GPU's"))
        elif entry.isdigit():
            index = int(entry) if int(entry) < count else None
        elif entry.upper().startswith("GPU-"):
            index = _prefix_match(entry, uuids)
        if index is None:  # CUDA stops at the first invalid entry
            bad = f"CUDA_VISIBLE_DEVICES entry {entry!r} matches no GPU; it and later ones ignored"
            notes.append(gpu_status(bad))
            break
        if index not in chosen:
            chosen.append(index)
    by_index = any(e.strip().isdigit() for e in raw.split(","))
    if by_index and count > 1 and env.get("CUDA_DEVICE_ORDER") != "PCI_BUS_ID":
        order = "export CUDA_DEVICE_ORDER=PCI_BUS_ID so CUDA uses that order too"
        notes.append(gpu_status("CUDA_VISIBLE_DEVICES indices read in NVML (PCI bus) order", order))
    return chosen, notes


def _uuid_of(nvml: Any, index: int) -> str:
    handle = nvml_optional(nvml.nvmlDeviceGetHandleByIndex, index)
    return (
        nvml_text(nvml_optional(nvml.nvmlDeviceGetUUID, handle) or "") if handle is not None else ""
    )


def _prefix_match(prefix: str, uuids: list[str]) -> int | None:
    """CUDA accepts any unambiguous prefix of a GPU UUID."""
    hits = [i for i, u in enumerate(uuids) if u and u.lower().startswith(prefix.lower())]
    return hits[0] if len(hits) == 1 else None


def _mig_parent(nvml: Any, entry: str, uuids: list[str]) -> int | None:
    """Index of the GPU holding a MIG instance (MIG-<uuid>, or the old MIG-GPU-<uuid>/gi/ci)."""
    if entry.upper().startswith("MIG-GPU-"):
        return _prefix_match(entry[4:].split("/")[0], uuids)
    try:
        parent = nvml.nvmlDeviceGetDeviceHandleFromMigDeviceHandle(
            nvml.nvmlDeviceGetHandleByUUID(entry)
        )
        return uuids.index(nvml_text(nvml.nvmlDeviceGetUUID(parent)))
    except Exception:  # unknown UUID, no MIG support, old pynvml
        return None
