"""User-facing errors: one clear sentence and a hint; the CLI exits 2 on them."""

from __future__ import annotations


class VatioError(Exception):
    """A mistake the user can fix; never shown with a traceback."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} {self.hint}"


class ProfileError(VatioError):
    """The profile (vatio.toml / [tool.vatio] / flags) holds a bad value."""


class UnknownZoneError(VatioError):
    """A grid zone that vatio has no carbon-intensity data for."""


class StoreError(VatioError):
    """The run store cannot be opened or written."""


class UnknownRunError(VatioError):
    """A run id that is not in the store."""


class InputError(VatioError):
    """A malformed value given on the command line or in a file."""


class SensorUnavailable(Exception):
    """A sensor that cannot be used here; the message says why and how to fix it."""


class SensorReadError(Exception):
    """A transient failure reading a sensor that worked before (counted, not fatal)."""
