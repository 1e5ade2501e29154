"""Launching one configuration: torchrun for workers, plain Python for threads.

torchrun (`python -m torch.distributed.run`) is the engine: vatio only builds
its command line, passing the multi-node settings through, and asks it to
write each rank's output to its own log so a failing rank's error can be
shown. Signals follow `vatio run`'s rules (SIGTERM and SIGHUP forwarded;
SIGINT forwarded unless the terminal already delivered it), so Ctrl-C stops
the workers and the study keeps the configurations already finished.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vatio.process import supervise
from vatio.scale.configs import Config, Nodes
from vatio.scale.reporter import ENV_BACKEND, ENV_CONFIG, ENV_DIR, ENV_NO_SYNC, ENV_SCALING

TAIL_LINES = 15
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class Target:
    """What to run: a script path or a module (the bundled example), and its arguments."""

    script: str | None = None
    module: str | None = None
    args: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        head = ["-m", self.module] if self.module else [str(self.script)]
        return [*head, *self.args]


@dataclass
class Launched:
    exit_code: int
    status: str
    error: str | None = None
    failed_rank: int | None = None
    error_tail: list[str] = field(default_factory=list)
    command: list[str] = field(default_factory=list)


def build_command(config: Config, target: Target, nodes: Nodes, log_dir: Path) -> list[str]:
    """The command for one configuration: torchrun for worker sweeps, python otherwise."""
    if config.mode != "workers":
        return [sys.executable, *target.argv()]
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={config.workers}"]
    if nodes.multi or nodes.rdzv_endpoint:
        command += [f"--nnodes={nodes.nnodes}", f"--node-rank={nodes.node_rank}"]
        if nodes.rdzv_endpoint:
            command.append(f"--rdzv-endpoint={nodes.rdzv_endpoint}")
        if nodes.rdzv_backend:
            command.append(f"--rdzv-backend={nodes.rdzv_backend}")
        if nodes.rdzv_id:
            command.append(f"--rdzv-id={nodes.rdzv_id}")
    else:
        command.append("--standalone")
    command += ["--max-restarts=0", f"--log-dir={log_dir}", "--redirects=3"]
    if target.module:
        return [*command, "-m", target.module, *target.args]
    return [*command, str(target.script), *target.args]


def build_env(
    config: Config, report_dir: Path, scaling: str, backend: str, base: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of the launched job: where ranks report, threads, scaling, backend."""
    env = dict(os.environ if base is None else base)
    env[ENV_DIR] = str(report_dir)
    env[ENV_CONFIG] = config.key
    env[ENV_SCALING] = scaling
    env[ENV_BACKEND] = backend
    if config.no_sync:
        env[ENV_NO_SYNC] = "1"
    else:
        env.pop(ENV_NO_SYNC, None)
    threads = config.threads or (1 if config.mode == "workers" and backend == "gloo" else None)
    if threads:
        for name in THREAD_VARIABLES:
            env[name] = str(threads)
    return env


def run_logged(
    command: list[str], env: dict[str, str], log_path: Path, timeout_s: float | None = None
) -> Launched:
    """Run without a shell, output to `log_path`, signals forwarded; never raises for the child."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        outcome = supervise(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, timeout_s=timeout_s
        )
    return Launched(outcome.exit_code, outcome.status, outcome.error, command=command)


def explain_failure(launched: Launched, log_path: Path, log_dir: Path | None) -> None:
    """Name the rank that failed and keep the end of its error output for the study.

    torchrun (with --log-dir and --redirects=3) writes each rank's output to
    `<log_dir>/<run>/attempt_<n>/<local_rank>/stderr.log`; the rank whose stderr
    holds a traceback is the one that failed (the others were stopped by torchrun).
    Without rank logs, the end of the combined output is kept instead.
    """
    if log_dir is not None:
        found = _failed_rank(log_dir, launched.command)
        if found is not None:
            launched.failed_rank, launched.error_tail = found
            return
    launched.error_tail = _tail(log_path)


def _failed_rank(log_dir: Path, command: list[str]) -> tuple[int, list[str]] | None:
    candidates = []
    for stderr in log_dir.glob("*/attempt_*/*/stderr.log"):
        try:
            text = stderr.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "Traceback" in text:
            local = int(stderr.parent.name) if stderr.parent.name.isdigit() else 0
            candidates.append((stderr.stat().st_mtime, local, stderr))
    if not candidates:
        return None
    _, local_rank, path = min(candidates)
    return _global_rank(local_rank, command), _tail(path)


def _global_rank(local_rank: int, command: list[str]) -> int:
    """Global rank from the local one: node_rank x processes per node + local rank."""
    flags = dict(re.findall(r"--(nproc-per-node|node-rank)=(\d+)", " ".join(command)))
    return int(flags.get("node-rank", 0)) * int(flags.get("nproc-per-node", 1)) + local_rank


def _tail(path: Path, lines: int = TAIL_LINES) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    return kept[-lines:]


def wait_for(condition: Callable[[], bool], timeout_s: float, poll_s: float = 1.0) -> bool:
    """Poll `condition` until it holds or `timeout_s` passes; True when it held."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(poll_s, max(deadline - time.monotonic(), 0.0)))
