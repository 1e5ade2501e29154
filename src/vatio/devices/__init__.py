"""Hardware sensors: readers of energy counters and power estimators."""
