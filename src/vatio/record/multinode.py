"""Parts of a multi-node job: which launcher started us, which logical run we belong to,
and which process of this node measures its devices.

A job launched by torchrun, Slurm (`srun`) or MPI runs one vatio tracker per rank. To
count nothing twice, each node has ONE measuring part: the first rank of the job on
that node to take a lock (a file in the node's temp folder, keyed by the job and the
host name). It measures the node's devices like any run. The other local ranks measure
no device: they register their process with it (a small file beside the lock), so that
the measuring part attributes their CPU time, GPU use and memory to the job's share of
the node; their own record holds their CPU time and memory, and no energy. Every part
carries the job's logical run id (`group_id`); `vatio.record.group` merges them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vatio.errors import InputError

#: `group=` value that means "from the launcher's environment, if any" (the default)
AUTO = "auto"
#: longest group id (the store column holds 128 characters)
MAX_GROUP = 128
_GROUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+=-]*$")


@dataclass(frozen=True)
class Launch:
    """What a launcher's environment says about this process (None: not given)."""

    launcher: str
    job_id: str | None = None
    rank: int | None = None
    local_rank: int | None = None
    world_size: int | None = None
    local_world_size: int | None = None
    node_rank: int | None = None
    nnodes: int | None = None

    @property
    def multi(self) -> bool:
        """More than one part: worth grouping."""
        return (self.world_size or 1) > 1 or (self.nnodes or 1) > 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _int(env: Any, *names: str) -> int | None:
    for name in names:
        value = env.get(name)
        if value is None:
            continue
        match = re.match(r"^\s*(\d+)", str(value))  # "4(x2)" in Slurm's per-node counts
        if match:
            return int(match.group(1))
    return None


def detect(env: Any = None) -> Launch | None:
    """The launcher of this process, from its environment: torchrun, then Open MPI, then
    PMI (MPICH, Intel MPI), then a Slurm step (`srun`). None when none launched it."""
    env = os.environ if env is None else env
    slurm_job = env.get("SLURM_JOB_ID") or env.get("SLURM_JOBID")
    slurm_step = env.get("SLURM_STEP_ID") or env.get("SLURM_STEPID")
    slurm_id = f"{slurm_job}.{slurm_step}" if slurm_job and slurm_step else None
    if env.get("LOCAL_RANK") is not None and env.get("WORLD_SIZE") is not None:
        run_id = env.get("TORCHELASTIC_RUN_ID")
        job = f"torchrun-{run_id}" if run_id and run_id != "none" else None
        return Launch(
            "torchrun",
            job or (f"slurm-{slurm_id}" if slurm_id else None),
            rank=_int(env, "RANK"),
            local_rank=_int(env, "LOCAL_RANK"),
            world_size=_int(env, "WORLD_SIZE"),
            local_world_size=_int(env, "LOCAL_WORLD_SIZE"),
            node_rank=_int(env, "GROUP_RANK", "SLURM_NODEID"),
            nnodes=_nnodes(env),
        )
    if env.get("OMPI_COMM_WORLD_RANK") is not None:
        job = (
            env.get("OMPI_MCA_ess_base_jobid")
            or env.get("OMPI_MCA_orte_ess_jobid")
            or env.get("PMIX_NAMESPACE")
        )
        return Launch(
            "openmpi",
            f"mpi-{job}" if job else (f"slurm-{slurm_id}" if slurm_id else None),
            rank=_int(env, "OMPI_COMM_WORLD_RANK"),
            local_rank=_int(env, "OMPI_COMM_WORLD_LOCAL_RANK"),
            world_size=_int(env, "OMPI_COMM_WORLD_SIZE"),
            local_world_size=_int(env, "OMPI_COMM_WORLD_LOCAL_SIZE"),
            node_rank=_int(env, "SLURM_NODEID"),
            nnodes=_nnodes(env),
        )
    if env.get("PMI_RANK") is not None or env.get("PMIX_RANK") is not None:
        job = env.get("PMIX_NAMESPACE")
        return Launch(
            "pmi",
            f"mpi-{job}" if job else (f"slurm-{slurm_id}" if slurm_id else None),
            rank=_int(env, "PMI_RANK", "PMIX_RANK"),
            local_rank=_int(env, "MPI_LOCALRANKID", "PALS_LOCAL_RANKID", "SLURM_LOCALID"),
            world_size=_int(env, "PMI_SIZE", "SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"),
            local_world_size=_int(env, "MPI_LOCALNRANKS"),
            node_rank=_int(env, "SLURM_NODEID"),
            nnodes=_nnodes(env),
        )
    if slurm_id and env.get("SLURM_PROCID") is not None:  # a task of `srun`, not the batch step
        return Launch(
            "slurm",
            f"slurm-{slurm_id}",
            rank=_int(env, "SLURM_PROCID"),
            local_rank=_int(env, "SLURM_LOCALID"),
            world_size=_int(env, "SLURM_STEP_NUM_TASKS", "SLURM_NTASKS", "SLURM_NPROCS"),
            local_world_size=_int(env, "SLURM_STEP_TASKS_PER_NODE", "SLURM_NTASKS_PER_NODE"),
            node_rank=_int(env, "SLURM_NODEID"),
            nnodes=_nnodes(env),
        )
    return None


