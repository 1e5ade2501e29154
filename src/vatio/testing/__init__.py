"""Support for measuring test suites (the pytest plugin's working parts)."""
