"""Re-export of `vatio.canonical`, kept so provenance code has one import path."""

from vatio.canonical import canonical_json, sha256_hex

__all__ = ["canonical_json", "sha256_hex"]
