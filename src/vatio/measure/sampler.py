"""Background sampling of every sensor into a bounded timeline.

One daemon thread wakes every `interval_s`, takes a reading from each sensor
and the tracked process tree, and records the difference since the last tick.
Phase boundaries call `tick()` directly, under the same lock.

vatio's own work is never charged to the job: every tick also reads vatio's
CPU time (its sampler and recorder threads when it shares the job's process,
its whole process when the job is a child) and moves that share of the CPU
energy into `overhead`, reported apart.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from vatio.devices.common import ZERO, EnergySensor, Reading
from vatio.errors import SensorReadError
from vatio.measure.attribution import ProcessTree, machine_busy_cpu_s, share
from vatio.measure.timeline import Timeline

#: the `pid` of a sampler whose job is a child process spawned after start()
CHILD_LATER = -1
#: a tick whose machine CPU busy share is under this counts as idle time (right-sizing)
IDLE_BUSY_SHARE = 0.05


@dataclass
class Totals:
    """Cumulative machine and process energy per sensor at one instant."""

    wall: float
    machine: dict[str, Reading] = field(default_factory=dict)
    process: dict[str, float] = field(default_factory=dict)
    #: energy of vatio's own CPU time per sensor (never part of `process`)
    overhead: dict[str, float] = field(default_factory=dict)
    #: vatio's own CPU seconds
    overhead_cpu_s: float = 0.0

    def minus(self, earlier: Totals) -> Totals:
        return Totals(
            self.wall - earlier.wall,
            {k: v - earlier.machine.get(k, ZERO) for k, v in self.machine.items()},
            {k: v - earlier.process.get(k, 0.0) for k, v in self.process.items()},
            {k: v - earlier.overhead.get(k, 0.0) for k, v in self.overhead.items()},
            self.overhead_cpu_s - earlier.overhead_cpu_s,
        )


class OwnCpu:
    """vatio's own CPU seconds since creation.

    In the job's own process (the Python API), only vatio's threads count: each
    reports its `time.thread_time()`, and synchronous ticks add their cost. When
    the job is another process (`vatio run`), all of vatio's process counts.
    """

    def __init__(self, whole_process: bool) -> None:
        self.whole_process = whole_process
        self._lock = threading.Lock()
        self._threads: dict[str, float] = {}
        self._clocks: dict[str, int] = {}
        self._inline = 0.0
        self._children = 0.0
        self._process_at_start = _process_cpu_s() if whole_process else 0.0

    def report_thread(self, name: str, thread_cpu_s: float) -> None:
        """A vatio thread's cumulative CPU time (call from that thread)."""
        with self._lock:
            self._threads[name] = thread_cpu_s

    def watch_thread(self, name: str) -> None:
        """Read the calling thread's CPU clock from any thread until `unwatch_thread`: a
        reading taken while it works (a phase ending mid-manifest, on a loaded machine)
        then counts its CPU time so far as vatio's, not the job's. Call from that thread."""
        try:
            clock = time.pthread_getcpuclockid(threading.get_ident())
        except (AttributeError, OSError):  # not on this platform: reports only
            return
        with self._lock:
            self._clocks[name] = clock

    def unwatch_thread(self, name: str) -> None:
        """The watched thread is about to end (its clock id must not be read after)."""
        with self._lock:
            self._clocks.pop(name, None)

    def add_inline(self, seconds: float) -> None:
        """CPU time vatio spent in a thread of the job (a phase boundary's reading)."""
        with self._lock:
            self._inline += max(seconds, 0.0)

    def add_children(self, seconds: float) -> None:
        """CPU time of helper processes vatio ran and reaped (git for the manifest)."""
        with self._lock:
            self._children += max(seconds, 0.0)

    def total(self) -> float:
        with self._lock:
            for name, clock in self._clocks.items():
                try:
                    now = time.clock_gettime(clock)
                except OSError:
                    continue
                self._threads[name] = max(self._threads.get(name, 0.0), now)
            children = self._children
            own = sum(self._threads.values()) + self._inline
        if self.whole_process:
            return max(_process_cpu_s() - self._process_at_start, 0.0) + children
        return own + children


def _process_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


