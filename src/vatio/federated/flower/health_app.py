"""The bundled example as a Flower ServerApp and ClientApp (Flower's Message API).

Clients train the compact model (model.py) on their share of the breast-cancer
data (data.py) for a few local epochs; the server runs FedAvg with vatio's
server hook and evaluates the global model on the held-out test split after
every round. The ClientApp carries `vatio_mod`, so every update is measured
and signed, and a client planned to crash kills its own ClientApp process
halfway through that round's training (a real crash, not an exception).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg

from vatio.federated import data, model
from vatio.federated.flower.mods import enable_cosign, vatio_mod
from vatio.federated.plan import RunPlan

_CACHE: dict[str, Any] = {}


def preload(plan: RunPlan, index: int) -> None:
    """Load the plan and this client's data before the host forks its task processes."""
    _CACHE["plan"] = plan
    _CACHE["split"] = data.client_split(
        index, len(plan.clients), non_iid=plan.non_iid, seed=plan.seed
    )


def _plan(context: Context) -> RunPlan:
    if "plan" not in _CACHE:
        _CACHE["plan"] = RunPlan.load(
            str(context.run_config.get("vatio-plan") or context.node_config.get("vatio-plan"))
        )
    return _CACHE["plan"]


def _client_data(context: Context) -> data.Split:
    if "split" not in _CACHE:
        plan = _plan(context)
        index = int(context.node_config["partition-id"])
        _CACHE["split"] = data.client_split(
            index, len(plan.clients), non_iid=plan.non_iid, seed=plan.seed
        )
    return _CACHE["split"]


def to_record(params: model.Params) -> ArrayRecord:
    return ArrayRecord({k: Array(v) for k, v in params.items()})


def from_record(record: ArrayRecord) -> model.Params:
    return {k: v.numpy() for k, v in record.items()}


client_app = enable_cosign(ClientApp(mods=[vatio_mod]))


@client_app.train()
def train(message: Message, context: Context) -> Message:
    plan = _plan(context)
    split = _client_data(context)
    index = int(context.node_config["partition-id"])
    server_round = int(message.content["config"]["server-round"])
    params = from_record(message.content["arrays"])
    crash = plan.client(index).crash_round
    epochs = plan.local_epochs
    if crash is not None and server_round == crash:
        model.train(
            params,
            split.x,
            split.y,
            epochs=max(epochs // 2, 1),
            batch_size=plan.batch_size,
            lr=plan.learning_rate,
        )
        os.kill(os.getpid(), signal.SIGKILL)  # the ClientApp process dies mid-round
    params, stats = model.train(
        params,
        split.x,
        split.y,
        epochs=epochs,
        batch_size=plan.batch_size,
        lr=plan.learning_rate,
        seed=plan.seed * 1000 + server_round * 10 + index,
    )
    metrics = MetricRecord(
        {"num-examples": len(split), "samples": stats.samples, "train-loss": stats.loss}
    )
    return Message(RecordDict({"arrays": to_record(params), "metrics": metrics}), reply_to=message)


server_app = ServerApp()


@server_app.main()
def main(grid: Grid, context: Context) -> None:
    from vatio.federated.flower.server import VatioServer
    from vatio.federated.ledger import FlLedger
    from vatio.ledger import load_or_create_key

    plan = _plan(context)
    _, test = data.train_test(plan.seed)
    initial = model.init_params(plan.model, test.x.shape[1], plan.seed)
    ledger = FlLedger.open(plan.ledger_dir) if plan.ledger_dir.exists() else None
    hook = VatioServer(
        plan.run_id,
        rounds=plan.rounds,
        ledger=ledger,
        server_key=load_or_create_key(Path(plan.server_key_path)),
        round_timeout_s=plan.round_timeout_s,
        poll_s=plan.poll_s,
        results_path=plan.results_path,
        model_path=Path(plan.folder) / "final_model.npz",
        slots=plan.green_slots,
    )

    def central_evaluation(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        params = from_record(arrays)
        return MetricRecord(
            {
                "accuracy": model.accuracy(params, test.x, test.y),
                "loss": model.log_loss(params, test.x, test.y),
            }
        )

    clients = len(plan.clients)
    strategy = FedAvg(
        fraction_train=1.0,
        fraction_evaluate=0.0,
        min_train_nodes=clients,
        min_available_nodes=clients,
    )
    wrapped = hook.grid(grid)
    result = strategy.start(
        grid=wrapped,
        initial_arrays=to_record(initial),
        num_rounds=plan.rounds,
        timeout=plan.round_timeout_s,
        train_config=ConfigRecord({"local-epochs": plan.local_epochs}),
        evaluate_fn=hook.evaluate_fn(central_evaluation),
    )
    hook.finish(wrapped, result.arrays)
