"""Energy regression gate: compare repeated measurements without crying wolf."""
