"""What `vatio fl run` was asked to do, checked before anything starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vatio.errors import InputError

DEFAULT_ROOT = Path(".vatio") / "fl"


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
        if self.duration is not None:
            from vatio.units import parse_duration

            if not (self.within or self.deadline or self.interruptible):
                raise InputError(
                    "--duration only applies with --within, --deadline or --interruptible.",
                    "Drop it, or plan the run in green hours with --zone and --within.",
                )
            parse_duration(self.duration, what="--duration", allow_zero=False)
        for zone in [self.zone, *(self.client_zones or [])]:
            if zone:
                from vatio.carbon.zones import resolve_zone

                resolve_zone(zone)
        self.root = _runs_folder(self.root)

    def default_quorum(self) -> int:
        """A majority of the clients that can cosign (so one crash does not break it)."""
        listed = self.clients - (self.unlisted_client is not None)
        return listed // 2 + 1 if listed > 1 else listed


def _runs_folder(root: Path) -> Path:
    """The runs folder: an existing folder, or one that can be made in an existing parent."""
    from vatio.userfiles import check_output_folder

    return check_output_folder(root, "runs folder (--out)")
