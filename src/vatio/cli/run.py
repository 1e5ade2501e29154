"""`vatio run` in the typer app: hands its arguments to the lean parser in `fastrun`.

`vatio run ...` typed in a shell never reaches here (the entry point goes to
`fastrun` directly, see `vatio.cli.lean`); this keeps `run` a command of the app
for programs that drive the app object.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from vatio.cli.fastrun import main_run
    from vatio.cli.lean import register_passthrough

    register_passthrough(
        app,
        "run",
        main_run,
        "Run a command under the energy tracker and record it: vatio run [OPTIONS] -- CMD ...",
    )
