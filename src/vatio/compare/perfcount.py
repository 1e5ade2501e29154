"""Hardware instruction counts through Linux perf events, with no `perf` tool.

`perf_event_open(2)` is called through ctypes: the `perf` binary is a separate,
kernel-version-specific package (linux-tools-$(uname -r)) that CI images rarely
carry, while the system call is what it uses anyway. When the call fails, the
`perf` tool would fail too.

The counter must see the job and nothing else, so it is opened in a small
launcher process (`python -m vatio.compare.perfcount OUT -- CMD`) rather than in
vatio itself (whose recorder spawns helpers of its own): the launcher opens a
disabled, inherited, user-space-only counter with `enable_on_exec`, spawns the
command (the counter starts when the command's program starts), waits, and reads
the total of the command and every descendant that exited. The launcher's own
instructions are never counted.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import struct
import sys

#: perf_event_open's number in the system-call table, by machine
SYSCALL = {"x86_64": 298, "aarch64": 241, "riscv64": 241, "ppc64le": 319, "s390x": 331}
#: (type, config): PERF_TYPE_HARDWARE/INSTRUCTIONS; PERF_TYPE_SOFTWARE/TASK_CLOCK (for tests:
#: every Linux has it, also VMs without a PMU)
EVENTS = {"instructions": (0, 1), "task-clock": (1, 1)}
_DISABLED, _INHERIT, _EXCLUDE_KERNEL, _EXCLUDE_HV, _ENABLE_ON_EXEC = 0, 1, 5, 6, 12
_FORMAT_TIMES = 1 | 2  # TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING
_FD_CLOEXEC = 8


class CounterUnavailable(Exception):
    """This machine does not let a process count its children's instructions."""


def _attr(kind: int, config: int) -> bytes:
    flags = 0
    for bit in (_DISABLED, _INHERIT, _EXCLUDE_KERNEL, _EXCLUDE_HV, _ENABLE_ON_EXEC):
        flags |= 1 << bit
    # struct perf_event_attr, PERF_ATTR_SIZE_VER0 (64 bytes): type, size, config,
    # sample_period, sample_type, read_format, flag bits, wakeup_events, bp_type, bp_addr
    return struct.pack("IIQQQQQIIQ", kind, 64, config, 0, 0, _FORMAT_TIMES, flags, 0, 0, 0)


def open_counter(event: str = "instructions") -> int:
    """A file descriptor counting `event` for this process's future children (from exec)."""
    number = SYSCALL.get(os.uname().machine)
    if sys.platform != "linux" or number is None:
        raise CounterUnavailable(f"perf events are not supported on {os.uname().machine}")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    attr = ctypes.create_string_buffer(_attr(*EVENTS[event]))
    fd = libc.syscall(
        ctypes.c_long(number),
        attr,
        ctypes.c_long(0),  # pid 0: this process (and, inherited, its children)
        ctypes.c_long(-1),  # any CPU
        ctypes.c_long(-1),  # no group
        ctypes.c_ulong(_FD_CLOEXEC),
    )
    if fd < 0:
        errno = ctypes.get_errno()
        raise CounterUnavailable(_why(errno))
    return int(fd)


def _why(errno: int) -> str:
    import errno as codes

    if errno in (codes.ENOENT, codes.EOPNOTSUPP, codes.ENODEV):
        return "this CPU exposes no hardware instruction counter (common in VMs)"
    if errno in (codes.EACCES, codes.EPERM):
        try:
            with open("/proc/sys/kernel/perf_event_paranoid", encoding="ascii") as handle:
                level = handle.read().strip()
        except OSError:
            level = "?"
        return f"perf events are not allowed here (kernel.perf_event_paranoid = {level})"
    if errno == codes.ENOSYS:
        return "the kernel has no perf events"
    return f"perf_event_open failed: {os.strerror(errno)}"


def available(event: str = "instructions") -> str | None:
    """None when `event` can be counted here, else the reason it cannot."""
    try:
        os.close(open_counter(event))
    except CounterUnavailable as error:
        return str(error)
    return None


def read_counter(fd: int) -> dict[str, int]:
    """value (scaled when the kernel multiplexed the counter), time enabled and running."""
    value, enabled, running = struct.unpack("QQQ", os.read(fd, 24))
    scaled = running > 0 and running < enabled
    return {
        "value": round(value * enabled / running) if scaled else value,
        "raw": value,
        "time_enabled_ns": enabled,
        "time_running_ns": running,
        "scaled": scaled,
    }


def main(argv: list[str]) -> int:
    """Launcher: `OUT [--event E] -- CMD...`; writes the count to OUT, exits as CMD did."""
    from vatio.process import supervise

    if "--" not in argv or argv.index("--") < 1:
        sys.stderr.write("usage: python -m vatio.compare.perfcount OUT [--event E] -- CMD...\n")
        return 2
    split = argv.index("--")
    head, command = argv[:split], argv[split + 1 :]
    out = head[0]
    event = head[head.index("--event") + 1] if "--event" in head else "instructions"
    try:
        fd = open_counter(event)
    except CounterUnavailable as error:
        _write(out, {"error": str(error)})
        return 125
    outcome = supervise(command)
    counts = read_counter(fd)
    os.close(fd)
    _write(out, {"event": event, **counts, "exit_code": outcome.exit_code})
    if outcome.exit_code > 128 and outcome.status in ("killed", "interrupted"):
        signum = outcome.exit_code - 128  # end the way the command ended
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    return outcome.exit_code


def _write(path: str, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
