"""Where the run store lives, decided without importing SQLAlchemy."""

from __future__ import annotations

from pathlib import Path

from vatio.errors import StoreError

DEFAULT_PATH = Path(".vatio") / "vatio.db"


def resolve_url(spec: str | None, cwd: Path | None = None, *, create: bool = True) -> str:
    """A SQLAlchemy URL from a URL, a file path, or nothing (the default SQLite file).

    Only the default `.vatio/` folder is created; a path the user gave must lie in an
    existing folder, so that a typo does not silently start a new store elsewhere.
    """
    if spec and "://" in spec:
        return spec
    if spec is not None and not spec.strip():
        raise StoreError("The store path is empty.", "Give a file path or a database URL.")
    try:
        return _resolve(spec, cwd, create)
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise StoreError(
            f"The store path {str(spec)[:120]} is not usable: {reason}.",
            "Give a file path or a database URL with --store or VATIO_STORE.",
        ) from None


def _resolve(spec: str | None, cwd: Path | None, create: bool) -> str:
    base = cwd or Path.cwd()
    path = Path(spec).expanduser() if spec else base / DEFAULT_PATH
    if not path.is_absolute():
        path = base / path
    if path.is_dir():
        raise StoreError(
            f"The store path {path} is a folder.", "Give a file path, e.g. .vatio/vatio.db."
        )
    if create:
        if spec is None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(
                    f"Cannot create the store folder {path.parent}: {error.strerror}.",
                    "Pass a writable path with --store or VATIO_STORE.",
                ) from None
        elif not path.parent.is_dir():
            raise StoreError(
                f"The folder of the store {path} does not exist.",
                "Create the folder first, or fix the path given with --store or VATIO_STORE.",
            )
    return f"sqlite:///{path.resolve()}"
