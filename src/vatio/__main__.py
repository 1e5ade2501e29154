"""`python -m vatio` is the `vatio` command."""

from vatio.cli.app import main

main()
