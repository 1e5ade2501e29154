"""Carbon-aware scheduling: when (and where) to run a job so the grid is cleanest."""

from vatio.schedule.windows import SlotPlan, Window, best_window, cheapest_slots, min_chunk_for

__all__ = ["SlotPlan", "Window", "best_window", "cheapest_slots", "min_chunk_for"]
