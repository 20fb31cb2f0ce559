"""Where the store stands, in one cheap read per request: the newest entry of the change log of
served records (`matching.store.changes`) and the newest control entry of the audit trail (the
scoring switch and model reloads, subject `service`/`scoring` and `service`/`model`). Each API
worker compares them with what it has applied, so what one worker changed is served by every
worker from its next request on."""

from __future__ import annotations

import sqlite3
import threading
import weakref

from sqlalchemy import ColumnElement, Engine, and_, event, func, or_, select
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from matching.store.db import SQLITE_BUSY_TIMEOUT_MS, read_only
from matching.store.models import AuditEvent, RecordChange

CONTROL_TYPE = "service"
CONTROL_SUBJECTS = ("scoring", "model")  # the scoring switch; model reloads (loaded or refused)
RELOAD_ACTIONS = ("model_reload", "model_reload_refused")


def _is_control() -> ColumnElement[bool]:
    # equalities, not IN: a literal IN list is expanded anew at every execution
    subjects = or_(*(AuditEvent.subject_id == subject for subject in CONTROL_SUBJECTS))
    return and_(AuditEvent.subject_type == CONTROL_TYPE, subjects)


ControlHead = tuple[int, int]  # (how many control entries, the newest one's id)

_HEADS = select(
    select(func.max(RecordChange.id)).scalar_subquery(),
    select(func.count()).select_from(AuditEvent).where(_is_control()).scalar_subquery(),
    select(func.max(AuditEvent.id)).where(_is_control()).scalar_subquery(),
)


def store_heads(engine: Engine) -> tuple[int, ControlHead]:
    """The newest change id (0 for none) and the control entries' head: one statement of index
    reads, no ORM session. The head counts the entries too: on PostgreSQL an entry can commit
    after one with a higher id was seen, which changes the count though not the newest id.

    On an SQLite file it is read on a connection of this thread's own, outside the engine's pool
    (`_sqlite_reader`): it is read with every request, and the pool's checkout, transaction and
    statement cache cost ten times the read. Should that connection fail, the engine reads."""
    reader = _sqlite_reader(engine)
    if reader is not None:
        try:
            row = reader.execute(_HEADS_SQLITE).fetchone()
        except sqlite3.Error:
            _READERS.pop(engine, None)
        else:
            change, count, newest = row
            return int(change or 0), (int(count or 0), int(newest or 0))
    with read_only(engine).connect() as connection:
        change, count, newest = connection.execute(_HEADS).one()
    return int(change or 0), (int(count or 0), int(newest or 0))


def store_heads_at_once(engine: Engine) -> tuple[int, ControlHead] | None:
    """`store_heads` where it can be read without waiting, for the event loop: on an SQLite file,
    on a connection of this thread's own that never waits for a lock (a busy file answers None
    at once); None for another database, whose read may wait on the network."""
    reader = _sqlite_reader(engine, at_once=True)
    if reader is None:
        return None
    try:
        change, count, newest = reader.execute(_HEADS_SQLITE).fetchone()
    except sqlite3.Error:
        _READERS.pop(engine, None)
        return None
    return int(change or 0), (int(count or 0), int(newest or 0))


_HEADS_SQLITE = str(_HEADS.compile(dialect=sqlite_dialect(), compile_kwargs={"literal_binds": True}))
_READERS: weakref.WeakKeyDictionary[Engine, threading.local] = weakref.WeakKeyDictionary()
_READERS_GUARD = threading.Lock()


def _sqlite_reader(engine: Engine, at_once: bool = False) -> sqlite3.Connection | None:
    """This thread's reading connection to the engine's SQLite file (autocommit: each read sees
    the latest commit, WAL keeps it from waiting for writers); None for another database, an
    in-memory one or a URL with options. `at_once`: a second connection of the thread's, which
    fails instead of waiting when the file is busy (WAL readers rarely are: during a recovery)."""
    url = engine.url
    if engine.dialect.name != "sqlite" or not url.database or url.database == ":memory:" or url.query:
        return None
    with _READERS_GUARD:
        local = _READERS.get(engine)
        if local is None:
            local = _READERS[engine] = threading.local()
            # the readers go with the pool's connections (`Engine.dispose`): closed once unreferenced
            event.listen(engine, "engine_disposed", lambda disposed: _READERS.pop(disposed, None))
    name = "at_once" if at_once else "connection"
    reader: sqlite3.Connection | None = getattr(local, name, None)
    if reader is None:
        try:
            reader = sqlite3.connect(url.database, isolation_level=None, timeout=0 if at_once else 5.0)
            reader.execute(f"PRAGMA busy_timeout={0 if at_once else SQLITE_BUSY_TIMEOUT_MS}")
        except sqlite3.Error:
            return None
        setattr(local, name, reader)
    return reader


def control_head(engine: Engine) -> ControlHead:
    """The control entries' head (see `store_heads`)."""
    return store_heads(engine)[1]
