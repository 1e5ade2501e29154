"""vatio's client hook for Flower: a ClientApp mod that measures, signs and witnesses.

    from flwr.clientapp import ClientApp
    from vatio.federated.flower.mods import vatio_mod
    app = ClientApp(mods=[vatio_mod])

    enable_cosign(app)  # with a ledger: answer the server's final cosign query

For every message the mod measures the ClientApp's work (wall and CPU time,
this process's energy with its method and range) and the payload bytes in
and out, and returns them in a ConfigRecord named "vatio" of the reply, next
to the app's own ArrayRecord and MetricRecord (strategies ignore it).

With a member key (node config `vatio-key=PATH`, or VATIO_FL_KEY) it also
signs each training update (protocol.py) and, when the server asks, checks
and cosigns the previous round's ledger checkpoint (witness.py); the
server's key comes from the membership file (`vatio-members=PATH`).
Everything else stays the app's business.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECORD = "vatio"  # reply: measurement, signed update, cosignature
COSIGN = "vatio-cosign"  # request: the checkpoint to check and cosign
STATE = "vatio-witness"  # context.state: what this client last cosigned
QUERY_COSIGN = "query.vatio_cosign"


@dataclass
class ClientSetup:
    client_id: str
    run_id: str | None = None
    key: Any = None  # vatio.ledger SigningKey
    server_vkey: str | None = None
    tamper: bool = False  # test hook: alter the update after signing it


_SETUP: dict[int, ClientSetup] = {}
_PREPARED: dict[str, Any] = {}


def prepare_process(plan: Any, index: int) -> None:
    """In a client host, before forking: load what every task of client `index` needs."""
    from vatio.federated.flower import health_app
    from vatio.federated.recording import discover_sensors

    discover_sensors()
    health_app.preload(plan, index)
    _PREPARED["setup"] = setup = _setup_from_plan(plan, index)
    warm_up_ledger(setup.key)


def warm_up_ledger(key: Any) -> None:
    """Import the ledger code and run one signature and check, so forks start warm."""
    from vatio.federated import digest, ledger, protocol, witness  # noqa: F401
    from vatio.ledger import checkpoint, merkle, note  # noqa: F401

    if key is not None:
        message = b"vatio-fl-warm-up\n"
        key.verifier().verify(message, key.sign(message))


def _setup_from_plan(plan: Any, index: int) -> ClientSetup:
    from vatio.ledger import load_or_create_key

    client = plan.client(index)
    key = load_or_create_key(Path(client.key_path), client.client_id)
    server = load_or_create_key(Path(plan.server_key_path))
    return ClientSetup(client.client_id, plan.run_id, key, server.vkey, client.tamper)


def _setup(context: Any) -> ClientSetup:
    if "setup" in _PREPARED:
        return _PREPARED["setup"]
    node = context.node_id
    if node in _SETUP:
        return _SETUP[node]
    config = dict(context.node_config)
    plan_path = config.get("vatio-plan")
    if plan_path:
        from vatio.federated.plan import RunPlan

        setup = _setup_from_plan(RunPlan.load(plan_path), int(config["vatio-client"]))
    else:
        setup = _setup_from_config(config, node)
    _SETUP[node] = setup
    return setup


def _setup_from_config(config: dict[str, Any], node: int) -> ClientSetup:
    """A user's own app: key and membership from the node config or the environment."""
    key = None
    key_path = config.get("vatio-key") or os.environ.get("VATIO_FL_KEY")
    name = str(config.get("vatio-client-id") or f"node-{node}")
    if key_path:
        from vatio.ledger import load_or_create_key

        key = load_or_create_key(Path(str(key_path)), name)
        name = key.name
    server_vkey = None
    members = config.get("vatio-members")
    if members:
        from vatio.federated.ledger import read_membership

        server_vkey = next(
            (m.vkey for m in read_membership(str(members)) if m.role == "server"), None
        )
    return ClientSetup(name, None, key, server_vkey)


def enable_cosign(app: Any) -> Any:
    """Register the query the server sends after the last round to collect cosignatures.

    Flower routes a message only to a registered function; the mod answers it
    (this function is the fallback if the app was built without the mod).
    """

    @app.query("vatio_cosign")
    def _cosign(message: Any, context: Any) -> Any:
        return vatio_mod(message, context, lambda m, c: None)

    return app


def _payload_bytes(message: Any) -> int:
    if message.has_error():
        return 0
    return int(sum(r.count_bytes() for k, r in message.content.items() if k != RECORD))