class Sampler:
    """Reads sensors on a timer and on demand; never lets a sensor error stop the run."""

    def __init__(
        self,
        sensors: list[EnergySensor],
        interval_s: float = 1.0,
        pid: int | None = None,
        max_points: int = 2048,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        limits = [s.max_interval_s for s in sensors if s.max_interval_s]
        self.interval_s = min([interval_s, *limits])
        self.sensors = sensors
        self.timeline = Timeline([s.name for s in sensors], max_points=max_points)
        #: CHILD_LATER: the job is a child process that `attach()` names once spawned
        self.tree = ProcessTree(pid) if pid is not None and pid != CHILD_LATER else None
        self._child_later = pid == CHILD_LATER
        #: vatio's own CPU time; the tree excludes it when the job runs in our process
        self.own_cpu = OwnCpu(whole_process=pid is not None and pid != os.getpid())
        self._own_in_tree = pid is not None and pid == os.getpid()
        self._last_own = 0.0
        self._wall = wall_clock
        self._mono = monotonic
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: Totals | None = None
        self._last_tree_cpu = 0.0
        self._last_busy = 0.0
        #: per CPU sensor: energy and busy CPU-seconds no tracked process has claimed yet
        self._unclaimed: dict[str, tuple[float, float]] = {}
        self.ticks = 0
        self.tick_cost_s = 0.0
        self.pids: tuple[int, ...] = ()
        self._cpu_at_start = (0.0, 0.0)
        #: average machine CPU utilisation (0..1) between start and stop, for hardware-fit checks
        self.cpu_utilisation: float | None = None
        #: for right-sizing: the job's CPU seconds (vatio's own excluded) and peak resident
        #: memory, and how many ticks found the machine's CPUs idle (under IDLE_BUSY_SHARE)
        self.tree_cpu_s = 0.0
        self.tree_rss_peak_bytes = 0.0
        self.idle_ticks = 0
        self.busy_ticks = 0
        self._last_tick_mono: float | None = None

    def start(self, origin: Any = None) -> Totals:
        """Zero every sensor now, or at `origin` (a `vatio.measure.origin.Origin` taken before
        the job was spawned) for the sensors that can read back to it."""
        now = self._mono()
        self.late_start_s: dict[str, float] = {}
        if origin is not None and origin.cpu_busy_s is not None:
            self._cpu_at_start = (origin.cpu_busy_s, origin.cpu_total_s)
        else:
            self._cpu_at_start = _cpu_busy_total()
        for sensor in self.sensors:
            try:
                if origin is None:
                    sensor.start(now)
                elif not sensor.start_from(origin, now):
                    self.late_start_s[sensor.name] = round(max(now - origin.monotonic, 0.0), 6)
            except SensorReadError as error:  # the next good read becomes the zero point
                sensor.errors += 1
                sensor.last_error = str(error)
        if self.tree is not None:
            self._last_tree_cpu = self.tree.sample().cpu_s
        if self.tree is not None or self._child_later:
            self._last_busy = (
                origin.cpu_busy_s
                if origin is not None and origin.cpu_busy_s is not None
                else machine_busy_cpu_s()
            )
        self._last_own = self.own_cpu.total()
        self._last = Totals(
            origin.wall if origin is not None else self._wall(),
            {s.name: ZERO for s in self.sensors},
            {s.name: 0.0 for s in self.sensors},
            {s.name: 0.0 for s in self.sensors},
            0.0,
        )
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="vatio-sampler", daemon=True)
        self._thread.start()
        return self._last

    def attach(self, pid: int) -> None:
        """Attribute to the process tree of `pid`, a child spawned after start(): all its
        CPU time is the job's (its counter started at zero)."""
        with self._lock:
            self.tree = ProcessTree(pid)
            self._last_tree_cpu = 0.0

    def add_root(self, pid: int, cpu_from_s: float = 0.0) -> bool:
        """Attribute another process tree to this job from now on (another local rank of a
        multi-node job whose own part measures no device); True when it is this job's.

        `cpu_from_s`: its CPU time when its part began; the time it spent since then counts
        (paid from the energy of earlier unclaimed busy time, like late-seen children), the
        time before does not."""
        with self._lock:
            if self.tree is None:
                return False
            if self.tree.follows(pid):
                return True  # a descendant of the job already: counted as it is
            before = self.tree.sample().cpu_s
            if not self.tree.add_root(pid):
                return False
            try:
                times = psutil.Process(pid).cpu_times()
                own = times.user + times.system + times.children_user + times.children_system
            except psutil.Error:
                own = cpu_from_s
            added = max(self.tree.sample().cpu_s - before, 0.0)
            self._last_tree_cpu += max(added - max(own - cpu_from_s, 0.0), 0.0)
            return True

    def settle_tree(self, cpu_s: float | None) -> None:
        """The job's exact CPU time once it was reaped (wait4): the last tick counts what no
        sample saw (a job shorter than the interval is then not recorded as using none)."""
        if cpu_s is None or self.tree is None:
            return
        with self._lock:
            self.tree.settle(cpu_s)

    def _loop(self) -> None:
        self.own_cpu.watch_thread("sampler")  # a reading between its tick and its report
        try:
            while not self._stop.wait(self.interval_s):
                self._tick(inline=False)
                self.own_cpu.report_thread("sampler", time.thread_time())
        finally:
            self.own_cpu.unwatch_thread("sampler")
            self.own_cpu.report_thread("sampler", time.thread_time())

    def stop(self) -> Totals:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        totals = self.tick()
        busy0, total0 = self._cpu_at_start
        busy1, total1 = _cpu_busy_total()
        self.cpu_utilisation = share(busy1 - busy0, total1 - total0) if total1 > total0 else None
        return totals

    def tick(self) -> Totals:
        """Sample now (e.g. at a phase boundary); returns cumulative totals since start."""
        return self._tick(inline=True)

    def _tick(self, inline: bool) -> Totals:
        with self._lock:
            began = time.perf_counter()
            cpu_began = time.thread_time()
            totals = self._tick_locked()
            self.tick_cost_s += time.perf_counter() - began
            if inline:  # the sampler thread reports its own time; the caller's thread does not
                self.own_cpu.add_inline(time.thread_time() - cpu_began)
            self.ticks += 1
            return totals

    def _tick_locked(self) -> Totals:
        assert self._last is not None, "Sampler.tick() before start()"
        now = self._mono()
        wall = self._wall()
        machine: dict[str, Reading] = {}
        for sensor in self.sensors:
            try:
                machine[sensor.name] = sensor.read(now)
            except SensorReadError as error:
                sensor.errors += 1
                sensor.last_error = str(error)
                machine[sensor.name] = self._last.machine[sensor.name]
        own_total = self.own_cpu.total()
        own_s = max(own_total - self._last_own, 0.0)
        self._last_own = own_total
        shares = self._process_shares(own_s)
        deltas = []
        process_deltas = []
        process: dict[str, float] = {}
        overhead: dict[str, float] = {}
        for sensor in self.sensors:
            delta = machine[sensor.name] - self._last.machine[sensor.name]
            part = delta.energy_j * shares.get(sensor.device, 1.0) if shares else 0.0
            own_j = 0.0
            if sensor.device == "cpu" and shares:
                part = self._cpu_part(sensor.name, delta.energy_j, shares)
                busy_s = shares["busy_s"]
                own_j = delta.energy_j * min(own_s / busy_s, 1.0) if busy_s > 0 else 0.0
            if sensor.device == "gpu" and self.pids:
                gpu_share = sensor.process_share(self.pids)
                part = delta.energy_j * (1.0 if gpu_share is None else gpu_share)
            deltas.append((delta.energy_j, delta.low_j, delta.high_j))
            process_deltas.append(part)
            process[sensor.name] = self._last.process[sensor.name] + part
            overhead[sensor.name] = self._last.overhead.get(sensor.name, 0.0) + own_j
        self.timeline.add(self._last.wall, wall, deltas, process_deltas)
        self._last = Totals(wall, machine, process, overhead, self._last.overhead_cpu_s + own_s)
        return self._last

    def _process_shares(self, own_s: float) -> dict[str, float]:
        """CPU seconds of the tracked tree (without vatio's) and of the machine since the last
        tick; memory share."""
        if self.tree is None:
            return {}
        sample = self.tree.sample()
        self.pids = sample.pids
        busy = machine_busy_cpu_s()
        tree_s = max(sample.cpu_s - self._last_tree_cpu, 0.0)
        if self._own_in_tree:
            tree_s = max(tree_s - own_s, 0.0)
        busy_s = max(busy - self._last_busy, 0.0)
        self._last_tree_cpu, self._last_busy = sample.cpu_s, busy
        self._count_idle(busy_s)
        self.tree_cpu_s += tree_s
        self.tree_rss_peak_bytes = max(self.tree_rss_peak_bytes, float(sample.rss_bytes))
        used = float(psutil.virtual_memory().used)
        memory_share = share(sample.rss_bytes, used)
        return {"tree_s": tree_s, "busy_s": busy_s, "dram": memory_share, "memory": memory_share}

    def _count_idle(self, busy_s: float) -> None:
        now = self._mono()
        last, self._last_tick_mono = self._last_tick_mono, now
        if last is None or now - last < 0.5 * self.interval_s:
            return  # phase boundaries close together: too short to judge
        capacity = (now - last) * (psutil.cpu_count() or 1)
        if busy_s / capacity < IDLE_BUSY_SHARE:
            self.idle_ticks += 1
        else:
            self.busy_ticks += 1

    def _cpu_part(self, name: str, joules: float, shares: dict[str, float]) -> float:
        """This tick's CPU energy of the tree: its share of this interval's busy time, plus
        time that belonged to earlier intervals.

        A short-lived child's CPU time is only seen once it is reaped (in its parent's
        children_* counters), possibly ticks later. That excess is paid from the energy of
        earlier busy time that no tracked process claimed (at its average J per CPU-second),
        so late-counted work is neither lost nor charged at the wrong interval's power.
        """
        tree_s, busy_s = shares["tree_s"], shares["busy_s"]
        now_s = min(tree_s, busy_s)
        part = joules * (now_s / busy_s) if busy_s > 0 else 0.0
        pool_j, pool_s = self._unclaimed.get(name, (0.0, 0.0))
        pool_j += joules - part
        pool_s += busy_s - now_s
        excess = tree_s - now_s
        if excess > 0 and pool_s > 0:
            taken = min(excess, pool_s)
            moved = pool_j * taken / pool_s
            part += moved
            pool_j -= moved
            pool_s -= taken
        self._unclaimed[name] = (pool_j, pool_s)
        return part

    def latest(self) -> Totals | None:
        """The latest cumulative totals (None before start), without reading any sensor.

        Lock-free: each tick builds a new Totals and swaps it in, so a live view in
        another thread (a metrics endpoint) never waits for a tick nor adds one.
        """
        return self._last


def _cpu_busy_total() -> tuple[float, float]:
    times = psutil.cpu_times()
    total = sum(times)
    return total - times.idle - getattr(times, "iowait", 0.0), total
