"""`vatio fl run`: a real federated run on Flower's deployment engine, measured and audited.

The launcher prepares `.vatio/fl/RUN_ID/` (keys, membership, ledger, plan),
starts the server host and one host per client as separate process trees
talking over 127.0.0.1, measures each tree, waits for the ServerApp to finish,
stops the clients, checks the ledger, and writes `summary.json`.
"""

from __future__ import annotations

import json
import secrets
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vatio.errors import VatioError
from vatio.federated.hosts import Hosts
from vatio.federated.options import DEFAULT_ROOT, FlOptions
from vatio.federated.plan import ClientPlan, RunPlan
from vatio.federated.summary import (
    SUMMARY,
    load_summary,
    party_section,
    record_of,
    summarise,
    summary_section,
)

__all__ = ["DEFAULT_ROOT", "FlOptions", "execute", "load_summary", "prepare"]


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
                recorder.set_extension(key, "federated", party_section(plan, key))
                code = hosts.procs[key].returncode if key in hosts.procs else None
                recorder.stop(key, "completed" if status == "completed" else status, code)
    summary = summarise(plan, recorder, wall_s, status, green.record if green else None)
    recorder.set_extension("run", "federated", summary_section(summary))
    model = folder / "final_model.npz"
    if model.is_file():
        recorder.add_artifact("run", model, "model")
    recorder.stop("run", status, 0 if status == "completed" else 1)
    summary["records"]["run"] = record_of(recorder.results["run"])
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
