"""The store's declarative base: the column types every table shares (UTC timestamps read back
timezone-aware, JSON for lists and mappings), stable constraint names for migrations, and
`quoted` for CHECK constraints. The tables themselves are `matching.store.models`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Double, MetaData, String, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations can name what they alter on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def quoted(values: tuple[str, ...]) -> str:
    """`values` as an SQL list of string literals (for CHECK constraints)."""
    return ", ".join(f"'{v}'" for v in values)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and read back timezone-aware on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: give a timezone-aware time")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def table_of(model: type[Base]) -> Table:
    """The table behind a mapped class, for Core statements: a statement built on the table runs
    without the ORM's bookkeeping (an insert through the ORM cost five times the Core one, a
    select of the same columns twice), the column types (UTC times, JSON) applying as before."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Base(DeclarativeBase):
    """The tables' common base: one metadata with the naming convention, one type per annotation."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        str: String(),
        float: Double(),
        list[str]: JSON(),
        dict[str, Any]: JSON(),
        dt.datetime: UTCDateTime(),
    }
