"""Command-line interface (typer); each command group lives in its own module."""
