"""The Grid wrapper of vatio's server hook: every message out and reply in goes through it.

Train rounds get the previous checkpoint to cosign added to each message;
replies are counted, checked (a rejected update becomes an error reply the
strategy will not aggregate) and recorded; clients that do not answer within
the round timeout are recorded as missing. Replies are polled every `poll_s`.
"""

from __future__ import annotations

import time
from typing import Any

from vatio.federated.flower.mods import COSIGN
from vatio.federated.flower.rounds import ClientRound

ERROR_REJECTED = 900  # Flower error code for updates the ledger rules rejected


def make_grid(inner: Any, hook: Any) -> Any:
    from flwr.serverapp import Grid

    class VatioGrid(Grid):
        """Delegates to Flower's grid; measures and checks what goes through it."""

        def __init__(self) -> None:
            self._inner = inner

        def set_run(self, run_id: int) -> None:
            self._inner.set_run(run_id)

        @property
        def run(self) -> Any:
            return self._inner.run

        def create_message(self, *args: Any, **kwargs: Any) -> Any:
            return self._inner.create_message(*args, **kwargs)

        def get_node_ids(self) -> Any:
            return self._inner.get_node_ids()

        def push_messages(self, messages: Any) -> Any:
            return self._inner.push_messages(messages)

        def pull_messages(self, message_ids: Any) -> Any:
            return self._inner.pull_messages(message_ids)

        def send_and_receive(self, messages: Any, *, timeout: float | None = None) -> Any:
            return _round_trip(self, hook, list(messages), timeout)

    return VatioGrid()


def _kind(message: Any) -> str:
    return str(message.metadata.message_type).split(".")[0]


def _round_trip(grid: Any, hook: Any, messages: list, timeout: float | None) -> list:
    from flwr.app import ConfigRecord, Error, Message, RecordDict

    if not messages:
        return []
    kind = _kind(messages[0])
    state = None
    if kind == "train":
        number = _config_round(messages[0]) or (hook.rounds[-1].number + 1 if hook.rounds else 1)
        state = hook.current(number)
        out = []
        for msg in messages:
            request = hook.cosign_request(msg.metadata.dst_node_id)
            content = msg.content
            if request is not None:
                content = RecordDict(
                    {**dict(content.items()), COSIGN: ConfigRecord({"request": request})}
                )
            fresh = Message(content, msg.metadata.dst_node_id, msg.metadata.message_type)
            entry = state.clients.setdefault(
                msg.metadata.dst_node_id, ClientRound(msg.metadata.dst_node_id)
            )
            entry.bytes_down = int(sum(r.count_bytes() for k, r in content.items() if k != COSIGN))
            out.append(fresh)
        messages = out
    by_id = {}
    wait = min(timeout or hook.round_timeout_s, hook.round_timeout_s)
    replies = collect(grid, messages, wait, hook.poll_s, sent=by_id)
    if state is None:
        hook.take_other(kind, messages, replies)
        return replies
    answered = set()
    kept = []
    for reply in replies:
        answered.add(reply.metadata.src_node_id)
        accepted, reason = hook.take_reply(state, reply, kind)
        if accepted:
            kept.append(reply)
        else:
            original = by_id.get(reply.metadata.reply_to_message_id)
            if original is not None:
                kept.append(Message(Error(ERROR_REJECTED, f"vatio: {reason}"), reply_to=original))
    hook.merge_cosignatures()
    for msg in messages:
        node = msg.metadata.dst_node_id
        if node not in answered:
            entry = state.clients.setdefault(node, ClientRound(node))
            entry.status = "missing"
            entry.detail = f"no reply within {wait:g} s (crashed or straggling)"
            entry.client = hook.node_clients.get(node)
    return kept


def collect(grid: Any, messages: list, wait_s: float, poll_s: float, sent: dict | None = None):
    ids = list(grid.push_messages(messages))
    pending = {i for i in ids if i}
    if sent is not None:
        for message_id, msg in zip(ids, messages, strict=False):
            sent[message_id] = msg
    deadline = time.monotonic() + wait_s
    out = []
    while pending and time.monotonic() < deadline:
        got = list(grid.pull_messages(pending))
        out.extend(got)
        pending -= {m.metadata.reply_to_message_id for m in got}
        if pending:
            time.sleep(poll_s)
    return out


def _config_round(message: Any) -> int | None:
    try:
        return int(message.content["config"]["server-round"])
    except (KeyError, TypeError, ValueError):
        return None


def reply_arrays(reply: Any) -> dict[str, Any] | None:
    records = reply.content.array_records
    if len(records) != 1:
        return None
    return numpy_arrays(next(iter(records.values())))


def numpy_arrays(arrays: Any) -> dict[str, Any]:
    return {name: array.numpy() for name, array in arrays.items()}
