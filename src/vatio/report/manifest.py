"""The part of a run's manifest a reader needs: hardware, software, lockfile, git."""

from __future__ import annotations

from typing import Any

#: packages worth naming in a summary when present (the full list stays available)
KEY_PACKAGES = (
    "torch", "tensorflow", "jax", "onnxruntime", "onnxruntime-gpu", "openvino", "tensorrt",
    "transformers", "accelerate", "deepspeed", "scikit-learn", "numpy", "pandas", "flwr",
    "nvidia-ml-py", "vatio",
)  # fmt: skip


def summarise_manifest(manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    """Hardware, software and provenance of a run; None when no manifest was recorded."""
    if not manifest:
        return None
    packages = [p for p in manifest.get("packages") or [] if isinstance(p, dict)]
    by_name = {str(p.get("name")): str(p.get("version")) for p in packages}
    return {
        "hardware": {
            "cpu": manifest.get("cpu"),
            "memory_gb": manifest.get("memory_gb"),
            "gpus": manifest.get("gpus") or [],
            "hostname": manifest.get("hostname"),
        },
        "software": {
            "python": manifest.get("python"),
            "os": manifest.get("os"),
            "key_packages": [
                {"name": name, "version": by_name[name]} for name in KEY_PACKAGES if name in by_name
            ],
            "packages": [
                {"name": str(p.get("name")), "version": str(p.get("version"))} for p in packages
            ],
        },
        "lockfile": manifest.get("lockfile"),
        "git": manifest.get("git"),
        "environment": manifest.get("environment"),
        "env_vars": manifest.get("env_vars") or {},
        "command": manifest.get("command"),
        "collected_at": manifest.get("collected_at"),
        "collection_errors": manifest.get("collection_errors") or [],
    }


def hardware_line(summary: dict[str, Any] | None) -> str:
    """'Intel Xeon (2 logical cores), 23.5 GB memory, no GPU' for tables and Annex XI."""
    if not summary:
        return "not recorded (no manifest)"
    hardware = summary["hardware"]
    cpu = hardware.get("cpu") or {}
    parts = [
        f"{cpu.get('model') or 'unknown CPU'} ({cpu.get('logical_cores') or '?'} logical cores)"
    ]
    if hardware.get("memory_gb"):
        parts.append(f"{hardware['memory_gb']:.1f} GB memory")
    gpus = hardware.get("gpus") or []
    if gpus:
        names: dict[str, int] = {}
        for gpu in gpus:
            name = str(gpu.get("name") or gpu.get("model") or "GPU")
            names[name] = names.get(name, 0) + 1
        parts.append(", ".join(f"{n} × {name}" for name, n in names.items()))
    else:
        parts.append("no GPU")
    return ", ".join(parts)
