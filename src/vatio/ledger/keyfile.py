"""The machine key on disk: found (VATIO_KEY, the config folder), read (signer-key text or
a PKCS#8 PEM), or created once with mode 0600 and written atomically.

The key types and their text forms are `vatio.ledger.keys`; this module is only where the
key lives and how it gets there.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from vatio.ledger.errors import LedgerKeyError
from vatio.ledger.keys import SigningKey, check_name


def default_key_path() -> Path:
    """``$VATIO_KEY``, else ``$XDG_CONFIG_HOME/vatio/keys/ed25519`` (~/.config by default)."""
    env = os.environ.get("VATIO_KEY")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vatio" / "keys" / "ed25519"


def default_key_name() -> str:
    """``vatio-<hostname>``, with characters a key name may not hold replaced by '-'."""
    from vatio.hostname import machine_name

    host = re.sub(r"[^A-Za-z0-9._/-]", "-", machine_name()) or "localhost"
    return f"vatio-{host}"


def _fix_hint(path: Path) -> str:
    return f"Move {path} away to let vatio create a new key, or restore it from a backup."


def _read_key(path: Path, name: str | None) -> SigningKey:
    try:
        st = os.stat(path)
    except OSError as e:
        raise LedgerKeyError(f"Cannot read the key file {path}: {e.strerror}.", None) from e
    import stat as stat_mod

    if not stat_mod.S_ISREG(st.st_mode):
        raise LedgerKeyError(f"The key path {path} is not a regular file.", _fix_hint(path))
    if os.name == "posix" and st.st_mode & 0o077:
        raise LedgerKeyError(
            f"The key file {path} can be read by other users (mode {st.st_mode & 0o777:04o}).",
            f"Run `chmod 600 {path}`, and replace the key if others may have copied it.",
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LedgerKeyError(f"Cannot read the key file {path}: {e.strerror}.", None) from e
    if len(data) > 64 * 1024:
        raise LedgerKeyError(f"The key file {path} is not an Ed25519 key.", _fix_hint(path))
    text = data.decode("utf-8", "replace").strip()
    try:
        if text.startswith("PRIVATE+KEY+"):
            key = SigningKey.from_skey(text)
        elif text.startswith("-----BEGIN"):
            key = _from_pem(data, name or default_key_name())
        else:
            raise LedgerKeyError("unknown format")
    except LedgerKeyError as e:
        raise LedgerKeyError(
            f"The key file {path} is not a valid Ed25519 key ({e.message.rstrip('.')}).",
            _fix_hint(path),
        ) from None
    return key.with_name(name) if name and name != key.name else key


def _from_pem(data: bytes, name: str) -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        priv = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise LedgerKeyError("unreadable PEM") from e
    if not isinstance(priv, Ed25519PrivateKey):
        raise LedgerKeyError("a PEM key that is not Ed25519")
    return SigningKey(priv, check_name(name))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _create_key(path: Path, name: str) -> None:
    """Write a new key so that racing creators all end up with the first one written."""
    parent = path.parent
    if not parent.exists():
        parent.mkdir(parents=True, exist_ok=True)
        os.chmod(parent, 0o700)
    key = SigningKey.generate(name)
    payload = (key.skey() + "\n").encode()
    tmp = parent / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process got there first: we then use its key
    except FileExistsError:
        pass
    except OSError:
        # No hard links here (some network or FUSE file systems): exclusive create instead.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            try:
                os.write(fd, payload)
                os.fsync(fd)
            finally:
                os.close(fd)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(parent)


def load_or_create_key(path: Path | None = None, name: str | None = None) -> SigningKey:
    """The machine's signing key, created on first use (mode 0600, directory 0700).

    ``name`` overrides the name stored in the key file; the key hash (and so
    the vkey verifiers need) depends on it. Raises LedgerKeyError, with the
    fix, for a key file others can read or that does not hold a key.
    """
    path = Path(path) if path is not None else default_key_path()
    if not path.exists() and not path.is_symlink():
        try:
            _create_key(path, check_name(name or default_key_name()))
        except OSError as e:
            raise LedgerKeyError(
                f"Cannot create the signing key {path}: {e.strerror}.",
                "Set VATIO_KEY to a writable path, or fix the directory's permissions.",
            ) from e
    last: LedgerKeyError | None = None
    for _ in range(20):  # a creator without hard links may still be writing
        try:
            return _read_key(path, name)
        except LedgerKeyError as e:
            last = e
            try:
                fresh = time.time() - os.stat(path).st_mtime < 2
            except OSError:
                fresh = False
            if "not a valid" not in e.message or not fresh:
                raise
            time.sleep(0.05)
    assert last is not None
    raise last
