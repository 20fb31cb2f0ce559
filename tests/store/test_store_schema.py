"""The schema: migrations create every table the models declare, on both backends, and again is a no-op."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, Boolean, Date, Double, Integer, String, Text, inspect, text

from jobmatch import main
from matching.records import table_schemas
from matching.store.base import Base
from matching.store.contract import load_folder
from matching.store.db import make_engine
from matching.store.errors import SchemaError
from matching.store.models import CONTRACT_MODELS, STORE_ONLY_COLUMNS
from matching.store.schema import head_revision, upgrade

KIND_TYPES = {"str": String, "float": Double, "int": Integer, "bool": Boolean, "date": Date}


def schema_snapshot(url):
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        return {
            table: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                sorted(i["name"] for i in inspector.get_indexes(table)),
                sorted(c["name"] for c in inspector.get_check_constraints(table)),
                sorted(f["name"] for f in inspector.get_foreign_keys(table)),
            )
            for table in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def test_upgrade_from_empty_creates_every_table_and_again_changes_nothing(database_url):
    assert upgrade(database_url) == head_revision()
    first = schema_snapshot(database_url)
    assert set(first) == set(Base.metadata.tables) | {"alembic_version"}
    assert upgrade(database_url) == head_revision()
    assert schema_snapshot(database_url) == first


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        declared = sorted(c.name for c in table.constraints if c.__class__.__name__ == "CheckConstraint")
        assert sorted(c["name"] for c in inspector.get_check_constraints(table.name)) == declared
        indexed = {column for index in inspector.get_indexes(table.name) for column in index["column_names"]}
        for column in ("candidate_id", "shortlist_id", "adviser_id", "shortlist_item_id"):
            if column in table.c and not table.c[column].primary_key:
                assert column in indexed, f"{table.name}.{column} has no index"


@pytest.mark.parametrize("name", list(CONTRACT_MODELS))
def test_contract_tables_hold_every_contract_column_with_its_type(name):
    table = CONTRACT_MODELS[name].__table__
    for column in table_schemas()[name]:
        stored = table.c[column.name]
        expected = JSON if column.kind == "codes" else KIND_TYPES[column.kind]
        if column.name == "reason":
            expected = Text
        assert isinstance(stored.type, expected), f"{name}.{column.name}: {stored.type!r}"
        assert stored.nullable == (not column.required), f"{name}.{column.name} nullable"
    extra = {c.name for c in table.c} - {c.name for c in table_schemas()[name]}
    assert extra <= {"id", *STORE_ONLY_COLUMNS.get(name, ())}
    assert all(table.c[c].nullable for c in STORE_ONLY_COLUMNS.get(name, ()))


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
    finally:
        engine.dispose()


def test_default_url_is_sqlite_in_data_unless_the_environment_says_otherwise(monkeypatch, tmp_path):
    from matching.store.db import database_url

    monkeypatch.delenv("JOBMATCH_DATABASE_URL", raising=False)
    monkeypatch.setenv("JOBMATCH_HOME", str(tmp_path))
    assert database_url().database == str(tmp_path / "data" / "jobmatch.db")
    monkeypatch.setenv("JOBMATCH_DATABASE_URL", "postgresql://u@h/db")
    assert database_url().drivername == "postgresql+psycopg"
    assert database_url("sqlite:///other.db").database == "other.db"


def test_records_need_the_schema_first(database_url, store_data):
    engine = make_engine(database_url)
    try:
        with pytest.raises(SchemaError, match="jobmatch db upgrade"):
            load_folder(engine, store_data)
    finally:
        engine.dispose()


def test_db_upgrade_command_prints_the_revision(database_url, capsys):
    assert main(["db", "upgrade", "--database-url", database_url]) == 0
    assert f"schema at revision {head_revision()}" in capsys.readouterr().out


def test_an_unreachable_database_is_a_message_not_a_traceback(capsys):
    url = "postgresql://nobody@127.0.0.1:9/none"
    assert main(["db", "upgrade", "--database-url", url]) == 2
    assert "error: database postgresql+psycopg://nobody@127.0.0.1:9/none" in capsys.readouterr().err


def test_sqlite_writers_take_the_lock_at_begin_and_readers_do_not(tmp_path):
    import sqlite3

    from matching.store.db import session_scope

    path = tmp_path / "x.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    try:
        with session_scope(engine) as session:
            session.execute(text("SELECT 1"))  # a writer's transaction holds the write lock from its start
            with session_scope(engine, readonly=True) as reader:
                assert reader.execute(text("SELECT count(*) FROM candidates")).scalar() == 0
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
    finally:
        engine.dispose()
