"""`vatio fl run`: a real federated run on Flower's deployment engine, measured and audited.

The launcher prepares `.vatio/fl/RUN_ID/` (keys, membership, ledger, plan),
starts the server host and one host per client as separate process trees
talking over 127.0.0.1, measures each tree, waits for the ServerApp to finish,
stops the clients, checks the ledger, and writes `summary.json`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatio.errors import InputError, VatioError
from vatio.federated.plan import ClientPlan, RunPlan

DEFAULT_ROOT = Path(".vatio") / "fl"
SUMMARY = "summary.json"


@dataclass
class FlOptions:
    clients: int = 4
    rounds: int = 5
    example: str = "health"
    model: str = "logreg"
    non_iid: bool = False
    local_epochs: int = 5
    batch_size: int = 16
    learning_rate: float = 2.0
    seed: int = 0
    quorum: int | None = None
    auditor: bool = False
    zone: str | None = None
    client_zones: list[str] | None = None
    within: str | None = None
    deadline: str | None = None
    interruptible: bool = False
    duration: str | None = None
    crash_client: int | None = None
    crash_round: int | None = None
    unlisted_client: int | None = None
    tamper_client: int | None = None
    round_timeout_s: float = 60.0
    executor: str = "warm"
    store: bool = True
    root: Path = field(default_factory=lambda: DEFAULT_ROOT)
    wait: bool = True  # wait for a green window (False: plan only, start now; for tests)

    def check(self) -> None:
        from vatio.federated.model import MODELS

        if self.example != "health":
            raise InputError(f"Unknown example {self.example!r}.", "The bundled example is health.")
        if not 1 <= self.clients <= 32:
            raise InputError("--clients must be between 1 and 32 on one machine.")
        if not 1 <= self.rounds <= 1000:
            raise InputError("--rounds must be between 1 and 1000.")
        if self.model not in MODELS:
            raise InputError(f"Unknown model {self.model!r}.", f"Choose {', '.join(MODELS)}.")
        for name in ("crash_client", "unlisted_client", "tamper_client"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < self.clients:
                raise InputError(
                    f"--{name.replace('_', '-')} must be a client index "
                    f"from 0 to {self.clients - 1}."
                )
        if self.crash_client is not None and self.crash_round is None:
            self.crash_round = min(2, self.rounds)
        if self.crash_round is not None and not 1 <= self.crash_round <= self.rounds:
            raise InputError(f"--crash-round must be between 1 and {self.rounds}.")
        cosigners = self.clients - (self.unlisted_client is not None) + int(self.auditor)
        if self.quorum is not None and not 0 <= self.quorum <= cosigners:
            raise InputError(
                f"--quorum {self.quorum} is more than the {cosigners} members who can cosign.",
                "Use a smaller quorum, or --auditor to add one more cosigner.",
            )
        if self.client_zones is not None and len(self.client_zones) != self.clients:
            raise InputError(
                f"--client-zones lists {len(self.client_zones)} zone(s) for {self.clients} "
                "clients.",
                "Give one zone per client, e.g. --client-zones ES,FR,DE,PL.",
            )
        if (self.within or self.deadline or self.interruptible) and not self.zone:
            raise InputError("--within, --deadline and --interruptible need --zone.")
        if self.executor not in ("warm", "stock"):
            raise InputError("--executor is warm or stock.")
        if self.round_timeout_s <= 0:
            raise InputError("--round-timeout must be positive.")

    def default_quorum(self) -> int:
        """A majority of the clients that can cosign (so one crash does not break it)."""
        listed = self.clients - (self.unlisted_client is not None)
        return listed // 2 + 1 if listed > 1 else listed


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pseudonym() -> str:
    """A client id that names no person or machine."""
    return f"c-{secrets.token_hex(3)}"


def prepare(
    options: FlOptions, run_id: str, folder: Path, slots: list[list[float]] | None = None
) -> RunPlan:
    """Keys, membership, ledger and plan of a new run in `folder`."""
    from vatio.federated.flower.env import flower_version
    from vatio.federated.ledger import FlLedger, MemberSpec, write_membership
    from vatio.ledger import load_or_create_key

    keys = folder / "keys"
    server_key = load_or_create_key(keys / "server.key", "server")
    clients = []
    for i in range(options.clients):
        name = pseudonym()
        key_path = keys / f"{name}.key"
        load_or_create_key(key_path, name)
        zone = options.client_zones[i] if options.client_zones else options.zone
        clients.append(
            ClientPlan(
                index=i,
                client_id=name,
                key_path=str(key_path),
                runtime_port=free_port(),
                zone=zone,
                crash_round=options.crash_round if i == options.crash_client else None,
                unlisted=i == options.unlisted_client,
                tamper=i == options.tamper_client,
            )
        )
    members = [MemberSpec(server_key.vkey, "server")]
    for c in clients:
        if not c.unlisted:
            members.append(MemberSpec(load_or_create_key(Path(c.key_path)).vkey, "client"))
    auditor_path = None
    if options.auditor:
        auditor_path = keys / "auditor.key"
        members.append(MemberSpec(load_or_create_key(auditor_path, "auditor").vkey, "auditor"))
    membership = write_membership(folder / "members.json", members)
    quorum = options.quorum if options.quorum is not None else options.default_quorum()
    plan = RunPlan(
        run_id=run_id,
        folder=str(folder.resolve()),
        rounds=options.rounds,
        example=options.example,
        model=options.model,
        non_iid=options.non_iid,
        local_epochs=options.local_epochs,
        batch_size=options.batch_size,
        learning_rate=options.learning_rate,
        seed=options.seed,
        quorum=quorum,
        superlink_port=free_port(),
        server_key_path=str(keys / "server.key"),
        auditor_key_path=str(auditor_path) if auditor_path else None,
        members_path=str(membership),
        round_timeout_s=options.round_timeout_s,
        zone=options.zone,
        executor=options.executor,
        clients=clients,
        green_slots=slots,
    )
    header = {
        "rounds": options.rounds,
        "clients": options.clients,
        "quorum": quorum,
        "example": options.example,
        "model": options.model,
        "non_iid": options.non_iid,
        "local_epochs": options.local_epochs,
        "flower": flower_version(),
        "engine": "flower deployment engine (SuperLink, SuperNodes) on 127.0.0.1",
    }
    FlLedger.create(plan.ledger_dir, run_id, server_key, members, header)
    plan.save()
    return plan


class Hosts:
    """The server and client host processes, each a process group of its own."""

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: list[Any] = []

    def start(self, key: str, args: list[str]) -> subprocess.Popen:
        from vatio.federated.flower.env import process_env

        logs = Path(self.plan.folder) / "logs"
        logs.mkdir(exist_ok=True)
        log = open(logs / f"host-{key}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        home = Path(self.plan.folder) / "flwr" / key
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vatio.federated.flower.host",
                *args,
                "--plan",
                str(self.plan.path),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=process_env(home),
            start_new_session=True,
        )
        self.procs[key] = proc
        return proc

    def stop(self, keys: list[str], grace_s: float = 10.0) -> None:
        """SIGTERM the hosts' process groups together, SIGKILL what is left after `grace_s`."""
        procs = [self.procs[k] for k in keys if k in self.procs]
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(deadline - time.monotonic(), 0.0))
        for proc in procs:  # whatever a host forked and left behind, and hosts that hang
            _signal_group(proc, signal.SIGKILL)
            proc.wait()

    def close(self) -> None:
        self.stop(list(self.procs), grace_s=3.0)
        for log in self._logs:
            log.close()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _progress_rounds(plan: RunPlan) -> int:
    try:
        text = (plan.ledger_dir / "entries.jsonl").read_text(encoding="utf-8")
    except OSError:
        return 0
    return text.count('"kind":"fl/round"')


