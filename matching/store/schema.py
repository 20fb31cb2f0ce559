"""Create and migrate the store's schema with the Alembic migrations shipped in this package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from matching.store.db import database_errors, make_engine, read_only, shown
from matching.store.errors import SchemaError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for the package's migrations (no `alembic.ini` needed).

    Args:
        url: the database URL for Alembic's own command line use; `upgrade` passes a connection.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise SchemaError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None when it has no schema yet."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str | None = None) -> str:
    """Create the schema, or migrate it to the newest revision, in one transaction.

    Running it on an up-to-date database changes nothing.

    Args:
        url: a database URL; None for `JOBMATCH_DATABASE_URL` or the embedded SQLite default.

    Returns:
        The revision the database is at afterwards.

    Raises:
        DatabaseUnavailableError: when the database cannot be reached.
    """
    engine = make_engine(url)
    try:
        with database_errors(engine), engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            revision = current_revision(connection)
    finally:
        engine.dispose()
    return revision or ""


def require_current(engine: Engine) -> None:
    """Check the database is at the newest revision before reading or writing records.

    Raises:
        SchemaError: when it has no schema or an older (or unknown newer) one.
        DatabaseUnavailableError: when the database cannot be reached.
    """
    with database_errors(engine), read_only(engine).connect() as connection:
        revision = current_revision(connection)
    head = head_revision()
    if revision != head:
        state = "has no jobmatch schema" if revision is None else f"is at revision {revision}, not {head}"
        raise SchemaError(f"the database {shown(engine.url)} {state}; run: jobmatch db upgrade --database-url URL")
