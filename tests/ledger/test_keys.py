"""Machine keys: created once (0600, directory 0700), shared by racers, refused if unsafe."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from vatio.errors import InputError
from vatio.ledger.keyfile import default_key_path, load_or_create_key
from vatio.ledger.keys import SigningKey, Verifier, key_hash

# golang.org/x/mod/sumdb/note documentation example (signer and verifier keys).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
# transparency-dev/formats note tests: a native Ed25519 cosigner (type 0x04) verifier key.
COSIGNER_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"


def test_go_signer_key_gives_go_verifier_key():
    key = SigningKey.from_skey(GO_SKEY)
    assert key.name == "PeterNeumann"
    assert key.vkey == GO_VKEY
    assert key.key_hash.hex() == "c74f20a3"
    assert SigningKey.from_skey(key.skey()).vkey == GO_VKEY
    v = Verifier.from_vkey(GO_VKEY)
    assert v.public_bytes == key.public_bytes and v.sig_type == 1


def test_cosigner_key_hash_matches_a_published_cosigner_vkey():
    v = Verifier.from_vkey(COSIGNER_VKEY)
    assert v.sig_type == 4
    assert v.key_hash == key_hash(v.name, 4, v.public_bytes)
    assert v.vkey == COSIGNER_VKEY


def test_cosigner_view_uses_type_4():
    key = SigningKey.generate("example.org/k")
    c = key.cosigner()
    assert c.key_hash != key.key_hash
    assert c.vkey.split("+")[2].startswith("B")  # base64 of 0x04 || key
    assert Verifier.from_vkey(c.vkey).sig_type == 4
    assert key.key_id == c.key_id == key.verifier().key_id
    assert len(key.key_id) == 16


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "name",
        "name+c74f20a3",
        "name+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "PeterNeumann+c74f20a3+AxpcMQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "rekor.sigstore.dev+12345678+AwEB",
    ],
)
def test_bad_verifier_keys_are_input_errors(bad):
    with pytest.raises(InputError):
        Verifier.from_vkey(bad)


def test_default_key_path(monkeypatch, tmp_path):
    monkeypatch.setenv("VATIO_KEY", str(tmp_path / "k"))
    assert default_key_path() == tmp_path / "k"
    monkeypatch.delenv("VATIO_KEY")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert default_key_path() == tmp_path / "cfg" / "vatio" / "keys" / "ed25519"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_key_path() == tmp_path / "home" / ".config" / "vatio" / "keys" / "ed25519"


def test_created_once_with_private_modes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("VATIO_KEY", raising=False)
    key = load_or_create_key()
    path = default_key_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert key.name.startswith("vatio-")
    again = load_or_create_key()
    assert again.vkey == key.vkey
    assert path.read_text().startswith("PRIVATE+KEY+")
    assert [p.name for p in path.parent.iterdir()] == ["ed25519"]  # no temp files left
    # A signature made with one load verifies with the other's verifier.
    assert again.verifier().verify(b"msg", key.sign(b"msg"))
    assert not again.verifier().verify(b"other", key.sign(b"msg"))


def test_name_given_overrides_the_stored_one(tmp_path):
    p = tmp_path / "k"
    key = load_or_create_key(p, name="example.org/a")
    assert key.name == "example.org/a"
    other = load_or_create_key(p, name="example.org/b")
    assert other.public_bytes == key.public_bytes and other.name == "example.org/b"
    assert load_or_create_key(p).name == "example.org/a"


def test_racing_processes_end_with_one_key(tmp_path):
    path = tmp_path / "keys" / "ed25519"
    start = time.time() + 1.5
    code = textwrap.dedent(f"""
        import time
        from vatio.ledger.keyfile import load_or_create_key
        time.sleep(max(0.0, {start!r} - time.time()))
        print(load_or_create_key({str(path)!r}).vkey)
    """)
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(outs)) == 1 and outs[0]
    assert load_or_create_key(path).vkey == outs[0]
    assert sorted(p.name for p in path.parent.iterdir()) == ["ed25519"]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_readable_by_others_is_refused(tmp_path, mode):
    p = tmp_path / "k"
    load_or_create_key(p)
    os.chmod(p, mode)
    with pytest.raises(InputError, match="chmod 600"):
        load_or_create_key(p)


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage\n", b"PRIVATE+KEY+x+00000000+AAAA\n", b"\xff\xfe" * 10,
     SigningKey.from_skey(GO_SKEY).skey().replace("c74f20a3", "c74f20a4").encode()],
)  # fmt: skip
def test_corrupt_key_file_is_refused_with_the_fix(tmp_path, content):
    p = tmp_path / "k"
    p.write_bytes(content)
    os.chmod(p, 0o600)
    os.utime(p, (time.time() - 60, time.time() - 60))  # not a key being written right now
    with pytest.raises(InputError, match=r"Move .* away"):
        load_or_create_key(p)


def test_directory_as_key_is_refused(tmp_path):
    (tmp_path / "k").mkdir()
    with pytest.raises(InputError, match="not a regular file"):
        load_or_create_key(tmp_path / "k")


def test_pem_key_is_accepted(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    priv = Ed25519PrivateKey.generate()
    p = tmp_path / "k.pem"
    p.write_bytes(priv.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    os.chmod(p, 0o600)
    key = load_or_create_key(p, name="example.org/pem")
    assert key.name == "example.org/pem"
    assert key.verifier().verify(b"m", priv.sign(b"m"))


def test_unwritable_place_is_a_clear_error(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    os.chmod(d, 0o500)
    try:
        if os.access(d, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(InputError, match="VATIO_KEY"):
            load_or_create_key(d / "sub" / "k")
    finally:
        os.chmod(d, 0o700)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\tname", "new\nline"])
def test_bad_key_names_are_refused(name):
    with pytest.raises(InputError):
        SigningKey.generate(name)


def test_key_repr_has_no_secret():
    key = SigningKey.from_skey(GO_SKEY)
    assert "PRIVATE" not in repr(key) and "AYEK" not in repr(key)
