"""Alembic migrations of the run store (run on open by `vatio.store.migrate`)."""