def execute(
    options: FlOptions,
    *,
    on_round: Callable[[int, int], None] | None = None,
    on_plan: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run the federated example end to end; returns the summary (also in summary.json)."""
    from vatio.federated.flower.env import flower_version
    from vatio.federated.recording import TreeRecorder

    options.check()
    flower_version()
    green = _green(options)
    if green is not None and on_plan is not None:
        on_plan(green.record)
    if green is not None and options.wait:
        from vatio.schedule.runner import wait_until

        if not wait_until(green.start, progress=sys.stderr.isatty()):
            raise VatioError("Interrupted while waiting for the green window; nothing ran.")
    recorder = TreeRecorder(zone=options.zone, store=options.store, name="fl")
    run_id = recorder.start_run()
    if green is not None:
        recorder.set_schedule(green.record)
    folder = (options.root / run_id).resolve()
    folder.mkdir(parents=True, exist_ok=False)
    slots = [list(s) for s in green.slots] if green is not None and green.slots else None
    plan = prepare(options, run_id, folder, slots)
    if green is not None:
        (folder / "green-plan.json").write_text(json.dumps(green.record, indent=2))
    hosts = Hosts(plan)
    started = time.time()
    status = "completed"
    try:
        server = hosts.start("server", ["server"])
        recorder.start_party("server", "fl-server", server.pid, options.zone)
        for c in plan.clients:
            proc = hosts.start(f"client-{c.index}", ["client", "--index", str(c.index)])
            recorder.start_party(f"client-{c.index}", "fl-client", proc.pid, c.zone)
        deadline = time.monotonic() + 120 + plan.rounds * (plan.round_timeout_s + 30)
        seen = 0
        while server.poll() is None:
            if time.monotonic() > deadline:
                status = "failed"
                break
            done = _progress_rounds(plan)
            if done != seen and on_round is not None:
                on_round(done, plan.rounds)
            seen = done
            time.sleep(0.2)
        if server.returncode not in (0, None):
            status = "failed"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        hosts.stop([k for k in hosts.procs if k.startswith("client")])
        wall_s = time.time() - started
        hosts.close()
        for key in list(recorder.trackers):
            if key != "run":
                recorder.set_extension(key, "federated", _party_section(plan, key))
                code = hosts.procs[key].returncode if key in hosts.procs else None
                recorder.stop(key, "completed" if status == "completed" else status, code)
    summary = summarise(plan, recorder, wall_s, status, green.record if green else None)
    recorder.set_extension("run", "federated", summary_section(summary))
    model = folder / "final_model.npz"
    if model.is_file():
        recorder.add_artifact("run", model, "model")
    recorder.stop("run", status, 0 if status == "completed" else 1)
    summary["records"]["run"] = _record(recorder.results["run"])
    (folder / SUMMARY).write_text(json.dumps(summary, indent=2, default=str))
    if status != "completed":
        raise VatioError(
            f"The federated run {run_id} did not complete ({status}).",
            f"See the logs in {folder / 'logs'}.",
        )
    return summary


def _green(options: FlOptions) -> Any:
    if not options.zone or not (options.within or options.deadline or options.interruptible):
        return None
    from vatio.federated.schedule import estimate_duration_s, green_plan
    from vatio.units import parse_duration, parse_time

    duration = parse_duration(options.duration) if options.duration else None
    return green_plan(
        options.zone,
        duration_s=duration or estimate_duration_s(options.rounds),
        within_s=parse_duration(options.within, what="--within") if options.within else None,
        deadline=parse_time(options.deadline, what="--deadline") if options.deadline else None,
        client_zones=options.client_zones,
        interruptible=options.interruptible,
        estimated=duration is None,
    )


def _record(result: Any) -> dict[str, Any]:
    from vatio.federated.recording import record_summary

    return record_summary(result)


def summarise(
    plan: RunPlan, recorder: Any, wall_s: float, status: str, green: dict[str, Any] | None
) -> dict[str, Any]:
    """Everything a person, a report or provenance needs about the run."""
    from vatio.federated.ledger import verify_fl_log
    from vatio.federated.ledger_cost import ledger_cost

    folder = Path(plan.folder)
    results = {}
    if plan.results_path.exists():
        results = json.loads(plan.results_path.read_text())
    if plan.auditor_key_path and plan.ledger_dir.exists():
        from vatio.federated.audit import auditor_cosign

        auditor_cosign(plan.ledger_dir, Path(plan.auditor_key_path))
    report = verify_fl_log(plan.ledger_dir, members_file=plan.members_path)
    entries = report.log.get("checked_entries") or 0
    records = {key: _record(result) for key, result in recorder.results.items()}
    clients = []
    nodes = _node_ids(folder, len(plan.clients))
    for c in plan.clients:
        rec = records.get(f"client-{c.index}", {})
        rounds = [
            next(
                (
                    p
                    for p in r.get("per_client", [])
                    if p.get("client") == c.client_id or p.get("node_id") == nodes.get(c.index)
                ),
                None,
            )
            for r in results.get("rounds", [])
        ]
        ok = [p for p in rounds if p and p.get("status") == "ok"]
        clients.append(
            {
                "client": c.client_id,
                "index": c.index,
                "zone": c.zone,
                "record": rec,
                "rounds_ok": len(ok),
                "statuses": [p.get("status") if p else "absent" for p in rounds],
                "train_energy_j": sum(p["measure"].get("energy_j", 0.0) for p in ok),
                "train_cpu_s": sum(p["measure"].get("cpu_s", 0.0) for p in ok),
                "bytes_down": sum(p.get("bytes_down", 0) for p in rounds if p),
                "bytes_up": sum(p.get("bytes_up", 0) for p in ok),
                "samples": sum(p.get("samples", 0) for p in ok),
                "crash_round": c.crash_round,
                "unlisted": c.unlisted,
                "tamper": c.tamper,
                "task_failures": _task_failures(folder, c.index),
            }
        )
    rounds = [_round_row(r, records) for r in results.get("rounds", [])]
    party_energy = sum(v.get("energy_j") or 0.0 for k, v in records.items() if k != "run")
    return {
        "run_id": plan.run_id,
        "status": status,
        "folder": str(folder),
        "wall_s": wall_s,
        "plan": {k: v for k, v in plan.to_dict().items() if k != "clients"},
        "clients": clients,
        "rounds": rounds,
        "initial_metrics": results.get("initial_metrics", {}),
        "final": results.get("final", {}),
        "final_accuracy": (rounds[-1]["metrics"].get("accuracy") if rounds else None),
        "energy": {
            "parties_j": party_energy,
            "machine_j": None,
            "method": "process trees of the server and client hosts (vatio attribution)",
        },
        "bytes": {
            "down": sum(r["bytes_down"] for r in rounds),
            "up": sum(r["bytes_up"] for r in rounds),
            "note": "payload bytes of Flower records; HTTP and protobuf framing not counted",
        },
        "ledger": {
            "path": str(plan.ledger_dir),
            "verified": report.ok,
            "summary": report.summary(),
            "report": report.to_dict(),
            "cost": ledger_cost(rounds, entries),
        },
        "green": green,
        "records": records,
    }


def _node_ids(folder: Path, clients: int) -> dict[int, int]:
    """Client index -> Flower node id, from each SuperNode's log (a reply may never come)."""
    import re

    out = {}
    for index in range(clients):
        try:
            text = (folder / "logs" / f"supernode-{index}.log").read_text(errors="replace")
        except OSError:
            continue
        found = re.search(r"SuperNode ID: (\d+)", text)
        if found:
            out[index] = int(found.group(1))
    return out


def _task_failures(folder: Path, index: int) -> list[dict[str, Any]]:
    """ClientApp task processes of one client that did not exit cleanly (crashes)."""
    path = folder / "tasks" / f"client-{index}.jsonl"
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("exit_code") != 0]


