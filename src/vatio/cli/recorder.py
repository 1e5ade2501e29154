"""`vatio recorder status|start|stop`: the resident recorder behind `vatio run`."""

from __future__ import annotations

import time

import typer

recorder_app = typer.Typer(
    help="The resident recorder that keeps `vatio run` fast: status, start, stop.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="Print JSON.")


def register(app: typer.Typer) -> None:
    app.add_typer(recorder_app, name="recorder")


def _show(data: dict, json_output: bool) -> None:
    if json_output:
        from vatio.cli.output import print_json

        print_json(data)
    elif data.get("running"):
        from vatio.cli.output import fmt_duration

        typer.echo(
            f"recorder pid {data['pid']} at {data['socket']}: up {fmt_duration(data['up_s'])}, "
            f"{data['served']} run(s) served, leaves after {fmt_duration(data['idle_s'])} idle"
        )
    else:
        typer.echo(f"no resident recorder is running ({data['reason']})")


def _status() -> dict:
    from vatio.cli import resident

    if not resident.enabled():
        return {"running": False, "reason": "VATIO_RESIDENT turns it off"}
    if resident.socket_path() is None:
        return {"running": False, "reason": "no private folder for its socket"}
    answer = resident.ask("status")
    if answer is None:
        return {"running": False, "reason": "the next `vatio run` starts one"}
    return {"running": True, **answer, "up_s": round(time.time() - answer["started"], 3)}


@recorder_app.command("status")
def status(json_output: bool = JSON) -> None:
    """Whether a recorder serves `vatio run` here, since when, and how many runs."""
    _show(_status(), json_output)


@recorder_app.command("start")
def start(json_output: bool = JSON) -> None:
    """Start the recorder now (the first `vatio run` otherwise does) and wait until it answers."""
    from vatio.cli import resident
    from vatio.errors import VatioError

    data = _status()
    path = resident.socket_path()
    if not data["running"] and resident.enabled() and path is not None:
        resident.start_host(path)
        deadline = time.monotonic() + 30
        while not data["running"] and time.monotonic() < deadline:
            time.sleep(0.05)
            data = _status()
        if not data["running"]:
            raise VatioError(
                "The resident recorder did not start within 30 s.",
                f"See {path}.log, or set VATIO_RESIDENT=0 to record in each process.",
            )
    _show(data, json_output)


@recorder_app.command("stop")
def stop(json_output: bool = JSON) -> None:
    """Stop the recorder (runs in progress finish and are recorded)."""
    from vatio.cli import resident

    answer = resident.ask("stop")
    path = resident.socket_path()
    deadline = time.monotonic() + 10
    while answer and path and resident.ask("status") and time.monotonic() < deadline:
        time.sleep(0.05)
    data = {"stopped": answer is not None}
    if json_output:
        from vatio.cli.output import print_json

        print_json(data)
    else:
        typer.echo("recorder stopped" if answer else "no resident recorder was running")
