"""vatio's server hook for Flower: a Grid wrapper that measures, checks and logs every round.

    hook = VatioServer(run_id, rounds=..., ledger=..., server_key=...)
    result = strategy.start(grid=hook.grid(grid), ..., evaluate_fn=hook.evaluate_fn(fn))
    hook.finish(result.arrays)

It works with any Flower strategy because it sits where messages go out and
replies come in. Per round and client it counts payload bytes down and up,
reads the measurement the client mod sent, and (with a ledger) applies the
permission rules of protocol.py: a rejected update becomes an error reply, so
the strategy never aggregates it, and the rejection is logged. Then it logs
the aggregate's digest, the round's energy, and a signed checkpoint that the
clients cosign in the next round (the last one through a final query).

It also polls for replies every `poll_s` instead of Flower's fixed 3 s, and
stops waiting after `round_timeout_s`: a crashed client then counts as a
failure of that round, and the run goes on with the others.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from vatio.federated.flower.grid import collect, make_grid, numpy_arrays, reply_arrays
from vatio.federated.flower.mods import COSIGN, QUERY_COSIGN, RECORD
from vatio.federated.flower.rounds import ClientRound, RoundState


class VatioServer:
    """The server side of a measured (and, with a ledger, audited) Flower run."""

    def __init__(
        self,
        run_id: str,
        *,
        rounds: int,
        ledger: Any = None,
        server_key: Any = None,
        round_timeout_s: float = 60.0,
        poll_s: float = 0.1,
        results_path: Path | None = None,
        model_path: Path | None = None,
        slots: list[list[float]] | None = None,
    ) -> None:
        from vatio.federated.recording import CallMeter

        self.run_id = run_id
        self.rounds_planned = rounds
        self.ledger = ledger
        self.server_key = server_key
        self.round_timeout_s = round_timeout_s
        self.poll_s = poll_s
        self.results_path = results_path
        self.model_path = model_path
        self.slots = slots
        self.waited_s = 0.0
        self.meter = CallMeter.here()
        self.started = time.time()
        self.rounds: list[RoundState] = []
        self.node_clients: dict[int, str] = {}
        self.initial_metrics: dict[str, float] = {}
        self.final: dict[str, Any] = {}
        self.members = ledger.members() if ledger is not None else []
        self.pending_cosignatures: list[str] = []

    # -- hooks given to the strategy ------------------------------------------------------
    def grid(self, grid: Any) -> Any:
        return make_grid(grid, self)

    def evaluate_fn(self, fn: Any = None) -> Any:
        """Wrap a central evaluation (or none): it marks the end of each round."""

        def evaluate(server_round: int, arrays: Any) -> Any:
            metrics = fn(server_round, arrays) if fn is not None else None
            values = {k: float(v) for k, v in dict(metrics or {}).items()}
            if server_round == 0:
                self.initial_metrics = values
            else:
                self.close_round(server_round, numpy_arrays(arrays), values)
            return metrics

        return evaluate

    # -- rounds ---------------------------------------------------------------------------
    def current(self, number: int) -> RoundState:
        if not self.rounds or self.rounds[-1].number != number:
            if self.rounds and not self.rounds[-1].closed:
                self.close_round(self.rounds[-1].number, None, {})
            if self.slots:
                from vatio.federated.schedule import wait_for_slot

                self.waited_s += wait_for_slot([tuple(s) for s in self.slots])
            self.rounds.append(RoundState(number, time.time(), self.meter.mark()))
        return self.rounds[-1]

    def cosign_request(self, node_id: int) -> str | None:
        """The previous round's checkpoint for this node to check and cosign."""
        done = [r for r in self.rounds if r.closed and r.checkpoint_size]
        if self.ledger is None or not done:
            return None
        last = done[-1]
        before = done[-2].checkpoint_size if len(done) > 1 else None
        mine = last.clients.get(node_id)
        index = mine.update_index if mine is not None else None
        cpu0 = time.process_time()
        request = self.ledger.cosign_request(last.checkpoint_size, before, index)
        last.ledger_cpu_s += time.process_time() - cpu0
        return json.dumps(request)

    def take_reply(self, state: RoundState, reply: Any, kind: str) -> tuple[bool, str]:
        """Record one reply; (accepted, reason if rejected)."""
        node = reply.metadata.src_node_id
        entry = state.clients.setdefault(node, ClientRound(node))
        if reply.has_error():
            entry.status, entry.detail = "failed", str(reply.error.reason)
            return True, ""
        record = dict(reply.content.config_records.get(RECORD, {}))
        entry.client = str(record.get("client") or "") or self.node_clients.get(node)
        if entry.client:
            self.node_clients[node] = entry.client
        entry.bytes_up = int(sum(r.count_bytes() for k, r in reply.content.items() if k != RECORD))
        entry.measure = json.loads(str(record.get("measure") or "{}"))
        entry.ledger_cpu_s = float(record.get("ledger_cpu_s") or 0.0)
        entry.status = "ok"
        cosigned = str(record.get("cosigned") or "")
        if cosigned:
            self.pending_cosignatures.append(cosigned)
        if kind != "train":
            return True, ""
        arrays = reply_arrays(reply)
        if arrays is not None:
            from vatio.federated.digest import arrays_digest

            entry.digest = arrays_digest(arrays)
        metrics = next(iter(reply.content.metric_records.values()), {})
        entry.num_examples = int(metrics.get("num-examples", 0))
        entry.samples = int(metrics.get("samples", entry.num_examples))
        if self.ledger is None:
            return True, ""
        return self._check(state, entry, record)

    def take_other(self, kind: str, messages: list, replies: list) -> None:
        """Evaluate and query exchanges: their bytes and energy join the current round."""
        if not self.rounds:
            return
        state = self.rounds[-1]
        for msg in messages:
            entry = state.clients.setdefault(msg.metadata.dst_node_id,
                                             ClientRound(msg.metadata.dst_node_id))  # fmt: skip
            other = entry.other.setdefault(kind, {"bytes_down": 0, "bytes_up": 0, "energy_j": 0.0})
            other["bytes_down"] += int(sum(r.count_bytes() for r in msg.content.values()))
        for reply in replies:
            entry = state.clients.get(reply.metadata.src_node_id)
            if entry is None or reply.has_error():
                continue
            other = entry.other.setdefault(kind, {"bytes_down": 0, "bytes_up": 0, "energy_j": 0.0})
            other["bytes_up"] += int(
                sum(r.count_bytes() for k, r in reply.content.items() if k != RECORD)
            )
            record = dict(reply.content.config_records.get(RECORD, {}))
            measure = json.loads(str(record.get("measure") or "{}"))
            other["energy_j"] += float(measure.get("energy_j") or 0.0)

    def _check(self, state: RoundState, entry: ClientRound, record: dict) -> tuple[bool, str]:
        from vatio.federated import ledger as fl_ledger
        from vatio.federated.protocol import SignedUpdate, check_update

        cpu0 = time.process_time()
        update = SignedUpdate.from_record(record) if "signature" in record else None
        decision = check_update(
            update, self.members, digest=entry.digest or "", run=self.run_id, round=state.number
        )
        if decision.accepted:
            assert update is not None
            state.entries.append(
                {
                    "kind": fl_ledger.UPDATE,
                    "round": state.number,
                    "client": decision.member,
                    "digest": entry.digest,
                    "num_examples": entry.num_examples,
                    "statement": update.statement,
                    "signature": update.signature,
                    "key_id": update.key_id,
                }
            )
            entry.client = decision.member
        else:
            entry.status, entry.detail = "rejected", f"{decision.reason}: {decision.detail}"
            state.entries.append(
                {
                    "kind": fl_ledger.REJECTED,
                    "round": state.number,
                    "client": entry.client,
                    "key_id": update.key_id if update else None,
                    "reason": decision.reason,
                    "detail": decision.detail,
                    "digest": entry.digest,
                }
            )
        state.ledger_cpu_s += time.process_time() - cpu0
        return decision.accepted, decision.reason or ""

    def merge_cosignatures(self) -> None:
        """Write the cosignatures received in one exchange, one file write per checkpoint."""
        from vatio.ledger import parse_checkpoint

        notes, self.pending_cosignatures = self.pending_cosignatures, []
        if self.ledger is None or not notes:
            return
        cpu0 = time.process_time()
        by_size: dict[int, list[str]] = {}
        for note in notes:
            try:
                cp, _ = parse_checkpoint(note)
            except Exception:
                continue
            by_size.setdefault(cp.size, []).append(note)
        for size, group in by_size.items():
            names = self.ledger.add_cosignatures(size, group)
            for state in self.rounds:
                if state.checkpoint_size == size:
                    state.cosigners.extend(names)
                    state.ledger_cpu_s += time.process_time() - cpu0
                    cpu0 = time.process_time()

    def close_round(self, number: int, arrays: dict[str, Any] | None, metrics: dict) -> None:
        state = next((r for r in self.rounds if r.number == number), None)
        if state is None or state.closed:
            return
        from vatio.federated import ledger as fl_ledger
        from vatio.federated.digest import arrays_digest

        state.closed = True
        state.metrics = metrics
        state.wall_s = time.time() - state.started
        state.server = self.meter.since(state.mark).to_dict()
        accepted = [c for c in state.clients.values() if c.status == "ok" and c.digest]
        if arrays is not None:
            state.aggregate_digest = arrays_digest(arrays)
        if self.ledger is None:
            return
        final = None
        if number == self.rounds_planned and arrays is not None:
            final = self._final_entry(arrays)  # saves the model file: not ledger work
        cpu0 = time.process_time()
        for c in state.clients.values():
            if c.status in ("failed", "missing"):
                state.entries.append(
                    {
                        "kind": fl_ledger.FAILURE,
                        "round": number,
                        "client": c.client or self.node_clients.get(c.node_id),
                        "node": c.node_id,
                        "status": c.status,
                        "detail": c.detail,
                    }
                )
        updates = [e for e in state.entries if e["kind"] == fl_ledger.UPDATE]
        state.entries.append(
            {
                "kind": fl_ledger.AGGREGATE,
                "round": number,
                "digest": state.aggregate_digest,
                "combined": [e["digest"] for e in updates],
                "weights": [e["num_examples"] for e in updates],
            }
        )
        state.entries.append({"kind": fl_ledger.ROUND, **self.round_summary(state)})
        if final is not None:
            state.entries.append(final)
        indices, _ = self.ledger.append_round(state.entries, self.server_key)
        for entry, index in zip(state.entries, indices, strict=True):
            if entry["kind"] == fl_ledger.UPDATE:
                for c in accepted:
                    if c.digest == entry["digest"] and c.client == entry["client"]:
                        c.update_index = index
        state.checkpoint_size = indices[-1] + 1
        state.ledger_cpu_s += time.process_time() - cpu0

    def _final_entry(self, arrays: dict[str, Any]) -> dict[str, Any]:
        from vatio.federated import ledger as fl_ledger
        from vatio.federated.digest import arrays_digest

        self.final = {"model_digest": arrays_digest(arrays), "rounds": len(self.rounds)}
        if self.model_path is not None:
            from vatio.federated.modelfile import save_model

            self.final.update(save_model(self.model_path, arrays, run_id=self.run_id))
        return {"kind": fl_ledger.FINAL, **self.final}

    def round_summary(self, state: RoundState) -> dict[str, Any]:
        """What the ledger and the results say about one round."""
        clients = sorted(state.clients.values(), key=lambda c: c.client or str(c.node_id))
        ok = [c for c in clients if c.status == "ok"]
        energy = sum(c.measure.get("energy_j", 0.0) for c in ok)
        low = sum(c.measure.get("low_j", 0.0) for c in ok)
        high = sum(c.measure.get("high_j", 0.0) for c in ok)
        slowest = max(ok, key=lambda c: c.measure.get("wall_s", 0.0), default=None)
        server = state.server or {}
        return {
            "round": state.number,
            "started": state.started,
            "wall_s": state.wall_s,
            "metrics": state.metrics,
            "clients": {c.client or f"node-{c.node_id}": c.status for c in clients},
            "energy": {
                "clients_j": energy,
                "clients_low_j": low,
                "clients_high_j": high,
                "server_j": server.get("energy_j"),
                "server_low_j": server.get("low_j"),
                "server_high_j": server.get("high_j"),
                "method": server.get("method"),
                "scope": "ClientApp and ServerApp processes during the round",
            },
            "bytes": {
                "down": sum(c.bytes_down for c in clients),
                "up": sum(c.bytes_up for c in ok),
            },
            "slowest": {"client": slowest.client, "wall_s": slowest.measure.get("wall_s")}
            if slowest
            else None,
        }

    # -- the end --------------------------------------------------------------------------
    def finish(self, grid: Any, arrays: Any) -> dict[str, Any]:
        """Close the last round, collect the final cosignatures, write the results."""
        final = numpy_arrays(arrays) if arrays is not None else None
        if self.rounds and not self.rounds[-1].closed:
            self.close_round(self.rounds[-1].number, final, {})
        if self.ledger is not None and self.rounds:
            self._final_cosign(grid)
        results = self.results()
        if self.results_path is not None:
            self.results_path.write_text(json.dumps(results, indent=2, default=str))
        return results

    def _final_cosign(self, grid: Any) -> None:
        from flwr.app import ConfigRecord, Message, RecordDict

        nodes = sorted({n for r in self.rounds for n in r.clients})
        messages = []
        for node in nodes:
            request = self.cosign_request(node) or "{}"
            content = RecordDict({COSIGN: ConfigRecord({"request": request})})
            messages.append(Message(content, node, QUERY_COSIGN))
        replies = collect(grid, messages, self.round_timeout_s, self.poll_s)
        for reply in replies:
            if reply.has_error():
                continue
            record = dict(reply.content.config_records.get(RECORD, {}))
            note = str(record.get("cosigned") or "")
            if note:
                self.pending_cosignatures.append(note)
        self.merge_cosignatures()

    def results(self) -> dict[str, Any]:
        rounds = []
        for state in self.rounds:
            summary = self.round_summary(state)
            summary["per_client"] = [c.to_dict() for c in state.clients.values()]
            summary["aggregate_digest"] = state.aggregate_digest
            summary["checkpoint_size"] = state.checkpoint_size
            summary["cosigners"] = sorted(set(state.cosigners))
            summary["ledger_cpu_s"] = state.ledger_cpu_s + sum(
                c.ledger_cpu_s for c in state.clients.values()
            )
            summary["server_ledger_cpu_s"] = state.ledger_cpu_s
            summary["server"] = state.server
            rounds.append(summary)
        return {
            "run_id": self.run_id,
            "started": self.started,
            "ended": time.time(),
            "initial_metrics": self.initial_metrics,
            "rounds": rounds,
            "final": self.final,
            "waited_for_slots_s": self.waited_s,
            "ledger": str(self.ledger.path) if self.ledger is not None else None,
        }
