"""Secrets never stored or printed: one set of rules for every copy of user text.

A command line, a URL, an error message or a whole record goes through these
functions before it is written to the store, a report or the terminal. The
rules: values of options named like a credential (`--token X`, `--api-key=X`),
`NAME=VALUE` words whose NAME looks like one (`HF_TOKEN=...`), `user:password@`
in URLs, and credential-like query parameters (`?token=...`). No third-party
code: the rules are a few regular expressions, and `import vatio` stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***"

#: name parts that mark a value as a secret (HF_TOKEN, DB_PASSWORD, AWS_SECRET_ACCESS_KEY)
_SECRET_PARTS = frozenset(
    {"TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "APIKEY", "CREDENTIAL",
     "CREDENTIALS", "PWD", "AUTH", "KEY", "ACCESSKEY", "PRIVATEKEY", "SECRETKEY"}
)  # fmt: skip
#: endings of names written without separators (hftoken, dbpassword)
_SECRET_ENDINGS = ("TOKEN", "PASSWORD", "PASSWD", "SECRET", "APIKEY", "CREDENTIALS")
#: names that hold a secret word but no secret (identifiers and paths of public keys)
_NOT_SECRET = frozenset({"KEY_ID", "KEY_HASH", "PUBLIC_KEY", "VKEY", "KEYID", "SIGNER_KEY_ID"})
#: NAME=VALUE words; whether NAME is a secret's name is decided by is_secret_name
_ASSIGNMENT = re.compile(r"(?P<name>\b[A-Za-z_][A-Za-z0-9_.-]*)=(?P<value>[^\s&;\"',]+)")
#: scheme://user:password@host — the password part
_URL_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*):(?P<pw>[^@/\s]*)@")
#: --token VALUE / --token=VALUE inside free text
_TEXT_OPTION = re.compile(
    r"(?P<opt>--?[A-Za-z][A-Za-z0-9_-]*)(?P<sep>=|[ \t]+)(?P<value>[^\s\"']+)"
)


def is_secret_option(option: str) -> bool:
    """True for option names such as --token, --api-key, --db-password, --key."""
    if not option.startswith("-"):
        return False
    name = option.lstrip("-").split("=", 1)[0]
    return bool(name) and is_secret_name(name)


def is_secret_name(name: str) -> bool:
    """True for names such as HF_TOKEN, AWS_SECRET_ACCESS_KEY, db-password, apiKey."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper()
    if spaced.replace("-", "_") in _NOT_SECRET:
        return False
    parts = [p for p in re.split(r"[^A-Z0-9]+", spaced) if p]
    if not parts:
        return False
    if any(p in _SECRET_PARTS for p in parts):
        return True
    joined = "".join(parts)
    return joined.endswith(_SECRET_ENDINGS) or "APIKEY" in joined


def redact_text(text: str) -> str:
    """A copy of `text` with every credential the rules recognise replaced by ***."""
    if not text:
        return text
    out = _URL_USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", text)
    out = _ASSIGNMENT.sub(
        lambda m: f"{m['name']}={MASK}" if is_secret_name(m["name"]) else m[0], out
    )
    return _TEXT_OPTION.sub(
        lambda m: (
            f"{m['opt']}{m['sep']}{MASK}"
            if is_secret_option(m["opt"]) and m["value"] != MASK
            else m[0]
        ),
        out,
    )


def redact_argv(argv: Iterable[str] | None) -> list[str] | None:
    """A command line with secret option values, assignments and URL passwords masked."""
    if argv is None:
        return None
    words = [str(word) for word in argv]
    out: list[str] = []
    mask_next = False
    for word in words:
        if mask_next:
            out.append(MASK)
            mask_next = False
            continue
        if word.startswith("-") and is_secret_option(word):
            if "=" in word:
                out.append(word.split("=", 1)[0] + "=" + MASK)
            else:
                out.append(word)
                mask_next = True
            continue
        out.append(_redact_word(word))
    return out


def _redact_word(word: str) -> str:
    out = _URL_USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", word)
    name, sep, value = out.partition("=")
    if sep and value and is_secret_name(name) and re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        return f"{name}={MASK}"
    return _ASSIGNMENT.sub(
        lambda m: f"{m['name']}={MASK}" if is_secret_name(m["name"]) else m[0], out
    )


def redact_url(url: str | None) -> str | None:
    """A database or web URL without its password (user names stay: they are not secret)."""
    if url is None:
        return None
    return redact_text(url)


def redact_obj(value: Any, key: str | None = None) -> Any:
    """A deep copy of a JSON-like object with secrets masked in every string.

    A string under a key that names a secret (`api_key`, `password`) is masked whole;
    lists under `command`/`argv` keys are treated as command lines.
    """
    if isinstance(value, str):
        if key is not None and is_secret_name(key) and value and value != MASK:
            return MASK
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_obj(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if key in ("command", "argv", "cmdline") and all(isinstance(v, str) for v in value):
            return redact_argv(value)
        return [redact_obj(v) for v in value]
    return value