def _nnodes(env: Any) -> int | None:
    return _int(env, "SLURM_STEP_NUM_NODES", "SLURM_NNODES", "SLURM_JOB_NUM_NODES")


def check_group(value: str, where: str = "The group id") -> str:
    """A group id given by the user: letters, digits and . _ : @ + = -, at most 128."""
    text = value.strip()
    if not text or len(text) > MAX_GROUP or not _GROUP.match(text):
        raise InputError(
            f"{where} {value[:60]!r} is not a usable group id.",
            f"Use up to {MAX_GROUP} letters, digits and . _ : @ + = - (e.g. the job id), "
            "the same on every node.",
        )
    return text


@dataclass
class Plan:
    """The logical run this tracker is a part of, or why it is not grouped."""

    group_id: str | None
    launch: Launch | None
    warning: str | None = None


def plan(group: str | None, env: Any = None) -> Plan:
    """`group`: None (never grouped), AUTO (from the launcher), or an explicit id."""
    if group is None:
        return Plan(None, None)
    launch = detect(env)
    if group != AUTO:
        return Plan(check_group(group), launch or Launch("group"))
    if launch is None or not launch.multi:
        return Plan(None, None)
    job = launch.job_id
    if job is None:
        return Plan(
            None,
            launch,
            f"this is rank {launch.rank} of {launch.world_size} ({launch.launcher}) but the "
            "launcher gave no job id: its parts will not be merged (give the same "
            "`vatio run --group ID` or `vatio.track(group=ID)` on every node, or torchrun "
            "--rdzv-id)",
        )
    return Plan(job[:MAX_GROUP], launch)


# -- the per-node lock -------------------------------------------------------------------
def _folder() -> Path:
    import tempfile

    base = os.environ.get("VATIO_NODE_LOCK_DIR") or tempfile.gettempdir()
    folder = Path(base) / f"vatio-{os.getuid()}" / "nodes"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


class NodeSlot:
    """The measuring slot of one node for one job: a lock file, and a folder where the
    other local ranks register their process."""

    def __init__(self, group_id: str, host: str) -> None:
        import hashlib

        key = hashlib.sha256(f"{group_id}\0{host}".encode()).hexdigest()[:24]
        folder = _folder()
        self.lock_path = folder / f"{key}.lock"
        self.ranks_dir = folder / f"{key}.ranks"
        self._handle: int | None = None
        self._registration: Path | None = None

    def claim(self, run_id: str) -> bool:
        """Take the node's slot (non-blocking); True: this part measures the node."""
        import fcntl

        handle = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(handle)
            return False
        os.ftruncate(handle, 0)
        os.pwrite(handle, json.dumps({"run_id": run_id, "pid": os.getpid()}).encode(), 0)
        self._handle = handle
        self.ranks_dir.mkdir(exist_ok=True, mode=0o700)
        return True

    def holder(self, wait_s: float = 2.0) -> str | None:
        """The run id of the part that measures this node (it writes it right after locking)."""
        deadline = time.monotonic() + wait_s
        while True:
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(self.lock_path.read_text(encoding="utf-8") or "{}")
                if data.get("run_id"):
                    return str(data["run_id"])
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def register(self, pid: int, entry: dict[str, Any]) -> None:
        """A rank that measures no device hands its process to the node's measuring part."""
        import psutil

        with contextlib.suppress(psutil.Error):
            entry = {**entry, "pid": pid, "create_time": psutil.Process(pid).create_time()}
        self.ranks_dir.mkdir(exist_ok=True, mode=0o700)
        path = self.ranks_dir / f"{pid}.json"
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(temp, path)
        self._registration = path

    def registrations(self) -> list[dict[str, Any]]:
        """Ranks registered so far (checked: the pid still belongs to the same process)."""
        import psutil

        found = []
        with contextlib.suppress(OSError):
            for path in self.ranks_dir.glob("*.json"):
                with contextlib.suppress(OSError, ValueError, psutil.Error):
                    entry = json.loads(path.read_text(encoding="utf-8"))
                    started = psutil.Process(int(entry["pid"])).create_time()
                    if abs(started - float(entry.get("create_time", started))) <= 1.0:
                        found.append(entry)
        return found

    def release(self) -> None:
        if self._registration is not None:
            with contextlib.suppress(OSError):
                self._registration.unlink()
            self._registration = None
        if self._handle is not None:
            with contextlib.suppress(OSError):
                os.close(self._handle)  # closing drops the flock
            self._handle = None


