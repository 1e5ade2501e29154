"""A small federated ledger built without Flower: the same code paths the server hook uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vatio.federated.digest import arrays_digest
from vatio.federated.ledger import AGGREGATE, FINAL, ROUND, UPDATE, FlLedger, MemberSpec
from vatio.federated.protocol import make_statement, sign_update
from vatio.federated.witness import WitnessState, witness
from vatio.ledger import SigningKey

RUN = "0123456789ab"


class Party:
    def __init__(self, name: str) -> None:
        self.key = SigningKey.generate(name)
        self.state = WitnessState()
        self.last_index: int | None = None

    @property
    def name(self) -> str:
        return self.key.name


def arrays(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"w": rng.standard_normal(4).astype(np.float32), "b": np.zeros(1, np.float32)}


def build(folder: Path, *, rounds: int = 2, clients: int = 2, quorum: int = 1, cosign=True):
    """A run's ledger: per round signed updates, aggregate, round entry, checkpoint, cosigns."""
    server = SigningKey.generate("server")
    parties = [Party(f"c-{i:06x}") for i in range(clients)]
    members = [MemberSpec(server.vkey, "server")] + [
        MemberSpec(p.key.vkey, "client") for p in parties
    ]
    ledger = FlLedger.create(folder, RUN, server, members, {"rounds": rounds, "quorum": quorum})
    previous = None
    for r in range(1, rounds + 1):
        entries = []
        digests = []
        for i, p in enumerate(parties):
            digest = arrays_digest(arrays(r * 10 + i))
            signed = sign_update(
                p.key,
                make_statement(run=RUN, round=r, client=p.name, digest=digest, num_examples=10 + i),
            )
            p.state.last_signature = signed.signature
            entries.append(
                {
                    "kind": UPDATE,
                    "round": r,
                    "client": p.name,
                    "digest": digest,
                    "num_examples": 10 + i,
                    "statement": signed.statement,
                    "signature": signed.signature,
                    "key_id": signed.key_id,
                }
            )
            digests.append(digest)
        entries.append(
            {
                "kind": AGGREGATE,
                "round": r,
                "digest": arrays_digest(arrays(r)),
                "combined": digests,
                "weights": [10 + i for i in range(clients)],
            }
        )
        entries.append(
            {
                "kind": ROUND,
                "round": r,
                "energy": {"clients_j": 1.0, "server_j": 0.5},
                "metrics": {"accuracy": 0.9},
            }
        )
        if r == rounds:
            entries.append(
                {"kind": FINAL, "model_digest": arrays_digest(arrays(r)), "file_sha256": "0" * 64}
            )
        indices, _ = ledger.append_round(entries, server)
        size = indices[-1] + 1
        if cosign:
            for i, p in enumerate(parties):
                request = ledger.cosign_request(size, previous, indices[i])
                result = witness(request, server.vkey, p.key, p.state)
                assert result.cosigned, result.reason
                ledger.add_cosignatures(size, [result.cosigned])
        previous = size
    return ledger, server, parties
