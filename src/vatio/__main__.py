"""`python -m vatio` is the `vatio` command."""

from vatio.cli.entry import cli

cli()