def process_cpu_s(pid: int) -> float:
    """A process's CPU time so far, children it reaped included (0 when unknown)."""
    import psutil

    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system + times.children_user + times.children_system


class NodePart:
    """One tracker's part of a multi-node job: claims the node's slot at start, then either
    follows the other local ranks (measuring part) or registers with the one that does."""

    def __init__(self, planned: Plan, host: str, run_id: str) -> None:
        assert planned.group_id is not None
        self.plan = planned
        self.host = host
        self.run_id = run_id
        #: why the node's slot could not be used (then this part measures, like a lone run)
        self.lock_error: str | None = None
        self.slot: NodeSlot | None = None
        try:
            self.slot = NodeSlot(planned.group_id, host)
            self.measures = self.slot.claim(run_id)
        except OSError as error:
            self.slot, self.measures = None, True
            self.lock_error = f"{error.strerror or error} ({error.filename or 'lock folder'})"
        self.node_part = run_id if self.measures else self.slot.holder()  # type: ignore[union-attr]
        self.attributed: dict[int, dict[str, Any]] = {}
        self._stop = None
        self._thread = None
        self._sampler: Any = None

    def entry(self) -> dict[str, Any]:
        launch = self.plan.launch
        return {
            "run_id": self.run_id,
            "rank": launch.rank if launch else None,
            "local_rank": launch.local_rank if launch else None,
        }

    # -- the measuring part ----------------------------------------------------------
    def follow(self, sampler: Any, interval_s: float) -> None:
        """Attribute each registered rank's process tree to this part's job share."""
        import threading

        self._sampler = sampler
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, args=(interval_s,), name="vatio-multinode", daemon=True
        )
        self._thread.start()

    def _loop(self, interval_s: float) -> None:
        own_cpu = self._sampler.own_cpu
        own_cpu.watch_thread("multinode")
        try:
            while not self._stop.wait(min(interval_s, 1.0)):  # type: ignore[union-attr]
                self.poll()
                own_cpu.report_thread("multinode", time.thread_time())
        finally:
            own_cpu.unwatch_thread("multinode")
            own_cpu.report_thread("multinode", time.thread_time())

    def poll(self) -> None:
        if self._sampler is None or self.slot is None:
            return
        for entry in self.slot.registrations():
            pid = int(entry["pid"])
            if pid in self.attributed:
                continue
            if self._sampler.add_root(pid, float(entry.get("cpu_from_s") or 0.0)):
                self.attributed[pid] = entry

    def stop_following(self) -> None:
        """Before the sampler's last reading: one last look for late ranks, then stop."""
        if self._thread is None:
            return
        self._stop.set()  # type: ignore[union-attr]
        self._thread.join(timeout=10)
        self.poll()
        self._thread = None

    # -- the other local ranks -----------------------------------------------------------
    def register(self, pid: int, cpu_from_s: float) -> None:
        if not self.measures and self.slot is not None:
            with contextlib.suppress(OSError):
                self.slot.register(pid, {**self.entry(), "cpu_from_s": cpu_from_s})

    # -- the end -------------------------------------------------------------------------
    def finish(self) -> dict[str, Any]:
        """The record's `multinode` section; releases the node's slot."""
        self.stop_following()
        if self.slot is not None:
            self.slot.release()
        launch = self.plan.launch or Launch("group")
        section: dict[str, Any] = {
            "group_id": self.plan.group_id,
            "host": self.host,
            "role": "node" if self.measures else "rank",
            "measures_devices": self.measures,
            "node_part": self.node_part,
            **launch.to_dict(),
        }
        if self.lock_error:
            section["lock_error"] = self.lock_error
        if self.measures:
            section["attributed"] = [
                {k: e.get(k) for k in ("run_id", "rank", "local_rank", "pid")}
                for e in self.attributed.values()
            ]
        return section
