"""C2SP checkpoints and Ed25519 cosignatures: the spec's examples, valid, wrong key, tampered."""

from __future__ import annotations

import base64
import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vatio.ledger.checkpoint import (
    Checkpoint,
    cosign_checkpoint,
    count_valid,
    parse_checkpoint,
    sign_checkpoint,
    verify_cosignatures,
)
from vatio.ledger.errors import NoteError
from vatio.ledger.keys import SigningKey, cosigned_message
from vatio.ledger.merkle import leaf_hash, root
from vatio.ledger.note import parse_note, verify_note

# The example of c2sp.org/tlog-cosignature (keys not published: parsed, not verified).
SPEC_EXAMPLE = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 "
    "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBI"
    "fZ+qnA==\n"
)


@pytest.fixture(scope="module")
def keys():
    return (
        SigningKey.generate("example.org/log"),
        SigningKey.generate("witness.example/w1"),
        SigningKey.generate("witness.example/w2"),
    )


def _cp(size=5):
    leaves = [leaf_hash(b"%d" % i) for i in range(size)]
    return Checkpoint("example.org/log", size, root(leaves))


def test_spec_example_parses_and_cosignature_layout_matches():
    cp, note = parse_checkpoint(SPEC_EXAMPLE)
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
    assert cp.body() == note.body
    cosig = note.signatures[1]
    # key hash (4) || timestamp (8, big-endian) || Ed25519 (64); the spec's "time 1679315147".
    assert len(cosig.sig) == 72
    assert struct.unpack(">Q", cosig.sig[:8])[0] == 1679315147


def test_body_format_and_round_trip(keys):
    log, _, _ = keys
    cp = Checkpoint("example.org/log", 3, b"\x07" * 32, ("ext one", "ext two"))
    root64 = base64.b64encode(b"\x07" * 32).decode()
    assert cp.body() == f"example.org/log\n3\n{root64}\next one\next two\n"
    note = sign_checkpoint(cp, log)
    back, parsed = parse_checkpoint(note)
    assert back == cp
    assert verify_note(parsed, [log.verifier()]).ok


def test_cosignature_valid_wrong_key_tampered(keys):
    log, w1, w2 = keys
    note = sign_checkpoint(_cp(), log)
    co = cosign_checkpoint(note, w1, timestamp=1_700_000_000)
    co = cosign_checkpoint(co, w2.cosigner(), timestamp=1_700_000_123)
    got = verify_cosignatures(co, [w1.cosigner().verifier(), w2.cosigner().verifier()])
    assert [(c.name, c.timestamp) for c in got] == [
        ("witness.example/w1", 1_700_000_000),
        ("witness.example/w2", 1_700_000_123),
    ]
    # The cosigned message is the spec's: header, time line, checkpoint body.
    sig = parse_note(co).signatures[1].sig
    msg = cosigned_message(_cp().body().encode(), 1_700_000_000)
    assert msg.startswith(b"cosignature/v1\ntime 1700000000\nexample.org/log\n5\n")
    assert w1.cosigner().verifier().verify(_cp().body().encode(), sig)
    # Wrong key: an unknown cosigner counts for nothing.
    stranger = SigningKey.generate("witness.example/w1")
    assert verify_cosignatures(co, [stranger.cosigner().verifier()]) == []
    # A note-type (0x01) signature never passes for a cosignature, nor the reverse.
    assert not verify_note(co, [w1.verifier()]).verified
    # Tampered body: every signature fails.
    bad = co.replace("\n5\n", "\n6\n")
    assert verify_cosignatures(bad, [w1.cosigner().verifier()]) == []
    res = verify_note(bad, [log.verifier(), w1.cosigner().verifier()])
    assert len(res.invalid) == 2
    # Tampered timestamp: the time is signed.
    n = parse_note(co)
    s = n.signatures[1]
    forged_ts = struct.pack(">Q", 1_700_000_001) + s.sig[8:]
    line = f"— {s.name} {base64.b64encode(s.key_hash + forged_ts).decode()}\n"
    forged = n.body + "\n" + n.signatures[0].line() + line
    assert verify_cosignatures(forged, [w1.cosigner().verifier()]) == []


def test_count_valid_quorum(keys):
    log, w1, w2 = keys
    members = [w1.cosigner().verifier(), w2.verifier()]  # a 0x01 key is read as its cosigner
    note = sign_checkpoint(_cp(), log)
    assert count_valid(note, members, log.verifier()) == 0
    one = cosign_checkpoint(note, w1)
    assert count_valid(one, members, log.verifier()) == 1
    two = cosign_checkpoint(one, w2)
    assert count_valid(two, members, log.verifier()) == 2
    # The same member twice (re-cosigned later) still counts once.
    assert count_valid(cosign_checkpoint(two, w2, timestamp=5), members, log.verifier()) == 2
    # No valid log signature: cosignatures prove nothing about the log.
    other_log = SigningKey.generate("example.org/log")
    assert count_valid(two, members, other_log.verifier()) == 0


def test_cosigning_something_that_is_not_a_checkpoint_is_refused(keys):
    log, w1, _ = keys
    from vatio.ledger.note import sign_note

    with pytest.raises(NoteError):
        cosign_checkpoint(sign_note("just a note\n", log), w1)


@pytest.mark.parametrize(
    "body",
    [
        "origin\n5\n",
        "\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n05\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n-5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n5 \nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n\u0665\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n1_000\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n99999999999999999999\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n5\nAAAA\n",
        "origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n",
        "origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n",
    ],
)
def test_malformed_checkpoint_bodies(body, keys):
    from vatio.ledger.note import sign_note

    with pytest.raises(NoteError):
        parse_checkpoint(sign_note(body, keys[0]))


@pytest.mark.parametrize(
    "args",
    [("", 1, b"\0" * 32), ("a\nb", 1, b"\0" * 32), ("o", -1, b"\0" * 32), ("o", 1, b"\0" * 31),
     ("o", 1.0, b"\0" * 32)],
)  # fmt: skip
def test_bad_checkpoint_values(args):
    with pytest.raises(NoteError):
        Checkpoint(*args)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_random_text_is_never_a_crash(text):
    for candidate in (text, "o\n1\n" + text, SPEC_EXAMPLE[:80] + text):
        with contextlib.suppress(NoteError):
            parse_checkpoint(candidate)
