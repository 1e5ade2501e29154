"""One party of a federated run as one process tree: `python -m vatio.federated.flower.host`.

    host server --plan PLAN     SuperLink + the run's submission + the ServerApp task
    host client --plan PLAN --index I   SuperNode + the ClientApp tasks of client I

The host imports Flower and the app once, then forks Flower's own entry points
(`flower-superlink`, `flower-supernode`, `flwr run`) before any thread starts,
and serves the node's tasks with the warm executor (see warm.py). The launcher
measures each host's whole process tree, so a client's record holds its
SuperNode, its task processes and the host itself. Each component's output
goes to `logs/<component>.log` in the run folder.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from vatio.federated.plan import RunPlan

LOCAL = "127.0.0.1"
_T0 = time.monotonic()


def note(text: str) -> None:
    """One timestamped line in this host's log (seconds since the host started)."""
    sys.stderr.write(f"vatio-host {time.monotonic() - _T0:7.2f}s {text}\n")
    sys.stderr.flush()


def _redirect(log_path: Path) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def fork_entry(argv: list[str], entry: Callable[[], None], log_path: Path) -> int:
    """Fork and run a Flower console entry point with `argv` in the child; returns its pid."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    from vatio.federated.flower.warm import run_entry_then_exit

    run_entry_then_exit(argv, entry, lambda: _redirect(log_path))
    return 0  # not reached: the child exits above


def wait_http(url: str, timeout_s: float, alive: Callable[[], bool]) -> None:
    """Wait until `url` answers (loopback only; proxies bypassed)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the process serving {url} exited before it was ready")
        try:
            with opener.open(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


def _always() -> bool:
    return True


def _alive(pid: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return done == 0

    return check


def _stop(pid: int, grace_s: float = 2.0) -> int | None:
    """SIGTERM a forked component, SIGKILL after `grace_s`; its exit code."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return None
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
    return None


def _isolation(plan: RunPlan) -> str:
    from vatio.federated.flower import warm

    return "process" if plan.executor == "warm" and warm.available() else "subprocess"


# -- server -----------------------------------------------------------------------------
def serve(plan: RunPlan) -> int:
    from flwr.cli.app import app as flwr_cli
    from flwr.superlink.cli import flower_superlink

    from vatio.federated.flower import warm
    from vatio.federated.flower.appdir import superlink_config, write_app

    folder = Path(plan.folder)
    logs = folder / "logs"
    address = f"{LOCAL}:{plan.superlink_port}"
    _preload_server(plan)
    isolation = _isolation(plan)
    note("imports done")
    superlink_config(Path(os.environ["FLWR_HOME"]), address)
    app_dir = write_app(folder / "app")
    link = fork_entry(
        [
            "flower-superlink",
            "--insecure",
            "--isolation",
            isolation,
            "--host",
            LOCAL,
            "--port",
            str(plan.superlink_port),
            "--disable-runtime-dependency-installation",
        ],
        flower_superlink,
        logs / "superlink.log",
    )
    try:
        wait_http(f"http://{address}/health", 60, _alive(link))
        note("superlink ready")
        submit = fork_entry(
            ["flwr", "run", str(app_dir), "vatio", "--run-config", f'vatio-plan="{plan.path}"'],
            lambda: flwr_cli(prog_name="flwr"),
            logs / "flwr-run.log",
        )
        _, status = os.waitpid(submit, 0)
        note("run submitted")
        if os.waitstatus_to_exitcode(status) != 0:
            sys.stderr.write(
                "vatio fl: `flwr run` could not submit the run; see logs/flwr-run.log\n"
            )
            return 1
        exit_codes: list[int] = []
        if isolation == "process":
            loop = warm.TaskLoop(
                address,
                warm.SERVER_APP,
                poll_s=0.05,
                before_child=lambda: _redirect(logs / "serverapp.log"),
                on_exit=lambda _pid, code: exit_codes.append(code),
            )
            loop.run(until=lambda: bool(exit_codes) or not _alive(link)())
        else:
            _wait_for_results(plan, link)
        note("serverapp finished")
        if not plan.results_path.exists():
            return 1
        return exit_codes[0] if exit_codes else 0
    finally:
        _stop(link)


def _preload_server(plan: RunPlan) -> None:
    """What the ServerApp process will need, imported once here (its fork inherits it)."""
    from vatio.federated.flower import health_app, server  # noqa: F401 - Flower, numpy
    from vatio.federated.flower.mods import warm_up_ledger
    from vatio.federated.ledger import FlLedger
    from vatio.federated.recording import discover_sensors
    from vatio.ledger import load_or_create_key

    discover_sensors()
    warm_up_ledger(load_or_create_key(Path(plan.server_key_path)))  # imports cryptography
    if plan.ledger_dir.exists():
        FlLedger.open(plan.ledger_dir).members()


def _wait_for_results(plan: RunPlan, link: int) -> None:
    alive = _alive(link)
    while not plan.results_path.exists() and alive():
        time.sleep(0.2)


def _task_exit(path: Path, pid: int, code: int) -> None:
    """Keep how each ClientApp task process ended: a crash shows as a signal or an error code."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"pid": pid, "exit_code": code, "time": time.time()}) + "\n")
    if code != 0:
        note(
            f"task process {pid} ended with {code}" + (" (killed by a signal)" if code < 0 else "")
        )


# -- client -----------------------------------------------------------------------------
def attend(plan: RunPlan, index: int) -> int:
    from flwr.supernode.cli import flower_supernode

    from vatio.federated.flower import warm
    from vatio.federated.flower.mods import prepare_process

    client = plan.client(index)
    folder = Path(plan.folder)
    logs = folder / "logs"
    isolation = _isolation(plan)
    prepare_process(plan, index)  # data, model and energy sensors loaded once, before forking
    note("imports done")
    wait_http(f"http://{LOCAL}:{plan.superlink_port}/health", 120, _always)
    note("superlink ready")
    node_config = (
        f"partition-id={index} num-partitions={len(plan.clients)} "
        f'vatio-plan="{plan.path}" vatio-client={index}'
    )
    node = fork_entry(
        [
            "flower-supernode",
            "--insecure",
            "--isolation",
            isolation,
            "--superlink",
            f"{LOCAL}:{plan.superlink_port}",
            "--host",
            LOCAL,
            "--port",
            str(client.runtime_port),
            "--node-config",
            node_config,
        ],
        flower_supernode,
        logs / f"supernode-{index}.log",
    )
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    alive = _alive(node)
    note("supernode started")
    try:
        if isolation == "process":
            loop = warm.TaskLoop(
                f"{LOCAL}:{client.runtime_port}",
                warm.CLIENT_APP,
                poll_s=0.05,
                before_child=lambda: _redirect(logs / f"clientapp-{index}.log"),
                on_exit=lambda pid, code: _task_exit(
                    folder / "tasks" / f"client-{index}.jsonl", pid, code
                ),
            )
            try:
                loop.run(until=lambda: bool(stopping) or not alive())
            finally:
                loop.close()
        else:
            while not stopping and alive():
                time.sleep(0.2)
        return 0
    finally:
        _stop(node)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vatio.federated.flower.host")
    parser.add_argument("role", choices=["server", "client"])
    parser.add_argument("--plan", required=True)
    parser.add_argument("--index", type=int, default=0)
    args = parser.parse_args(argv)
    plan = RunPlan.load(args.plan)
    from vatio.federated.flower.env import apply_offline_env

    home = (
        Path(plan.folder) / "flwr" / ("server" if args.role == "server" else f"client-{args.index}")
    )
    apply_offline_env(home)
    if args.role == "server":
        return serve(plan)
    return attend(plan, args.index)


if __name__ == "__main__":
    sys.exit(main())
