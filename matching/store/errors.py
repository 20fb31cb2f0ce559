"""Errors of the database store, importable without loading SQLAlchemy."""

from __future__ import annotations


class StoreError(ValueError):
    """A request to the store breaks one of its rules; `field` names the offending field, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class NotFoundError(StoreError, LookupError):
    """A record the request names does not exist (an unknown shortlist, item or candidate)."""


class SchemaError(StoreError):
    """The database has no schema, or an older one: `jobmatch db upgrade` fixes it."""


class DatabaseUnavailableError(StoreError):
    """The database cannot be reached or refused the operation (bad URL, server down, locked)."""
