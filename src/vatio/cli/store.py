"""`vatio store migrate|info`: the run store's schema and where it is."""

from __future__ import annotations

import typer

store_app = typer.Typer(help="Create or upgrade the run store's schema.", no_args_is_help=True)
STORE = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path.")


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store")


@store_app.command("migrate")
def migrate(
    store: str = STORE,
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create the store or upgrade its schema (Alembic); also done whenever a store is opened."""
    from vatio.config import load_profile
    from vatio.store.connection import hide_password
    from vatio.store.location import resolve_url
    from vatio.store.runstore import RunStore
    from vatio.store.schema import HEAD_REVISION, SCHEMA_VERSION

    profile, _ = load_profile(overrides={"store": store})
    url = resolve_url(profile.store)
    before = _version_of(url)
    run_store = RunStore(url)
    data = {
        "store": hide_password(url),
        "schema_version_before": before,
        "schema_version": run_store.state.version,
        "revision": HEAD_REVISION,
        "store_id": run_store.store_id,
    }
    if json_output:
        from vatio.cli.output import print_json

        print_json(data)
        return
    if before is None:
        typer.echo(f"created a new store at {data['store']} (schema version {SCHEMA_VERSION})")
    elif before == SCHEMA_VERSION:
        typer.echo(f"{data['store']} is up to date (schema version {SCHEMA_VERSION})")
    else:
        typer.echo(f"upgraded {data['store']} from schema version {before} to {SCHEMA_VERSION}")


def _version_of(url: str) -> int | None:
    import sqlalchemy as sa

    from vatio.store.migrate import read_state

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return read_state(conn, url).version
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()
