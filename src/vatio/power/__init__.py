"""Power modes: GPU power limit and clocks, CPU frequency, threads and cores; sweep and restore.

Only the step marker is imported here: `vatio.power.step()` runs inside training
loops and must cost nothing. Everything else loads from its own module.
"""

from vatio.power.marker import pause, step

__all__ = ["pause", "step"]