def _round_of(message: Any) -> int:
    try:
        return int(message.content["config"]["server-round"])
    except (KeyError, TypeError, ValueError):
        return 0


def _witness(message: Any, context: Any, setup: ClientSetup) -> tuple[str, str, float]:
    """Check and cosign the checkpoint the server sent; (cosigned note, reason, CPU s)."""
    if COSIGN not in message.content.config_records or setup.key is None:
        return "", "", 0.0
    if not setup.server_vkey:
        return "", "no server key in the membership", 0.0
    from vatio.federated.witness import WitnessState, witness

    cpu0 = time.process_time()
    request = json.loads(str(message.content[COSIGN]["request"]))
    state = WitnessState.from_dict(_load_state(context))
    result = witness(request, setup.server_vkey, setup.key, state)
    _save_state(context, state)
    return result.cosigned or "", result.reason, time.process_time() - cpu0


def _load_state(context: Any) -> dict[str, Any]:
    try:
        return json.loads(str(context.state.config_records[STATE]["json"]))
    except (KeyError, TypeError, ValueError):
        return {}


def _save_state(context: Any, state: Any) -> None:
    from flwr.app import ConfigRecord

    context.state.config_records[STATE] = ConfigRecord({"json": json.dumps(state.to_dict())})


def vatio_mod(message: Any, context: Any, call_next: Any) -> Any:
    """Measure the app's work on `message`; sign updates and cosign checkpoints if keyed."""
    from flwr.app import ConfigRecord, Message, RecordDict

    from vatio.federated.recording import measure_call

    setup = _setup(context)
    if message.metadata.message_type == QUERY_COSIGN:
        cosigned, reason, cpu = _witness(message, context, setup)
        record = {
            "client": setup.client_id,
            "cosigned": cosigned,
            "cosign_reason": reason,
            "ledger_cpu_s": cpu,
        }
        return Message(RecordDict({RECORD: ConfigRecord(record)}), reply_to=message)

    bytes_in = _payload_bytes(message)
    cosigned, reason, ledger_cpu = _witness(message, context, setup)
    with measure_call() as measured:
        reply = call_next(message, context)
    if reply.has_error():
        return reply
    bytes_out = _payload_bytes(reply)
    measure = {**measured.to_dict(), "bytes_in": bytes_in, "bytes_out": bytes_out}
    record: dict[str, Any] = {
        "client": setup.client_id,
        "measure": json.dumps(measure, sort_keys=True),
        "cosigned": cosigned,
        "cosign_reason": reason,
    }
    if message.metadata.message_type.startswith("train") and setup.key is not None:
        cpu0 = time.process_time()
        signed = _sign(reply, message, context, setup, measure)
        ledger_cpu += time.process_time() - cpu0
        if signed is not None:
            record.update(signed.to_record())
            state = _witness_state(context)
            state.last_signature = signed.signature
            _save_state(context, state)
            if setup.tamper:
                _tamper(reply)
    record["ledger_cpu_s"] = ledger_cpu
    reply.content[RECORD] = ConfigRecord(record)
    return reply


def _witness_state(context: Any) -> Any:
    from vatio.federated.witness import WitnessState

    return WitnessState.from_dict(_load_state(context))


def _arrays(reply: Any) -> dict[str, Any] | None:
    records = reply.content.array_records
    if len(records) != 1:
        return None
    record = next(iter(records.values()))
    return {name: array.numpy() for name, array in record.items()}


def _sign(reply: Any, message: Any, context: Any, setup: ClientSetup, measure: dict) -> Any:
    from vatio.federated.digest import arrays_digest
    from vatio.federated.protocol import make_statement, sign_update

    arrays = _arrays(reply)
    if arrays is None:
        return None
    metrics = next(iter(reply.content.metric_records.values()), {})
    statement = make_statement(
        run=setup.run_id or str(context.run_id),
        round=_round_of(message),
        client=setup.client_id,
        digest=arrays_digest(arrays),
        num_examples=int(metrics.get("num-examples", 0)),
        measure=measure,
    )
    return sign_update(setup.key, statement)


def _tamper(reply: Any) -> None:
    """Test hook: change the update after it was signed, as an attacker in the middle would."""
    from flwr.app import Array, ArrayRecord

    name, record = next(iter(reply.content.array_records.items()))
    changed = {k: Array(v.numpy() + 1.0) for k, v in record.items()}
    reply.content[name] = ArrayRecord(changed)
