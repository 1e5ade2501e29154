"""The plan of one federated run: everything the processes of the run need to know.

The launcher writes it as `plan.json` in the run's folder (`.vatio/fl/RUN_ID/`);
the server and client host processes, the ServerApp and the ClientApps read it
back, so that one file describes the run and can be kept with its ledger.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PLAN_FILE = "plan.json"


@dataclass
class ClientPlan:
    """One client: its pseudonymous id, data partition, key, zone and Flower ports."""

    index: int
    client_id: str  # pseudonymous, e.g. "c-3f9a2b"; never the machine or user name
    key_path: str
    runtime_port: int
    zone: str | None = None
    crash_round: int | None = None  # test and demo hook: the ClientApp dies in this round
    unlisted: bool = False  # its key is not in the membership file (permission test)
    tamper: bool = False  # test hook: its updates are altered after signing


@dataclass
class RunPlan:
    run_id: str
    folder: str
    rounds: int
    example: str = "health"
    model: str = "logreg"
    non_iid: bool = False
    local_epochs: int = 5
    batch_size: int = 16
    learning_rate: float = 0.1
    seed: int = 0
    quorum: int = 1
    superlink_port: int = 0
    server_key_path: str = ""
    auditor_key_path: str | None = None
    members_path: str = ""
    round_timeout_s: float = 60.0
    poll_s: float = 0.1
    zone: str | None = None
    executor: str = "warm"  # warm: fork per task from a pre-imported host; stock: flower-superexec
    green_slots: list[list[float]] | None = None  # interruptible: rounds start only inside these
    clients: list[ClientPlan] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return Path(self.folder) / PLAN_FILE

    @property
    def ledger_dir(self) -> Path:
        return Path(self.folder) / "ledger"

    @property
    def results_path(self) -> Path:
        return Path(self.folder) / "server-results.json"

    def client(self, index: int) -> ClientPlan:
        return self.clients[index]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self) -> Path:
        self.path.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        return self.path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunPlan:
        fields = dict(data)
        fields["clients"] = [ClientPlan(**c) for c in data.get("clients", [])]
        return cls(**fields)

    @classmethod
    def load(cls, path: str | Path) -> RunPlan:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