def _round_row(r: dict[str, Any], records: dict[str, Any]) -> dict[str, Any]:
    from vatio.federated.ledger_cost import round_ledger_cost
    from vatio.federated.recording import window_energy

    energy = r.get("energy", {})
    window = [
        window_energy(
            rec.get("timeline"),
            r.get("started") or 0.0,
            (r.get("started") or 0.0) + (r.get("wall_s") or 0.0),
        )
        for key, rec in records.items()
        if key != "run"
    ]
    processes_j = sum(w for w in window if w is not None) if any(window) else None
    clients_j = energy.get("clients_j") or 0.0
    server_j = energy.get("server_j") or 0.0
    return {
        "round": r["round"],
        "metrics": r.get("metrics", {}),
        "wall_s": r.get("wall_s"),
        "energy_j": clients_j + server_j,
        "low_j": (energy.get("clients_low_j") or 0.0) + (energy.get("server_low_j") or 0.0),
        "high_j": (energy.get("clients_high_j") or 0.0) + (energy.get("server_high_j") or 0.0),
        "method": energy.get("method"),
        "clients": r.get("clients", {}),
        "slowest": r.get("slowest"),
        "bytes_down": r.get("bytes", {}).get("down", 0),
        "bytes_up": r.get("bytes", {}).get("up", 0),
        "cosigners": r.get("cosigners", []),
        "processes_j": processes_j,
        "ledger": round_ledger_cost(r, processes_j),
    }


