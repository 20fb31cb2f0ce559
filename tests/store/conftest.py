"""Store fixtures: every store test runs against SQLite (a file in tmp_path) and PostgreSQL.

PostgreSQL is the server on 127.0.0.1:5432 (override with JOBMATCH_TEST_POSTGRES_URL, a URL of a
database to connect to for CREATE DATABASE). One database with a random name is created for the
test session and dropped after; each test starts from an empty `public` schema. When the server
does not answer the PostgreSQL cases skip, except under CI=true, where they fail: CI starts a
server (.ci/run), so a missing one is a broken run, not a reason to test less.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from matching.store.db import make_engine
from matching.store.schema import upgrade
from tests.postgres import fresh_postgres_database

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database for this test session (dropped afterwards)."""
    with fresh_postgres_database("jobmatch_test", "the PostgreSQL store tests") as url:
        yield url


def empty_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database, once on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_database")
    empty_postgres(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database with the newest schema and no records."""
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def store_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic dataset (200 candidates x 300 workplaces), parquet."""
    from training.synthetic import generate_dataset

    folder = tmp_path_factory.mktemp("store-data")
    generate_dataset(folder, 200, 300, seed=1)
    return folder


@pytest.fixture
def loaded(engine: Engine, store_data: Path) -> Engine:
    """The store with `store_data` loaded."""
    from matching.store.contract import load_folder

    load_folder(engine, store_data)
    return engine
