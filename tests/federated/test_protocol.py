"""The server's rules for an update: membership, signature, integrity, freshness."""

from __future__ import annotations

import numpy as np
import pytest

from vatio.federated.digest import arrays_digest
from vatio.federated.protocol import SignedUpdate, check_update, make_statement, sign_update
from vatio.ledger import SigningKey
from vatio.ledger.logformat import Member

CLIENT = SigningKey.generate("c-aaaaaa")
OTHER = SigningKey.generate("c-bbbbbb")
STRANGER = SigningKey.generate("c-cccccc")
SERVER = SigningKey.generate("server")
MEMBERS = [
    Member("server", "server", SERVER.verifier(), 1),
    Member("c-aaaaaa", "client", CLIENT.verifier(), 2),
    Member("c-bbbbbb", "client", OTHER.verifier(), 3),
]
ARRAYS = {"w": np.arange(4, dtype=np.float32), "b": np.zeros(1, np.float32)}
DIGEST = arrays_digest(ARRAYS)


def _signed(key=CLIENT, digest=DIGEST, run="run1", round=2, client="c-aaaaaa"):
    statement = make_statement(run=run, round=round, client=client, digest=digest, num_examples=7)
    return sign_update(key, statement)


def _check(update, digest=DIGEST, run="run1", round=2):
    return check_update(update, MEMBERS, digest=digest, run=run, round=round)


def test_a_member_update_signed_for_this_round_is_accepted():
    decision = _check(_signed())
    assert decision.accepted and decision.member == "c-aaaaaa" and decision.reason is None


def test_an_unlisted_key_is_rejected():
    decision = _check(_signed(STRANGER, client="c-cccccc"))
    assert not decision.accepted and decision.reason == "unlisted-key"


def test_the_server_key_cannot_sign_client_updates():
    assert _check(_signed(SERVER, client="server")).reason == "unlisted-key"


def test_a_bad_signature_is_rejected():
    good = _signed()
    forged = SignedUpdate(good.statement, OTHER.sign(b"x").hex()[:86] + "==", good.key_id)
    assert _check(forged).reason == "bad-signature"
    other_key = SignedUpdate(good.statement, _signed(OTHER).signature, good.key_id)
    assert _check(other_key).reason == "bad-signature"
    changed = dict(good.statement, num_examples=1000)
    assert _check(SignedUpdate(changed, good.signature, good.key_id)).reason == "bad-signature"


def test_arrays_altered_after_signing_are_rejected():
    altered = arrays_digest({**ARRAYS, "w": ARRAYS["w"] + 1})
    decision = _check(_signed(), digest=altered)
    assert decision.reason == "bad-signature" and "altered" in decision.detail


def test_an_update_replayed_from_another_round_or_run_is_rejected():
    assert _check(_signed(round=1)).reason == "replayed"
    assert _check(_signed(run="old")).reason == "replayed"


def test_an_update_without_a_signature_is_rejected():
    assert _check(None).reason == "missing-signature"
    assert SignedUpdate.from_record({"statement": "{"}) is None


def test_signed_updates_travel_as_flat_strings():
    signed = _signed()
    back = SignedUpdate.from_record(signed.to_record())
    assert back == signed and all(isinstance(v, str) for v in signed.to_record().values())


def test_the_digest_depends_on_values_names_dtypes_and_shapes_not_order():
    base = arrays_digest(ARRAYS)
    assert base == arrays_digest(list(reversed(list(ARRAYS.items()))))
    assert base != arrays_digest({**ARRAYS, "w": ARRAYS["w"].astype(np.float64)})
    assert base != arrays_digest({**ARRAYS, "w": ARRAYS["w"].reshape(2, 2)})
    assert base != arrays_digest({"v": ARRAYS["w"], "b": ARRAYS["b"]})
    big_endian = ARRAYS["w"].astype(">f4")
    assert base == arrays_digest({**ARRAYS, "w": big_endian})


@pytest.mark.parametrize("flip", range(0, 64, 7))
def test_any_bit_of_a_signature_matters(flip):
    import base64

    good = _signed()
    raw = bytearray(base64.b64decode(good.signature))
    raw[flip] ^= 0x01
    bad = SignedUpdate(good.statement, base64.b64encode(bytes(raw)).decode(), good.key_id)
    assert _check(bad).reason == "bad-signature"
