"""Per-rank recording of steps, samples and all-reduce time, for `vatio scale`.

A training script calls `vatio.scale.step(samples=n)` once per step. Outside
`vatio scale` the call returns after one check, so it can stay in production
code. Under it (VATIO_SCALE_DIR is set), each call closes a step: its wall time,
its samples and the all-reduce time that the communication hook saw since the
previous call. Aggregates stay bounded in memory and are written as
`rank-<RANK>.json` in that directory at exit (or at `flush()`), so even a rank
that crashes leaves what it measured. Standard library only: this module is
imported inside the user's training processes.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import sys
import threading
import time
from typing import Any

ENV_DIR = "VATIO_SCALE_DIR"
ENV_NO_SYNC = "VATIO_SCALE_NO_SYNC"
ENV_SCALING = "VATIO_SCALE_SCALING"
ENV_BACKEND = "VATIO_SCALE_BACKEND"
ENV_CONFIG = "VATIO_SCALE_CONFIG"
MAX_KEPT = 4096  # step durations kept per kind for the median and p95
CPU_EVERY = 16  # steps between two readings of the process CPU time


class StepStats:
    """Bounded aggregate of one kind of step ("train" synced steps or "no_sync" ones)."""

    def __init__(self) -> None:
        self.steps = 0
        self.samples = 0.0
        self.time_s = 0.0
        self.comm_s = 0.0
        self.comm_steps = 0
        self.buckets = 0
        self.bytes = 0
        self.first_start: float | None = None
        self.last_end: float | None = None
        self.kept: list[float] = []
        self._stride = 1

    def add(
        self, start: float, end: float, samples: float, comm_s: float, buckets: int, nbytes: int
    ) -> None:
        duration = end - start
        self.steps += 1
        self.samples += samples
        self.time_s += duration
        if buckets:
            self.comm_steps += 1
            self.comm_s += comm_s
            self.buckets += buckets
            self.bytes += nbytes
        if self.first_start is None:
            self.first_start = start
        self.last_end = end
        if self.steps % self._stride == 0:
            self.kept.append(duration)
            if len(self.kept) >= MAX_KEPT:  # keep every other one: still an even sample
                self.kept = self.kept[1::2]
                self._stride *= 2

    def to_dict(self, wall_offset: float) -> dict[str, Any]:
        kept = sorted(self.kept)
        return {
            "steps": self.steps,
            "samples": self.samples,
            "time_s": self.time_s,
            "comm_s": self.comm_s,
            "comm_steps": self.comm_steps,
            "buckets": self.buckets,
            "bytes": self.bytes,
            "first_start": None if self.first_start is None else self.first_start + wall_offset,
            "last_end": None if self.last_end is None else self.last_end + wall_offset,
            "median_step_s": kept[len(kept) // 2] if kept else None,
            "p95_step_s": kept[min(len(kept) - 1, int(0.95 * len(kept)))] if kept else None,
        }


def _union_s(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of intervals: overlapping bucket all-reduces count once."""
    total = 0.0
    end = -float("inf")
    for a, b in sorted(intervals):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


