"""A fresh PostgreSQL database for tests: created with a random name on the server at
JOBMATCH_TEST_POSTGRES_URL (default the one on 127.0.0.1:5432), dropped afterwards. When no server
answers the test skips and says why, except under CI=true, where it fails: CI starts a server
(.ci/run), so a missing one is a broken run, not a reason to test less."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

SERVER_URL = os.environ.get("JOBMATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def server_engine() -> Engine:
    return create_engine(
        make_url(SERVER_URL).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )


@contextmanager
def fresh_postgres_database(prefix: str, what: str) -> Iterator[str]:
    """The URL of a new, empty database; `what` names the tests in the skip or fail message."""
    server = server_engine()
    try:
        with server.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means: no server to test against
        server.dispose()
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        message = f"PostgreSQL at {make_url(SERVER_URL).render_as_string(hide_password=True)} does not answer: {reason}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true: {what} must run, see .ci/run)")
        pytest.skip(f"{message}; start one (e.g. .ci/run does) to run {what}")
    name = f"{prefix}_{secrets.token_hex(6)}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(SERVER_URL)
            .set(drivername="postgresql+psycopg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
