"""C2SP signed notes: the Go example verbatim, round trips, strict parsing."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vatio.errors import InputError
from vatio.ledger.errors import NoteError
from vatio.ledger.keys import SigningKey, Verifier
from vatio.ledger.note import add_signature, parse_note, sign_note, verify_note

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
GO_NOTE = GO_TEXT + "\n— PeterNeumann " + GO_SIG + "\n"
# A second signature from the same documentation (EnochRoot: no key published).
ENOCH = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)


@pytest.fixture(scope="module")
def go_key():
    return SigningKey.from_skey(GO_SKEY)


def test_signing_reproduces_the_go_example_byte_for_byte(go_key):
    assert sign_note(GO_TEXT, go_key) == GO_NOTE


def test_go_example_verifies_and_unknown_signers_are_listed(go_key):
    res = verify_note(GO_NOTE + ENOCH, [go_key.verifier()])
    assert res.ok and res.verified_names == ["PeterNeumann"]
    assert [s.name for s in res.unknown] == ["EnochRoot"] and not res.invalid


def test_round_trip_and_second_signature():
    a, b = SigningKey.generate("a.example/x"), SigningKey.generate("b.example/y")
    body = "line one\n\nline after an empty line\n"
    note = sign_note(body, a)
    both = add_signature(note, b)
    parsed = parse_note(both)
    assert parsed.body == body and [s.name for s in parsed.signatures] == [
        "a.example/x",
        "b.example/y",
    ]
    assert parsed.text() == both
    res = verify_note(both, [a.verifier(), b.verifier()])
    assert res.ok and res.verified_names == ["a.example/x", "b.example/y"]
    # Re-signing with the same key replaces, never duplicates.
    assert add_signature(both, a).count("— a.example/x ") == 1


def test_wrong_key_and_tampering(go_key):
    other = SigningKey.generate("PeterNeumann")  # same name, different key: unknown, not trusted
    res = verify_note(GO_NOTE, [other.verifier()])
    assert not res.ok and not res.verified and len(res.unknown) == 1
    tampered = GO_NOTE.replace("problem,", "problem;")
    res = verify_note(tampered, [go_key.verifier()])
    assert not res.ok and [s.name for s in res.invalid] == ["PeterNeumann"]
    short = base64.b64encode(go_key.key_hash + b"0123456789").decode()
    res = verify_note(f"{GO_TEXT}\n— PeterNeumann {short}\n", [go_key.verifier()])
    assert not res.ok and len(res.invalid) == 1  # a cut signature is a bad one


def test_verify_is_not_fooled_by_a_verifier_with_a_colliding_pair(go_key):
    v = go_key.verifier()
    with pytest.raises(NoteError):
        verify_note(GO_NOTE, [v, _Impostor(v)])


class _Impostor(Verifier):
    def __init__(self, v: Verifier) -> None:
        super().__init__(v.name, SigningKey.generate("z").public_bytes, 1)
        self.key_hash = v.key_hash


S = GO_SIG
BAD_NOTES = [
    "",
    "no signatures\n",
    "text\n\n",
    "text\n\n— \n",
    "text\n\n— name\n",
    f"text\n\n- PeterNeumann {S}\n",
    f"text\n\n— Peter+Neumann {S}\n",
    f"text\n\n— PeterNeumann {S}",
    f"text\n\n— PeterNeumann {S[:-2]}N=\n",  # slack bits set: not canonical base64
    "text\n\n— PeterNeumann x08go\n",
    "text\n\n— PeterNeumann AAAAAA==\n",
    f"te\x01xt\n\n— PeterNeumann {S}\n",
    f"text\r\n\n— PeterNeumann {S}\n",
    f"t\ud800\n\n— PeterNeumann {S}\n",
    f"text\n\n— Peter\u00a0Neumann {S}\n",
    f"text\n\n— PeterNeumann {S}\n\n",
]


@pytest.mark.parametrize("text", BAD_NOTES)
def test_malformed_notes_are_refused(text):
    with pytest.raises(NoteError):
        parse_note(text)


def test_invalid_utf8_bytes_and_oversized_notes():
    with pytest.raises(NoteError, match="UTF-8"):
        parse_note(GO_NOTE.encode().replace(b"If", b"\xffI"))
    with pytest.raises(NoteError, match="1 MiB"):
        parse_note("x" * (1 << 20) + GO_NOTE)
    many = GO_TEXT + "\n" + ENOCH * 101
    with pytest.raises(NoteError, match="100"):
        parse_note(many)
    assert len(parse_note(GO_TEXT + "\n" + ENOCH * 16).signatures) == 16


@pytest.mark.parametrize("body", ["no newline", "a\x00b\n", "tab\there\n", "\ud800\n"])
def test_sign_refuses_bad_bodies(body, go_key):
    with pytest.raises(NoteError):
        sign_note(body, go_key)


def test_signer_refuses_reserved_headers(go_key):
    with pytest.raises(InputError):
        sign_note("cosignature/v1\ntime 1\nx\n", go_key)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_random_text_never_raises_anything_but_note_error(text):
    for candidate in (text, text + "\n\n— a " + text, GO_NOTE[:60] + text, text + GO_NOTE):
        try:
            note = parse_note(candidate)
        except NoteError:
            continue
        assert note.text() == candidate
        verify_note(note, [])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise_anything_but_note_error(raw):
    for candidate in (raw, GO_NOTE.encode() + raw, raw + GO_NOTE.encode()):
        with contextlib.suppress(NoteError):
            parse_note(candidate)


@settings(max_examples=100, deadline=None)
@given(pos=st.integers(0, len(GO_NOTE.encode()) - 1), bit=st.integers(0, 7))
def test_every_bit_flip_of_a_signed_note_fails_to_verify(pos, bit, go_key):
    raw = bytearray(GO_NOTE.encode())
    raw[pos] ^= 1 << bit
    try:
        res = verify_note(bytes(raw), [go_key.verifier()])
    except NoteError:
        return
    assert not res.ok
