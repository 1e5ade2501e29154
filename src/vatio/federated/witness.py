"""A client as a witness: check a round's checkpoint, then cosign it.

Before cosigning, the client checks that the checkpoint is signed by the
server's key from the membership file; that the log only grew since the last
checkpoint it cosigned (consistency proof); and that its own update of that
round is in the log exactly as it signed it (inclusion proof). It keeps the
(size, root) it last cosigned between rounds. A refusal says why and is
logged by the server as a missing cosignature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class WitnessState:
    size: int = 0
    root_hex: str = ""
    last_signature: str = ""  # the signature of the client's latest update (to find it logged)

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "root_hex": self.root_hex, "last_signature": self.last_signature}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> WitnessState:
        data = data or {}
        return cls(
            int(data.get("size", 0)),
            str(data.get("root_hex", "")),
            str(data.get("last_signature", "")),
        )


@dataclass
class WitnessResult:
    cosigned: str | None  # the checkpoint note with this client's cosignature
    reason: str  # "cosigned" or why not
    checks: list[str]


def witness(
    request: dict[str, Any], server_vkey: str, key: Any, state: WitnessState
) -> WitnessResult:
    """Check `request` (FlLedger.cosign_request) and cosign with `key`; updates `state`."""
    from vatio.federated.ledger import _unb64s
    from vatio.ledger import Verifier, cosign_checkpoint, leaf_hash, parse_checkpoint
    from vatio.ledger import logformat as fmt
    from vatio.ledger.merkle import verify_consistency, verify_inclusion
    from vatio.ledger.note import verify_note

    checks: list[str] = []
    note = request.get("checkpoint", "")
    try:
        cp, parsed = parse_checkpoint(note)
    except Exception as error:
        return WitnessResult(None, f"not a checkpoint ({error})", checks)
    server = Verifier.from_vkey(server_vkey)
    if not verify_note(parsed, [server]).verified:
        return WitnessResult(
            None, "the checkpoint is not signed by the server's member key", checks
        )
    checks.append("server signature")
    if state.size and state.size <= cp.size:
        if request.get("previous_size") != state.size or "consistency" not in request:
            return WitnessResult(
                None, f"no consistency proof from the checkpoint I cosigned ({state.size})", checks
            )
        proof = _unb64s(request["consistency"])
        if not verify_consistency(
            state.size, cp.size, bytes.fromhex(state.root_hex), cp.root, proof
        ):
            return WitnessResult(None, "the log was rewritten since I last cosigned it", checks)
        checks.append(f"consistent with checkpoint {state.size}")
    elif state.size > cp.size:
        return WitnessResult(None, f"the log shrank from {state.size} to {cp.size}", checks)
    if state.last_signature:
        if "update_entry" not in request:
            return WitnessResult(None, "my last update is not offered for inclusion", checks)
        entry = json.loads(request["update_entry"])
        if entry.get("signature") != state.last_signature:
            return WitnessResult(None, "the logged update is not the one I signed", checks)
        index = int(request["update_index"])
        leaf = leaf_hash(fmt.encode_line(index, entry))
        if not verify_inclusion(index, cp.size, leaf, _unb64s(request["inclusion"]), cp.root):
            return WitnessResult(None, "my update is not included in the checkpoint", checks)
        checks.append(f"my update included at entry {index}")
    cosigned = cosign_checkpoint(note, key)
    state.size, state.root_hex, state.last_signature = cp.size, cp.root.hex(), ""
    return WitnessResult(cosigned, "cosigned", checks)
