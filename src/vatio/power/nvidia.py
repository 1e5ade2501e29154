"""NVIDIA GPU knobs through NVML (nvidia-ml-py): power limit and locked clocks.

The NVML module is a parameter, as in vatio.devices.nvidia, so tests pass a
fake with real state; `VATIO_NVML_MODULE` names another module to import
instead of `pynvml` (a fake for subprocess tests, or other bindings), and is
recorded in the restore file so `vatio power restore` talks to the same one.

NVML's own rules (NVML API Reference, "Device Commands"): every setter needs
root/admin and otherwise fails with NVML_ERROR_NO_PERMISSION;
nvmlDeviceSetPowerManagementLimit is for Kepler or newer boards, within
nvmlDeviceGetPowerManagementLimitConstraints; nvmlDeviceSetGpuLockedClocks for
Volta or newer and nvmlDeviceSetMemoryLockedClocks for Ampere or newer. NVML
cannot report a locked clock range, so restoring clocks resets them (their
state before vatio is assumed unlocked, and said so).
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Mapping
from typing import Any

from vatio.devices.nvidia import NVML_MODULE_ENV
from vatio.devices.visibility import nvml_optional, nvml_text, visible_gpus
from vatio.power.common import Knob, KnobUnavailable

ENV_NVML_MODULE = NVML_MODULE_ENV
DEFAULT_MODULE = "pynvml"
CLOCK_GRAPHICS, CLOCK_MEM = 0, 2  # NVML_CLOCK_GRAPHICS, NVML_CLOCK_MEM

ROOT_FIX = (
    "NVML changes need root: run `sudo nvidia-smi -i {i} -pl WATTS` yourself, or allow only that "
    "command in sudoers (docs/power.md), or run vatio power as root in a container with "
    "--cap-add SYS_ADMIN; never train as root."
)


def module_name() -> str:
    return os.environ.get(ENV_NVML_MODULE) or DEFAULT_MODULE


def load_nvml(nvml: Any = None) -> tuple[Any, str]:
    """(module, "") or (None, why not)."""
    if nvml is not None:
        return nvml, ""
    name = module_name()
    try:
        return importlib.import_module(name), ""
    except ImportError as error:
        return None, f"{name} is not importable ({error})"


class NvmlSession:
    """One nvmlInit for the knobs of a discovery; closed once by its owner."""

    def __init__(self, nvml: Any) -> None:
        self.nvml = nvml
        nvml.nvmlInit()
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                self.nvml.nvmlShutdown()


def _error_kind(nvml: Any, error: Exception) -> str:
    for kind in ("NoPermission", "NotSupported", "InvalidArgument", "FunctionNotFound"):
        cls = getattr(nvml, f"NVMLError_{kind}", None)
        if cls is not None and isinstance(error, cls):
            return kind
    return "other"


class GpuKnob(Knob):
    """Common NVML plumbing: handle, index, and NVML errors turned into reasons with fixes."""

    def __init__(self, session: NvmlSession, index: int, module: str | None = None) -> None:
        self.session, self.nvml, self.index = session, session.nvml, index
        self.handle = self.nvml.nvmlDeviceGetHandleByIndex(index)
        self.target = f"gpu:{index}"
        self._module = module or module_name()

    def backend(self) -> dict[str, Any]:
        return {"nvml_module": self._module, "index": self.index}

    def _fail(self, what: str, error: Exception) -> KnobUnavailable:
        kind = _error_kind(self.nvml, error)
        if kind == "NoPermission":
            return KnobUnavailable(
                f"GPU {self.index}: {what} needs root (NVML: {error}).",
                ROOT_FIX.format(i=self.index),
            )
        if kind in ("NotSupported", "FunctionNotFound"):
            return KnobUnavailable(
                f"GPU {self.index}: {what} is not supported by this board or driver "
                f"(NVML: {error}).",
                "Update the NVIDIA driver; some boards (and most virtual GPUs) never allow it.",
            )
        return KnobUnavailable(f"GPU {self.index}: {what} failed (NVML: {error}).")

    def _call(self, what: str, fn_name: str, *args: Any) -> Any:
        fn = getattr(self.nvml, fn_name, None)
        if fn is None:
            raise KnobUnavailable(
                f"GPU {self.index}: this nvidia-ml-py has no {fn_name}.",
                "pip install -U nvidia-ml-py",
            )
        try:
            return fn(self.handle, *args)
        except self.nvml.NVMLError as error:
            raise self._fail(what, error) from None


class PowerLimitKnob(GpuKnob):
    """The board power limit in watts (nvidia-smi -pl)."""

    key = "gpu_power_limit_w"
    unit = "W"

    def __init__(self, session: NvmlSession, index: int, module: str | None = None) -> None:
        super().__init__(session, index, module)
        self.label = f"GPU {index} power limit"

    def read(self) -> float:
        return self._call("reading the power limit", "nvmlDeviceGetPowerManagementLimit") / 1000

    def write(self, value: Any) -> None:
        self._call(
            "setting the power limit",
            "nvmlDeviceSetPowerManagementLimit",
            round(float(value) * 1000),
        )

    def allowed(self) -> dict[str, Any]:
        low, high = self._call(
            "reading the power-limit range", "nvmlDeviceGetPowerManagementLimitConstraints"
        )
        default = nvml_optional(self.nvml.nvmlDeviceGetPowerManagementDefaultLimit, self.handle)
        found = {"min": low / 1000, "max": high / 1000}
        if default:
            found["default"] = default / 1000
        return found

    def writable(self) -> tuple[bool, str | None, str | None]:
        """Setting the limit to its current value shows the permission and changes nothing."""
        try:
            self.write(self.read())
        except KnobUnavailable as error:
            return False, error.message, error.hint
        return True, None, None

    def notes(self) -> list[str]:
        notes = []
        mode = nvml_optional(getattr(self.nvml, "nvmlDeviceGetPersistenceMode", None), self.handle)
        if mode == 0:
            notes.append(
                f"persistence mode is off: an idle driver may unload and forget the limit; "
                f"`sudo nvidia-smi -i {self.index} -pm 1` keeps it"
            )
        elif mode == 1:
            notes.append("persistence mode is on")
        return notes


class _LockedClockKnob(GpuKnob):
    """A locked clock range [lowest supported, value] in MHz; None means unlocked."""

    kind = "graphics"
    setter = "nvmlDeviceSetGpuLockedClocks"
    resetter = "nvmlDeviceResetGpuLockedClocks"
    clock_type = CLOCK_GRAPHICS
    generation = "Volta"

    def __init__(self, session: NvmlSession, index: int, module: str | None = None) -> None:
        super().__init__(session, index, module)
        self.locked: int | None = None  # NVML cannot report a locked range; we know our own

    def read(self) -> int | None:
        return self.locked

    def _supported(self) -> list[int]:
        memory = self._call("listing memory clocks", "nvmlDeviceGetSupportedMemoryClocks")
        if self.kind == "memory":
            return sorted(int(c) for c in memory)
        top = max(memory) if memory else 0
        found = self._call("listing graphics clocks", "nvmlDeviceGetSupportedGraphicsClocks", top)
        return sorted(int(c) for c in found)

    def allowed(self) -> dict[str, Any]:
        clocks = self._supported()
        return {"min": clocks[0], "max": clocks[-1]} if clocks else {}

    def write(self, value: Any) -> None:
        if value is None:
            self._call(f"resetting the locked {self.kind} clocks", self.resetter)
            self.locked = None
            return
        clocks = self._supported()
        low = clocks[0] if clocks else int(value)
        self._call(f"locking the {self.kind} clocks", self.setter, low, int(value))
        self.locked = int(value)

    def writable(self) -> tuple[bool, str | None, str | None]:
        """Not probed itself (a reset would undo an administrator's lock): NVML asks the same
        permission of every setter, so the power limit's probe answers for it."""
        probe = PowerLimitKnob(self.session, self.index, self._module)
        try:
            probe.write(probe.read())
        except KnobUnavailable as error:
            if "needs root" in error.message:
                return (
                    False,
                    error.message.replace("setting the power limit", "locking clocks"),
                    error.hint,
                )
        return True, None, None

    def snapshot(self) -> dict[str, Any]:
        return {"value": None, "assumed": "unlocked before vatio (NVML cannot report a lock)"}

    def notes(self) -> list[str]:
        current = nvml_optional(self.nvml.nvmlDeviceGetClockInfo, self.handle, self.clock_type)
        text = f"{self.generation} or newer; NVML cannot report a lock set by someone else"
        return [f"{text}; current {self.kind} clock {current} MHz" if current else text]


class GraphicsClockKnob(_LockedClockKnob):
    key = "gpu_max_clock_mhz"
    unit = "MHz"

    def __init__(self, session: NvmlSession, index: int, module: str | None = None) -> None:
        super().__init__(session, index, module)
        self.label = f"GPU {index} max graphics clock"


class MemoryClockKnob(_LockedClockKnob):
    key = "gpu_memory_clock_mhz"
    unit = "MHz"
    kind = "memory"
    setter = "nvmlDeviceSetMemoryLockedClocks"
    resetter = "nvmlDeviceResetMemoryLockedClocks"
    clock_type = CLOCK_MEM
    generation = "Ampere"

    def __init__(self, session: NvmlSession, index: int, module: str | None = None) -> None:
        super().__init__(session, index, module)
        self.label = f"GPU {index} max memory clock"


KNOB_CLASSES = {k.key: k for k in (PowerLimitKnob, GraphicsClockKnob, MemoryClockKnob)}


def discover_gpu_knobs(
    nvml: Any = None, env: Mapping[str, str] | None = None
) -> tuple[list[Knob], list[str], NvmlSession | None]:
    """Knobs of every visible GPU, notes on what is missing, and the session to close."""
    module, reason = load_nvml(nvml)
    if module is None:
        return [], [f"no NVIDIA GPU knobs: {reason}"], None
    try:
        session = NvmlSession(module)
    except Exception as error:  # no driver, no library
        return [], [f"no NVIDIA GPU knobs: NVML not available ({error})"], None
    name = None if nvml is not None else module_name()
    try:
        indices, statuses = visible_gpus(module, os.environ if env is None else env)
        knobs: list[Knob] = []
        for index in indices:
            knobs += [cls(session, index, name) for cls in KNOB_CLASSES.values()]
    except Exception as error:
        session.close()
        return [], [f"NVML failed while listing GPUs ({error})"], None
    return knobs, [s.detail for s in statuses], session


def gpu_knob(key: str, backend: Mapping[str, Any], nvml: Any = None) -> tuple[Knob, NvmlSession]:
    """The knob a restore file names, in a new process."""
    module = nvml
    if module is None:
        name = backend.get("nvml_module") or DEFAULT_MODULE
        module = importlib.import_module(name)
    session = NvmlSession(module)
    try:
        return KNOB_CLASSES[key](
            session, int(backend["index"]), backend.get("nvml_module")
        ), session
    except Exception:
        session.close()
        raise


def gpu_model(knob: GpuKnob) -> str:
    return nvml_text(nvml_optional(knob.nvml.nvmlDeviceGetName, knob.handle) or "unknown")
