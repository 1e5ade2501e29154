"""The run manifest: machine, software and inputs of a run, so it can be repeated and audited.

Every part is collected on its own: a part that fails is recorded as None with a line in
``collection_errors``, so one broken probe never loses the whole manifest.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from vatio.hostname import hostname
from vatio.process import MeteredPopen
from vatio.provenance import system
from vatio.provenance.canonical import sha256_hex
from vatio.provenance.lockfiles import find_lockfile
from vatio.provenance.system import clear_caches, detect_environment, installed_packages
from vatio.redact import is_secret_name, redact_argv, redact_text

__all__ = [
    "clear_caches",
    "collect_manifest",
    "detect_environment",
    "git_info",
    "installed_packages",
    "manifest_digest",
    "select_env_vars",
]

SCHEMA_VERSION = 1
GIT_TIMEOUT_S = 2.0
# Variables that change how a job runs (threads, devices, determinism, placement).
SELECTED_ENV_VARS = frozenset(
    {
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "TORCH_NUM_THREADS",
        "CUDA_VISIBLE_DEVICES",
        "NVIDIA_VISIBLE_DEVICES",
        "PYTORCH_CUDA_ALLOC_CONF",
        "CUBLAS_WORKSPACE_CONFIG",
        "PYTHONHASHSEED",
        "VATIO_ZONE",
        "VATIO_STORE",
        "SLURM_JOB_ID",
        "SLURM_NODELIST",
    }
)
#: called with the CPU seconds of each helper process (git) the manifest ran
ChildCpuHook = Callable[[float], None]


def redact_credentials(text: str) -> str:
    """Hide credentials (URL passwords, NAME=secret words), which must never reach a manifest."""
    return redact_text(text)


# --- git ----------------------------------------------------------------------------------


def find_git_root(start: Path) -> Path | None:
    """Nearest directory holding ``.git`` (dir or worktree file), found without spawning git."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def _run_git(
    cwd: Path,
    commands: list[list[str]],
    errors: list[str],
    on_child_cpu: ChildCpuHook | None = None,
) -> list[str | None]:
    """Run git commands in parallel under one deadline; stdout per command, None on failure."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    procs: list[subprocess.Popen[str]] = []
    try:
        for args in commands:
            procs.append(
                MeteredPopen(
                    ["git", *args],
                    cwd=cwd,
                    env=env,
                    text=True,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
    except BaseException:
        for proc in procs:
            proc.kill()
            proc.communicate()
        raise
    deadline = time.monotonic() + GIT_TIMEOUT_S
    outputs: list[str | None] = []
    for args, proc in zip(commands, procs, strict=True):
        try:
            out, err = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            errors.append(f"git: `git {' '.join(args)}` timed out after {GIT_TIMEOUT_S:g} s")
            outputs.append(None)
            continue
        outputs.append(out if proc.returncode == 0 else None)
        if proc.returncode != 0 and args[0] == "status":
            lines = err.strip().splitlines()
            errors.append(f"git: {lines[-1] if lines else f'exit code {proc.returncode}'}")
    if on_child_cpu is not None:
        on_child_cpu(sum(proc.cpu_s or 0.0 for proc in procs))
    return outputs


def git_info(
    cwd: Path, errors: list[str] | None = None, on_child_cpu: ChildCpuHook | None = None
) -> dict[str, Any] | None:
    """Commit, branch and dirty flag of the repo holding ``cwd``; local commands only.

    None outside a repository (checked without spawning) or when git is not installed.
    Fields git could not give are None, with the reason appended to ``errors``.
    """
    if find_git_root(cwd) is None:
        return None
    notes: list[str] = [] if errors is None else errors
    commands = [
        ["status", "--porcelain"],
        ["rev-parse", "HEAD"],
        ["rev-parse", "--abbrev-ref", "HEAD"],
    ]
    try:
        status, commit, branch = _run_git(cwd, commands, notes, on_child_cpu)
    except FileNotFoundError:
        notes.append("git: the git executable was not found; commit not recorded")
        return None
    if status is None and commit is None and branch is None:
        return None  # git refused the repository (the reason is in errors)
    branch = (branch or "").strip()
    return {
        "commit": (commit or "").strip() or None,  # None on an unborn branch
        "branch": branch if branch and branch != "HEAD" else None,  # None when detached
        "dirty": None if status is None else bool(status.strip()),
    }


def select_env_vars(env: Mapping[str, str]) -> dict[str, str]:
    """Variables that change a run's behaviour; never ones whose names suggest a secret."""
    selected: dict[str, str] = {}
    for name in sorted(env):
        if name not in SELECTED_ENV_VARS and not name.startswith("VATIO_"):
            continue
        if is_secret_name(name):
            continue
        selected[name] = redact_credentials(env[name])
    return selected


# --- assembly -----------------------------------------------------------------------------


def _sanitize(value: Any) -> Any:
    """Best JSON form of a value json cannot take as is; non-finite floats become null."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _sanitize(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_sanitize(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _sanitize(value.value)
    return str(value)


def _as_json(name: str, value: Any, errors: list[str]) -> Any:
    """A JSON copy of a caller's value, so the manifest is what will be stored and hashed."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        errors.append(f"{name}: values that are not plain JSON were converted (text or null)")
        return _sanitize(value)


def _utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def collect_manifest(
    *,
    command: list[str] | None = None,
    profile: dict[str, Any] | None = None,
    cwd: Path | None = None,
    gpus: list[dict[str, Any]] | None = None,
    env: Mapping[str, str] | None = None,
    on_child_cpu: ChildCpuHook | None = None,
) -> dict[str, Any]:
    """Collect the run manifest: a JSON-serialisable dict; failed parts are None + an error.

    `on_child_cpu` receives the CPU time of the helper processes run (git), which is
    vatio's overhead, not the job's.
    """
    collected_at = _utc_now_iso()
    cwd = Path.cwd() if cwd is None else Path(cwd)
    env = os.environ if env is None else env
    errors: list[str] = []
    parts: list[tuple[str, Callable[[], Any]]] = [
        ("python", lambda: system.python_info()),
        ("os", lambda: system.os_info()),
        ("cpu", lambda: system.cpu_info()),
        ("memory_gb", lambda: system.memory_gb()),
        ("gpus", lambda: _as_json("gpus", list(gpus or []), errors)),
        ("packages", lambda: system.installed_packages()),
        ("lockfile", lambda: ref.to_dict() if (ref := find_lockfile(cwd)) else None),
        ("git", lambda: git_info(cwd, errors, on_child_cpu)),
        ("environment", lambda: system.detect_environment(env=env)),
        ("env_vars", lambda: select_env_vars(env)),
        (
            "command",
            lambda: None if command is None else redact_argv([str(a) for a in command]),
        ),
        ("profile", lambda: None if profile is None else _as_json("profile", profile, errors)),
        ("hostname", hostname),
    ]
    manifest: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    for name, part in parts:
        try:
            manifest[name] = part()
        except Exception as exc:  # one broken probe must never lose the manifest
            manifest[name] = None
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
    manifest["collected_at"] = collected_at
    manifest["collection_errors"] = errors
    return manifest


def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON: equal manifests, equal digests."""
    return sha256_hex(manifest)
