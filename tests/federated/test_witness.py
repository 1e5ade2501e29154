"""A client cosigns a checkpoint only after checking the log grew and holds its update."""

from __future__ import annotations

from vatio.federated.ledger import FlLedger
from vatio.federated.witness import WitnessState, witness
from vatio.ledger import SigningKey

from .fixtures import build


def test_witnesses_cosign_each_round_after_checking_it(tmp_path):
    ledger, _server, parties = build(tmp_path / "l", rounds=3, clients=2, quorum=2)
    for p in parties:
        assert p.state.size == ledger.log.size  # each cosigned the last checkpoint


def _setup(tmp_path):
    ledger, server, parties = build(tmp_path / "l", rounds=1, clients=1, quorum=1)
    sizes = sorted(int(p.name) for p in (tmp_path / "l" / "checkpoints").iterdir())
    return ledger, server, parties[0], sizes


def test_a_checkpoint_not_signed_by_the_server_is_refused(tmp_path):
    ledger, _server, party, sizes = _setup(tmp_path)
    request = ledger.cosign_request(sizes[-1], None, None)
    impostor = SigningKey.generate("server")
    result = witness(request, impostor.vkey, party.key, WitnessState())
    assert result.cosigned is None and "server" in result.reason


def test_a_rewritten_log_is_refused(tmp_path):
    ledger, server, party, sizes = _setup(tmp_path)
    # The witness remembers a root the log never had at that size: a history rewrite.
    state = WitnessState(size=sizes[-1] - 1, root_hex="00" * 32)
    request = ledger.cosign_request(sizes[-1], sizes[-1] - 1, None)
    result = witness(request, server.vkey, party.key, state)
    assert result.cosigned is None and "rewritten" in result.reason


def test_a_missing_or_altered_update_is_refused(tmp_path):
    ledger, server, party, sizes = _setup(tmp_path)
    state = WitnessState(last_signature="not-what-was-logged")
    request = ledger.cosign_request(sizes[-1], None, None)
    assert "not offered" in witness(request, server.vkey, party.key, state).reason
    update_index = next(e.index for e in ledger.log.entries() if e.entry.get("kind") == "fl/update")
    request = ledger.cosign_request(sizes[-1], None, update_index)
    state = WitnessState(last_signature="not-what-was-logged")
    assert "not the one I signed" in witness(request, server.vkey, party.key, state).reason


def test_a_shrunk_log_is_refused(tmp_path):
    ledger, server, party, sizes = _setup(tmp_path)
    request = ledger.cosign_request(sizes[0], None, None)
    state = WitnessState(size=sizes[-1], root_hex="00" * 32)
    assert "shrank" in witness(request, server.vkey, party.key, state).reason


def test_reopened_ledgers_merge_cosignatures_once(tmp_path):
    build(tmp_path / "l", rounds=1, clients=1, quorum=1)
    reopened = FlLedger.open(tmp_path / "l")
    size = reopened.log.size
    note = reopened.log.checkpoint_at(size)
    assert reopened.add_cosignatures(size, [note]) == []  # nothing new in it
