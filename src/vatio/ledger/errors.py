"""Errors of the ledger: bad input a person can fix (the CLI exits 2 on them).

Failed *verification* is not an error: it is a ``Problem`` in a ``VerifyReport``.
"""

from __future__ import annotations

from vatio.errors import InputError


class LedgerError(InputError):
    """Base of the ledger's input errors."""


class NoteError(LedgerError):
    """A signed note or checkpoint that is malformed (not merely badly signed)."""


class LedgerKeyError(LedgerError):
    """A key file or verifier key that cannot be used."""


class LogError(LedgerError):
    """A file log directory that cannot be opened or appended to as asked."""
