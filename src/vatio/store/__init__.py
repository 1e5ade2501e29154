"""The run store: SQLAlchemy Core over SQLite by default, any SQLAlchemy URL otherwise."""

from vatio.store.runstore import RunStore, open_store

__all__ = ["RunStore", "open_store"]