class Recorder:
    """What one rank measured; written to `rank-<RANK>.json` in `directory`."""

    def __init__(self, directory: str, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.directory = directory
        self.rank = int(env.get("RANK", "0"))
        self.local_rank = int(env.get("LOCAL_RANK", "0"))
        self.node_rank = int(env.get("GROUP_RANK", env.get("NODE_RANK", "0")))
        self.world_size = int(env.get("WORLD_SIZE", "1"))
        self.config = env.get(ENV_CONFIG)
        self.no_sync = env.get(ENV_NO_SYNC) == "1"
        self.instrumented = False
        self.comm_timing: str | None = None
        self.parameters: int | None = None
        self.warmup_samples = 0.0
        self.stats = {"train": StepStats(), "no_sync": StepStats()}
        self._wall_offset = time.time() - time.perf_counter()
        self._last: float | None = None
        self._cpu_start: tuple[float, float] | None = None  # (CPU seconds, perf_counter)
        self._cpu_last: tuple[float, float] | None = None
        self._steps = 0
        self._comm: list[tuple[float, float]] = []
        self._comm_bytes = 0
        self._pending_gpu: list[tuple[Any, Any, int]] = []
        self._gpu_comm_s = 0.0
        self._lock = threading.Lock()
        self.step_cost_s = 0.0

    # -- called from the training loop and the communication hook ----------------
    def step(self, samples: float) -> None:
        """Close the step that began at the previous call (the first call only starts)."""
        now = time.perf_counter()
        with self._lock:
            comm, nbytes = self._comm, self._comm_bytes
            self._comm, self._comm_bytes = [], 0
        last, self._last = self._last, now
        if last is None:  # warm-up: its all-reduces are not part of any measured step
            self._pending_gpu.clear()
            self.warmup_samples += samples
            self._cpu_start = (time.process_time(), now)
            self._cpu_last = self._cpu_start
            return
        self._steps += 1
        if self._steps % CPU_EVERY == 0:  # a system call: sampled, not paid every step
            self._cpu_last = (time.process_time(), now)
        kind = "no_sync" if self.instrumented and not comm else "train"
        self.stats[kind].add(last, now, samples, _union_s(comm), len(comm), nbytes)

    def restart_clock(self) -> None:
        """The time since the last step was not a step (evaluation, checkpoint): forget it."""
        if self._last is not None:
            self._last = time.perf_counter()
        with self._lock:
            self._comm, self._comm_bytes = [], 0

    def add_comm(self, start: float, end: float, nbytes: int) -> None:
        """One bucket's all-reduce, launch to completion (from the hook's future)."""
        with self._lock:
            self._comm.append((start, end))
            self._comm_bytes += nbytes

    def add_gpu_comm(self, start_event: Any, end_event: Any, nbytes: int) -> None:
        """A CUDA all-reduce: timed by events, resolved at flush to avoid a sync per step."""
        with self._lock:
            self._comm.append((0.0, 0.0))
            self._comm_bytes += nbytes
            self._pending_gpu.append((start_event, end_event, nbytes))

    # -- output -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        self._resolve_gpu()
        cpu_s = cpu_wall_s = None
        if self._cpu_start is not None and self._cpu_last is not None:
            cpu_s = self._cpu_last[0] - self._cpu_start[0]
            cpu_wall_s = self._cpu_last[1] - self._cpu_start[1]
        return {
            "rank": self.rank,
            "local_rank": self.local_rank,
            "node_rank": self.node_rank,
            "world_size": self.world_size,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "config": self.config,
            "no_sync_run": self.no_sync,
            "instrumented": self.instrumented,
            "comm_timing": self.comm_timing,
            "parameters": self.parameters,
            "warmup_samples": self.warmup_samples,
            "cpu_s": cpu_s,
            "cpu_wall_s": cpu_wall_s,
            "max_rss_bytes": _max_rss_bytes(),
            "gpu_max_memory_bytes": _gpu_max_memory(),
            "gpu_comm_s": self._gpu_comm_s if self.comm_timing == "cuda-events" else None,
            "kinds": {k: s.to_dict(self._wall_offset) for k, s in self.stats.items()},
        }

    def _resolve_gpu(self) -> None:
        pending, self._pending_gpu = self._pending_gpu, []
        for start, end, _ in pending:
            try:
                end.synchronize()
                self._gpu_comm_s += start.elapsed_time(end) / 1000.0
            except Exception:  # a broken CUDA context at exit: keep the host figures
                continue

    def flush(self) -> None:
        """Write this rank's file (atomically); safe to call more than once."""
        try:
            data = self.to_dict()
            os.makedirs(self.directory, exist_ok=True)
            path = os.path.join(self.directory, f"rank-{self.rank}.json")
            temporary = f"{path}.{os.getpid()}.tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(temporary, path)
        except Exception as error:  # never break the user's script at exit
            sys.stderr.write(f"vatio.scale: could not write the rank report: {error}\n")


def _max_rss_bytes() -> int | None:
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _gpu_max_memory() -> int | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            return int(torch.cuda.max_memory_allocated())
    except Exception:
        return None
    return None


class _State:
    recorder: Recorder | None = None
    checked = False


_state = _State()


def current() -> Recorder | None:
    """The recorder of this process, created on first use when VATIO_SCALE_DIR is set."""
    if not _state.checked:
        _state.checked = True
        directory = os.environ.get(ENV_DIR)
        if directory:
            _state.recorder = Recorder(directory)
            atexit.register(_state.recorder.flush)
    return _state.recorder


def reset() -> None:
    """Forget the recorder (tests change the environment between cases)."""
    if _state.recorder is not None:
        atexit.unregister(_state.recorder.flush)
    _state.recorder = None
    _state.checked = False


def step(samples: float = 0) -> None:
    """Report one training step of this rank and the samples it processed."""
    recorder = _state.recorder
    if recorder is None:
        if _state.checked:
            return
        recorder = current()
        if recorder is None:
            return
    recorder.step(samples)
