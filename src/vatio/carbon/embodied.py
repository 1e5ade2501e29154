"""Embodied (manufacturing) carbon of a machine: the coefficients the report and rightsize share.

Cloud Carbon Footprint methodology (after Teads and Boavizta): 1000 kgCO2e for a
minimal server (one CPU, 16 GB), plus 1.39 kgCO2e per GB of memory above 16 GB
(533 kg per 384 GB) and 150 kgCO2e per GPU, over 4 years of life. The data are
coarse, so estimates carry a range of ×0.5 to ×2.
"""

from __future__ import annotations

BASE_MACHINE_KG = 1000.0
BASE_MEMORY_GB = 16.0
MEMORY_KG_PER_GB = 533.0 / 384.0
GPU_KG = 150.0
LIFETIME_YEARS = 4.0
RANGE_LOW, RANGE_HIGH = 0.5, 2.0
YEAR_S = 365.25 * 86400.0
SOURCE = "Cloud Carbon Footprint embodied-emissions coefficients (after Teads, Boavizta)"


def machine_kg(memory_gb: float | None, gpus: int, gpu_kg: float = GPU_KG) -> tuple[float, str]:
    """Total embodied kgCO2e of a machine and how it was worked out."""
    memory = float(memory_gb or BASE_MEMORY_GB)
    extra = max(memory - BASE_MEMORY_GB, 0.0)
    total = BASE_MACHINE_KG + extra * MEMORY_KG_PER_GB + gpus * gpu_kg
    how = f"{BASE_MACHINE_KG:g} kg machine + {extra:.0f} GB × {MEMORY_KG_PER_GB:.2f} kg/GB"
    if gpus:
        how += f" + {gpus} GPU × {gpu_kg:g} kg"
    return total, f"{how} ({SOURCE})"
