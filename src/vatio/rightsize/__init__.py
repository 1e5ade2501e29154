"""Right-sized hardware: under-use found in recorded runs, and cloud versus on-premise."""
