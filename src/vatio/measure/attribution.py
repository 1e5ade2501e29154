"""Which share of the machine's energy belongs to the tracked process tree.

CPU energy is shared by CPU time (process tree / all busy CPU time, per
sampling interval; time seen late is paid from earlier unclaimed busy time,
see Sampler._cpu_part); memory energy by resident memory. Descendants
that exit are not lost: their time shows up in their parent's `children_*`
counters once they are reaped, so the tree total is Σ over live processes of
(user + system + children_*).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class TreeSample:
    cpu_s: float
    rss_bytes: float
    pids: tuple[int, ...]


class ProcessTree:
    """Cumulative CPU time and memory of one process and its descendants, plus any other
    processes added as roots later (the other local ranks of a multi-node job's node).

    Finding descendants means reading every /proc/PID/stat, so the member list
    is refreshed at most every `rescan_s`; reading the members is cheap.
    """

    def __init__(self, pid: int, rescan_s: float = 1.0) -> None:
        self.pid = pid
        self.rescan_s = rescan_s
        self._root: psutil.Process | None = None
        self._extra: dict[int, psutil.Process] = {}
        self._members: list[psutil.Process] = []
        #: root pid of each member from an added root, and its last CPU time (s)
        self._owner: dict[int, int] = {}
        self._seen_cpu: dict[int, float] = {}
        #: CPU time of added roots that exited (kept, so the total never steps back)
        self._retired_cpu = 0.0
        self._scanned_at = -float("inf")
        self._last_cpu = 0.0
        try:
            self._root = psutil.Process(pid)
        except psutil.Error:
            self._root = None

    def follows(self, pid: int) -> bool:
        """Whether `pid` is followed already (a root, or a descendant of one)."""
        if pid == self.pid or pid in self._extra:
            return True
        roots = [r for r in (self._root, *self._extra.values()) if r is not None]
        for root in roots:
            try:
                if pid in {c.pid for c in root.children(recursive=True)}:
                    return True
            except psutil.Error:
                continue
        return False

    def add_root(self, pid: int) -> bool:
        """Follow another process and its descendants too; False when it is already followed
        or gone. Its CPU time so far is included in the next sample (the caller adjusts)."""
        if self.follows(pid):
            return False
        try:
            self._extra[pid] = psutil.Process(pid)
        except psutil.Error:
            return False
        self._scanned_at = -float("inf")
        return True

    @property
    def roots(self) -> list[int]:
        """Pids of the roots followed (the first one, then those added)."""
        return [self.pid, *self._extra]

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._scanned_at < self.rescan_s:
            return
        assert self._root is not None
        known = {p.pid: p for p in self._members}
        members = [self._root, *(known.get(c.pid, c) for c in self._root.children(recursive=True))]
        taken = {p.pid for p in members}
        for root_pid, root in list(self._extra.items()):
            try:
                found = [root, *root.children(recursive=True)]
            except psutil.Error:
                self._retire(root_pid)
                continue
            for proc in found:
                if proc.pid not in taken:
                    taken.add(proc.pid)
                    members.append(known.get(proc.pid, proc))
                    self._owner[proc.pid] = root_pid
        self._members = members
        self._scanned_at = now

    def _retire(self, root_pid: int) -> None:
        """An added root exited: keep the CPU time last seen of it and its descendants."""
        self._extra.pop(root_pid, None)
        for pid in [p for p, owner in self._owner.items() if owner == root_pid]:
            self._retired_cpu += self._seen_cpu.pop(pid, 0.0)
            del self._owner[pid]

    def settle(self, cpu_s: float) -> None:
        """The root's exact CPU time after it exited (including the children it reaped), plus
        what the added roots' trees were last seen to use."""
        extra = self._retired_cpu + sum(self._seen_cpu.values())
        self._last_cpu = max(self._last_cpu, cpu_s + extra)

    def survivors(self) -> list[int]:
        """Pids of descendants still running after the root exited (orphans the job left)."""
        alive = []
        for proc in self._members:
            if proc.pid == self.pid or proc.pid in self._extra:
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
        cpu = self._retired_cpu
        rss = 0.0
        pids = []
        own_pid = os.getpid()
        for proc in members:
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    rss += proc.memory_info().rss
            except psutil.Error:
                if proc.pid in self._extra:
                    self._retire(proc.pid)
                    self._scanned_at = -float("inf")
                continue
            spent = times.user + times.system + times.children_user + times.children_system
            if proc.pid == own_pid:  # in clock ticks (10 ms) from /proc; ours to the ns, since
                # vatio's threads are counted to the ns and subtracted from it
                spent = time.process_time() + times.children_user + times.children_system
            cpu += spent
            if proc.pid in self._owner:
                self._seen_cpu[proc.pid] = spent
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
