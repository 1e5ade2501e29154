"""The fake NVML as an importable module whose state lives in a JSON file.

Separate processes (a sweep, a killed vatio, a later `vatio power restore`)
then see one GPU whose settings really change: point VATIO_NVML_MODULE at
"tests.fakes.nvml_file" and VATIO_FAKE_NVML_STATE at the file (`save_state`
writes the first one). Every NVML call loads the file, runs on a FakeNVML and
writes the file back.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from tests.fakes import nvml as _fake
from tests.fakes.nvml import FakeGPU, FakeNVML

ENV_STATE = "VATIO_FAKE_NVML_STATE"
_PASS_THROUGH = {"nvmlInit", "nvmlShutdown"}


def save_state(path: str | os.PathLike, gpus: list[FakeGPU], privileged: bool = True) -> None:
    data = {"privileged": privileged, "gpus": [dataclasses.asdict(g) for g in gpus]}
    for gpu in data["gpus"]:
        gpu.pop("fail_error", None)
    temporary = f"{path}.{os.getpid()}.tmp"  # readers in other processes never see half a file
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(temporary, path)


def load_state(path: str | os.PathLike) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _gpus(data: dict[str, Any]) -> list[FakeGPU]:
    gpus = []
    for raw in data["gpus"]:
        fields = dict(raw)
        fields["compute_capability"] = tuple(fields["compute_capability"])
        fields["util_samples"] = [tuple(s) for s in fields["util_samples"] or []]
        gpus.append(FakeGPU(**fields))
    return gpus


class _Handle(int):
    """A GPU index standing for the board across reloads of the state file."""


class _FileNVML(FakeNVML):
    def _gpu(self, handle: Any) -> FakeGPU:
        self._ready()
        if isinstance(handle, _Handle) and 0 <= handle < len(self.gpus):
            return self.gpus[handle]
        return super()._gpu(handle)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any:
        super().nvmlDeviceGetHandleByIndex(index)
        return _Handle(index)


_instance = _FileNVML([])


def _call(name: str, *args: Any, **kwargs: Any) -> Any:
    path = os.environ[ENV_STATE]
    if name not in _PASS_THROUGH:
        data = load_state(path)
        _instance.gpus = _gpus(data)
        _instance.privileged = data["privileged"]
    result = getattr(_instance, name)(*args, **kwargs)
    if name not in _PASS_THROUGH:
        save_state(path, _instance.gpus, _instance.privileged)
    return result


def __getattr__(name: str) -> Any:
    if name.startswith("NVMLError"):
        return getattr(_fake, name)
    if name.startswith("nvml") and hasattr(_instance, name):
        return lambda *args, **kwargs: _call(name, *args, **kwargs)
    raise AttributeError(name)
