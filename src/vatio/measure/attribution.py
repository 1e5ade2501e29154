"""Which share of the machine's energy belongs to the tracked process tree.

CPU energy is shared by CPU time (process tree / all busy CPU time, per
sampling interval; time seen late is paid from earlier unclaimed busy time,
see Sampler._cpu_part); memory energy by resident memory. Descendants
that exit are not lost: their time shows up in their parent's `children_*`
counters once they are reaped, so the tree total is Σ over live processes of
(user + system + children_*).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class TreeSample:
    cpu_s: float
    rss_bytes: float
    pids: tuple[int, ...]


class ProcessTree:
    """Cumulative CPU time and memory of one process and its descendants.

    Finding descendants means reading every /proc/PID/stat, so the member list
    is refreshed at most every `rescan_s`; reading the members is cheap.
    """

    def __init__(self, pid: int, rescan_s: float = 1.0) -> None:
        self.pid = pid
        self.rescan_s = rescan_s
        self._root: psutil.Process | None = None
        self._members: list[psutil.Process] = []
        self._scanned_at = -float("inf")
        self._last_cpu = 0.0
        try:
            self._root = psutil.Process(pid)
        except psutil.Error:
            self._root = None

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._scanned_at < self.rescan_s:
            return
        assert self._root is not None
        known = {p.pid: p for p in self._members}
        children = self._root.children(recursive=True)
        self._members = [self._root, *(known.get(c.pid, c) for c in children)]
        self._scanned_at = now

    def settle(self, cpu_s: float) -> None:
        """The root's exact CPU time after it exited (including the children it reaped)."""
        self._last_cpu = max(self._last_cpu, cpu_s)

    def survivors(self) -> list[int]:
        """Pids of descendants still running after the root exited (orphans the job left)."""
        alive = []
        for proc in self._members:
            if proc.pid == self.pid:
                continue
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc.pid)
            except psutil.Error:
                continue
        return alive

    def sample(self) -> TreeSample:
        if self._root is None:
            return TreeSample(self._last_cpu, 0.0, ())
        try:
            self._refresh()
        except psutil.Error:
            return TreeSample(self._last_cpu, 0.0, ())
        members = self._members
        cpu = 0.0
        rss = 0.0
        pids = []
        for proc in members:
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    rss += proc.memory_info().rss
            except psutil.Error:
                continue
            cpu += times.user + times.system + times.children_user + times.children_system
            pids.append(proc.pid)
        # A reaped child's time moves to its parent within one sample: never step back.
        self._last_cpu = max(cpu, self._last_cpu)
        return TreeSample(self._last_cpu, rss, tuple(pids))


def machine_busy_cpu_s() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def share(part: float, whole: float) -> float:
    """part/whole clamped to [0, 1]; 0 when nothing happened."""
    if whole <= 0:
        return 0.0
    return min(max(part / whole, 0.0), 1.0)