def _party_section(plan: RunPlan, key: str) -> dict[str, Any]:
    """The "federated" section of a server's or client's record: which run, which party."""
    section: dict[str, Any] = {"run_id": plan.run_id, "folder": plan.folder}
    if key == "server":
        return {**section, "role": "server", "rounds": plan.rounds, "quorum": plan.quorum}
    client = plan.client(int(key.split("-")[1]))
    return {**section, "role": "client", "client": client.client_id, "zone": client.zone,
            "unlisted": client.unlisted, "crash_round": client.crash_round}  # fmt: skip


def summary_section(summary: dict[str, Any]) -> dict[str, Any]:
    """The "fl" section of the run record: small, JSON, no logs."""
    return {
        "run_id": summary["run_id"],
        "folder": summary["folder"],
        "rounds": [
            {k: r[k] for k in ("round", "metrics", "energy_j", "low_j", "high_j", "wall_s")}
            for r in summary["rounds"]
        ],
        "clients": [
            {k: c[k] for k in ("client", "zone", "rounds_ok", "train_energy_j", "bytes_up")}
            for c in summary["clients"]
        ],
        "final": summary["final"],
        "ledger": {
            "verified": summary["ledger"]["verified"],
            "summary": summary["ledger"]["summary"],
        },
    }


def load_summary(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / SUMMARY
    if not path.is_file():
        raise InputError(f"{folder} holds no federated run summary ({SUMMARY}).")
    return json.loads(path.read_text(encoding="utf-8"))
