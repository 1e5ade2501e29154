"""The run store: SQLAlchemy Core over SQLite by default, any SQLAlchemy URL otherwise.

Import `vatio.store.runstore` for RunStore; this package stays light so that
resolving where the store lives costs no SQLAlchemy import.
"""
