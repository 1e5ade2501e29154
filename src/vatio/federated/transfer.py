"""Bytes a federated run moves versus bytes a centralised one moves, and their energy.

Federated: every round, each participating client downloads the global model
and uploads its update: rounds × clients × 2 × model size × compression.
Centralised: every client's raw data travels to the centre once.
Energy of a transfer = bytes × the link's joules per byte (low, central, high).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vatio.federated.links import LinkFigure


@dataclass(frozen=True)
class Range:
    low: float
    central: float
    high: float

    def __add__(self, other: Range) -> Range:
        return Range(self.low + other.low, self.central + other.central, self.high + other.high)

    def scale(self, factor: float) -> Range:
        return Range(self.low * factor, self.central * factor, self.high * factor)

    def to_dict(self) -> dict[str, float]:
        return {"low": self.low, "central": self.central, "high": self.high}


def participants(clients: int, fraction: float) -> int:
    """Clients taking part in each round (at least one)."""
    return max(1, math.ceil(clients * fraction))


def fl_bytes(
    rounds: int, clients: int, model_bytes: float, compression: float = 1.0, fraction: float = 1.0
) -> float:
    """Download of the global model plus upload of the update, per participant and round."""
    return rounds * participants(clients, fraction) * 2 * model_bytes * compression


def central_bytes(clients: int, data_per_client: float) -> float:
    """Each client's raw data sent once to the centre."""
    return clients * data_per_client


def transfer_energy(n_bytes: float, figure: LinkFigure) -> Range:
    low, central, high = figure.j_per_byte()
    return Range(n_bytes * low, n_bytes * central, n_bytes * high)


def compute_energy(samples: float, j_per_sample: float, spread: float = 0.0) -> Range:
    """Compute energy from joules per sample; `spread` (0.3 = ±30 %) when it is an estimate."""
    central = samples * j_per_sample
    return Range(central * (1 - spread), central, central * (1 + spread))
