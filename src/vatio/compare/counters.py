"""Counting the work instead of timing it: an instruction-count proxy for the gate.

Energy on a shared runner varies 10-30 % between identical runs; the number of
instructions a CPU-bound Python benchmark executes does not vary at all with a
fixed hash seed (about 3 % with a random one; vatio fixes it unless the user
set it). vatio counts them with the CPU's hardware counter through Linux perf
events where the machine exposes one (`counted:perf`; bare metal, some cloud
instances), else by running the job under Valgrind's cachegrind
(`counted:cachegrind`; it translates every instruction: a loop-heavy Python job
used 31x the CPU time on the development VM, plus ~3 s per interpreter start,
and counts what the simulated CPU executes, on any x86/ARM Linux).

The figure is an **instruction-count proxy**: more instructions usually means
more energy for CPU-bound work, but it is not joules, and it says nothing of
GPU work, waiting or memory stalls. The two methods count slightly different
things (perf counts what the real CPU retired; cachegrind what its simulated
one did), so a baseline is only compared with a candidate of the same method.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatio.errors import InputError, VatioError

COUNTERS = ("instructions",)
TOOLS = ("auto", "perf", "cachegrind")
LABEL = "instruction-count proxy (not energy)"


@dataclass
class Count:
    """Instructions one run executed, with how they were counted."""

    value: int
    method: str  # counted:perf | counted:cachegrind
    processes: int = 1
    details: dict[str, Any] = field(default_factory=dict)


class Counter:
    """How to run a command so that its instructions are counted, and how to read them."""

    method = ""
    tool = ""

    def wrap(self, command: list[str], workdir: Path) -> list[str]:
        raise NotImplementedError

    def read(self, workdir: Path) -> Count:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        """The job's environment: a fixed hash seed, so a Python job repeats its work."""
        env = dict(os.environ)
        env.setdefault("PYTHONHASHSEED", "0")
        return env

    def section(self, count: Count) -> dict[str, Any]:
        """The record's description of the count (extensions.compare.counter)."""
        return {
            "metric": "instructions",
            "value": count.value,
            "unit": "instructions",
            "method": count.method,
            "label": LABEL,
            "tool": self.tool,
            "processes": count.processes,
            "python_hash_seed": self.env().get("PYTHONHASHSEED"),
            "details": count.details,
        }


class PerfCounter(Counter):
    """The CPU's retired-instruction counter (user space), through `vatio.compare.perfcount`."""

    method = "counted:perf"
    tool = "perf_event_open (instructions, user space)"

    def __init__(self, event: str = "instructions") -> None:
        self.event = event

    def wrap(self, command: list[str], workdir: Path) -> list[str]:
        out = str(workdir / "perf.json")
        launcher = [sys.executable, "-m", "vatio.compare.perfcount", out]
        return [*launcher, "--event", self.event, "--", *command]

    def read(self, workdir: Path) -> Count:
        path = workdir / "perf.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise VatioError(
                "The perf counter wrote no count (the launcher did not finish).",
                "Check that the command runs on its own.",
            ) from None
        if "error" in data:
            raise VatioError(f"Cannot count instructions with perf: {data['error']}.")
        details = {k: data[k] for k in ("time_enabled_ns", "time_running_ns", "scaled", "event")}
        return Count(int(data["value"]), self.method, details=details)


class CachegrindCounter(Counter):
    """Valgrind's cachegrind without cache simulation: instructions executed (Ir)."""

    method = "counted:cachegrind"

    def __init__(self, valgrind: str) -> None:
        self.valgrind = valgrind
        self.tool = f"{valgrind_version(valgrind)} cachegrind --cache-sim=no"

    def wrap(self, command: list[str], workdir: Path) -> list[str]:
        return [
            self.valgrind,
            "--tool=cachegrind",
            "--cache-sim=no",
            "--trace-children=yes",
            f"--cachegrind-out-file={workdir}/cachegrind.out.%p",
            f"--log-file={workdir}/valgrind.log.%p",  # keep the job's own stderr clean
            *command,
        ]

    def read(self, workdir: Path) -> Count:
        files = sorted(workdir.glob("cachegrind.out.*"))
        if not files:
            log = _first_log_lines(workdir)
            raise VatioError(
                "Valgrind wrote no instruction count" + (f" ({log})." if log else "."),
                "Check that the command runs under valgrind: valgrind --tool=cachegrind CMD.",
            )
        total = sum(parse_valgrind_output(p.read_text(encoding="utf-8")) for p in files)
        return Count(total, self.method, processes=len(files))


def _first_log_lines(workdir: Path) -> str:
    for log in sorted(workdir.glob("valgrind.log.*")):
        lines = [
            line.split("== ", 1)[-1].strip()
            for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
        ]
        useful = [line for line in lines if line and not line.startswith("warning: L3")]
        if useful:
            return "; ".join(useful[-2:])
    return ""


_EVENTS = re.compile(r"^events:\s*(.+)$", re.MULTILINE)
_TOTAL = re.compile(r"^(summary|totals):\s*(.+)$", re.MULTILINE)


def parse_valgrind_output(text: str, event: str = "Ir") -> int:
    """The `event` total of a cachegrind or callgrind output file (`events:` + `summary:`)."""
    events = _EVENTS.search(text)
    totals = {m.group(1): m.group(2) for m in _TOTAL.finditer(text)}
    line = totals.get("summary") or totals.get("totals")
    if events is None or line is None:
        raise VatioError(
            "A valgrind output file has no events/summary line; it is not cachegrind's."
        )
    names, values = events.group(1).split(), line.split()
    if event not in names:
        raise VatioError(f"The valgrind output counts {', '.join(names)}, not {event}.")
    index = names.index(event)
    return int(values[index]) if index < len(values) else 0


def valgrind_version(valgrind: str) -> str:
    try:
        done = subprocess.run(
            [valgrind, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "valgrind"
    return done.stdout.strip() or "valgrind"


def choose_counter(counter: str, tool: str = "auto") -> Counter:
    """The best instruction counter this machine offers (or the one asked for)."""
    from vatio.compare import perfcount

    if counter not in COUNTERS:
        raise InputError(f"Unknown counter {counter!r}.", f"Use --counter {' or '.join(COUNTERS)}.")
    if tool not in TOOLS:
        raise InputError(f"Unknown counter tool {tool!r}.", f"Use one of: {', '.join(TOOLS)}.")
    perf_problem = perfcount.available() if tool in ("auto", "perf") else None
    if tool == "perf" and perf_problem:
        raise InputError(
            f"Cannot count instructions with perf events here: {perf_problem}.",
            "Use --counter-tool cachegrind (valgrind) instead.",
        )
    if tool == "perf" or (tool == "auto" and perf_problem is None):
        return PerfCounter()
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        reason = f"perf events: {perf_problem}; " if perf_problem else ""
        raise InputError(
            f"No instruction counter here ({reason}valgrind is not installed).",
            "Install valgrind (apt-get install valgrind) or measure energy without --counter.",
        )
    return CachegrindCounter(valgrind)
