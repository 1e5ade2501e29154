"""`vatio env compat`: do the tensor libraries, the driver and this Python fit together?"""

from __future__ import annotations

import importlib.util
import sys
from importlib import metadata

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from vatio.provenance.envcheck import FAIL, PASS, WARN, Finding


def python_support() -> Finding:
    """Installed distributions whose Requires-Python excludes this interpreter."""
    here = Version(".".join(map(str, sys.version_info[:3])))
    broken = []
    for dist in metadata.distributions():
        spec = dist.metadata.get("Requires-Python")
        if not spec:
            continue
        try:
            if here not in SpecifierSet(spec):
                broken.append(f"{dist.metadata['Name']} (Requires-Python {spec})")
        except InvalidSpecifier:
            continue
    if broken:
        return Finding(
            "Python version support",
            FAIL,
            f"Python {here} is outside: " + ", ".join(sorted(broken)),
            "Use a Python version these packages support, or versions of them that support it.",
        )
    return Finding("Python version support", PASS, f"every package supports Python {here}")


def _version_tuple(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(part) for part in text.split(".")[:2])
    except ValueError:
        return None


def torch_vs_driver(gpus: list[dict]) -> Finding:
    if importlib.util.find_spec("torch") is None:
        return Finding("torch build vs driver", "N/A", "torch is not installed")
    import torch

    built = torch.version.cuda
    if not gpus:
        build = f"CUDA {built}" if built else "CPU-only"
        return Finding(
            "torch build vs driver", PASS, f"torch {torch.__version__} ({build}); no GPU"
        )
    driver_cuda = gpus[0].get("cuda")
    if built is None:
        return Finding(
            "torch build vs driver",
            WARN,
            f"torch {torch.__version__} is a CPU-only build but {len(gpus)} NVIDIA GPU(s) are here",
            "Install a CUDA build of torch matching the driver.",
        )
    need, have = _version_tuple(built), _version_tuple(driver_cuda)
    if need and have and need > have:
        return Finding(
            "torch build vs driver",
            FAIL,
            f"torch built for CUDA {built}; the driver {gpus[0].get('driver')} supports up to "
            f"CUDA {driver_cuda}",
            "Upgrade the NVIDIA driver, or install a torch build for an older CUDA.",
        )
    return Finding(
        "torch build vs driver",
        PASS,
        f"torch CUDA {built} <= driver's CUDA {driver_cuda} ({gpus[0].get('driver')})",
    )


def onnxruntime_providers(gpus: list[dict]) -> Finding:
    if importlib.util.find_spec("onnxruntime") is None:
        return Finding("onnxruntime providers", "N/A", "onnxruntime is not installed")
    import onnxruntime

    providers = onnxruntime.get_available_providers()
    if gpus and "CUDAExecutionProvider" not in providers:
        return Finding(
            "onnxruntime providers",
            WARN,
            f"GPU present but only {', '.join(providers)}",
            "Install onnxruntime-gpu to run ONNX models on the GPU.",
        )
    return Finding(
        "onnxruntime providers",
        PASS,
        f"onnxruntime {onnxruntime.__version__}: {', '.join(providers)}",
    )


def check_compat(gpus: list[dict] | None = None) -> list[Finding]:
    if gpus is None:
        from vatio.devices.nvidia import gpu_inventory

        gpus = gpu_inventory()
    return [
        python_support(),
        torch_vs_driver(gpus),
        onnxruntime_providers(gpus),
        nvidia_driver(),
    ]


DRIVER_FIX = (
    "Install a current NVIDIA data-centre driver (nvidia-smi shows the version), and keep "
    "the board firmware current."
)


def nvidia_driver(gpus: list[dict] | None = None) -> Finding:
    """Is the driver new enough for the energy counter and for power-limit control?

    NVML API Reference: nvmlDeviceGetTotalEnergyConsumption is "For Volta or newer fully
    supported devices"; nvmlDeviceSetPowerManagementLimit "For Kepler or newer fully
    supported devices", within nvmlDeviceGetPowerManagementLimitConstraints. A driver whose
    NVML lacks a function (NVML_ERROR_FUNCTION_NOT_FOUND) is too old for it.
    """
    from vatio.devices.nvidia import ENERGY_COUNTER_MIN_CC, capabilities

    name = "NVIDIA driver for energy and power control"
    rows = capabilities() if gpus is None else gpus
    if not rows:
        return Finding(name, "N/A", "no NVIDIA GPU or driver here")
    problems, fails = [], False
    for row in rows:
        gpu = f"GPU {row['index']} {row['name']} (driver {row.get('driver') or '?'})"
        cc = row.get("compute_capability")
        volta = cc is not None and tuple(cc) >= ENERGY_COUNTER_MIN_CC
        counter, limit = row.get("energy_counter"), row.get("power_limit")
        if counter == "missing-in-driver" or limit == "missing-in-driver":
            fails = True
            what = " and ".join(
                w
                for w, s in (("energy counter", counter), ("power-limit control", limit))
                if s == "missing-in-driver"
            )
            problems.append(f"{gpu}: this driver's NVML has no {what}: the driver is too old")
        elif counter != "ok" and volta:
            fails = True
            problems.append(
                f"{gpu}: a Volta-or-newer GPU whose driver does not expose the energy counter "
                f"({counter}); energy falls back to sampled power"
            )
        elif counter != "ok":
            arch = f"compute capability {cc[0]}.{cc[1]}" if cc else "an unknown architecture"
            problems.append(
                f"{gpu}: {arch} predates the energy counter (NVML: Volta or newer); vatio "
                "integrates sampled power instead (measured:nvml-power)"
            )
        if limit not in ("ok", "missing-in-driver", None):
            problems.append(f"{gpu}: power-limit control {limit} on this board")
    if not problems:
        return Finding(
            name, PASS, f"{len(rows)} GPU(s): energy counter and power-limit range available"
        )
    return Finding(name, FAIL if fails else WARN, "; ".join(problems), DRIVER_FIX)
