"""What the server hook knows about one round and each client in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ClientRound:
    node_id: int
    client: str | None = None
    status: str = "sent"  # sent, ok, rejected, failed, missing
    detail: str = ""
    bytes_down: int = 0
    bytes_up: int = 0
    measure: dict[str, Any] = field(default_factory=dict)
    digest: str | None = None
    num_examples: int = 0
    samples: int = 0
    update_index: int | None = None
    ledger_cpu_s: float = 0.0
    other: dict[str, dict[str, float]] = field(default_factory=dict)  # evaluate, query

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "client": self.client,
            "status": self.status,
            "detail": self.detail,
            "bytes_down": self.bytes_down,
            "bytes_up": self.bytes_up,
            "measure": self.measure,
            "digest": self.digest,
            "num_examples": self.num_examples,
            "samples": self.samples,
            "ledger_cpu_s": self.ledger_cpu_s,
            "other": self.other,
        }


@dataclass
class RoundState:
    number: int
    started: float
    mark: Any
    clients: dict[int, ClientRound] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    closed: bool = False
    wall_s: float | None = None
    server: dict[str, Any] = field(default_factory=dict)
    checkpoint_size: int | None = None
    cosigners: list[str] = field(default_factory=list)
    ledger_cpu_s: float = 0.0
    aggregate_digest: str | None = None
