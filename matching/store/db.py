"""Engines and transactions: SQLite in `data/` by default, PostgreSQL (psycopg 3) through a URL.

A PostgreSQL engine checks a pooled connection that sat idle for a second or more before handing
it out (`IDLE_PING_SECONDS`; a busy pool pays nothing), so a server that went away and came back
while the service was quiet is met with fresh connections instead of failing requests; and
SQLAlchemy drops the whole pool at the first disconnect error a busy service meets. The service bounds its waits on top
(`limit_waits`: a connect timeout and a statement timeout), so a request meets an absent or
stuck server with an error in seconds, never a hang; `unavailable` tells such errors from others.
"""

from __future__ import annotations

import collections
import fcntl
import inspect
import json
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from matching.paths import project_root
from matching.store.errors import DatabaseUnavailableError

DATABASE_URL_ENV = "JOBMATCH_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY_OPTION = "jobmatch_read_only"
IDLE_PING_SECONDS = 1.0


def default_database_url() -> str:
    """The embedded store: `sqlite:///<project>/data/jobmatch.db`."""
    return f"sqlite:///{project_root() / 'data' / 'jobmatch.db'}"


def database_url(url: str | None = None) -> URL:
    """The URL to use: `url` if given, else `JOBMATCH_DATABASE_URL`, else the embedded SQLite file.

    A bare `postgresql://` (or `postgres://`) URL gets the psycopg 3 driver.

    Raises:
        DatabaseUnavailableError: when the URL cannot be parsed.
    """
    text = url or os.environ.get(DATABASE_URL_ENV) or default_database_url()
    try:
        parsed = make_url(text)
    except ArgumentError as error:
        raise DatabaseUnavailableError(f"not a database URL: {text!r} ({error})") from error
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def shown(url: URL) -> str:
    """The URL as it may be printed: without its password."""
    return url.render_as_string(hide_password=True)


def read_json(text: str | bytes) -> Any:
    """A stored JSON value: orjson reads it (the items of a shortlist are read on every review
    request, and the standard library's decoder was a tenth of a worker's time under load); what
    orjson refuses but the standard library wrote (NaN, Infinity) is read by the standard library."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def write_json(value: Any) -> str:
    """A JSON value as stored: orjson writes it (the store's values are plain JSON already, see
    `matching.store.values.plain_json`, and the standard library's encoder was a tenth of a
    shortlist's time); what orjson refuses (keys that are not text) the standard library writes."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def make_engine(url: str | None = None, **options: Any) -> Engine:
    """An engine for `url` (see `database_url`), ready for the store.

    SQLite connections get WAL, foreign keys and a busy timeout, and each transaction starts with
    `BEGIN IMMEDIATE`: it takes the write lock at once, so two writers wait for each other (up to
    the busy timeout) instead of one failing half-way when it upgrades a read to a write. Sessions
    that only read can say so (`session_scope(engine, readonly=True)`) and begin deferred.
    The folder of an SQLite file is created if missing. A PostgreSQL connection idle for
    `IDLE_PING_SECONDS` or more is checked before use, so connections a restarted server dropped
    are replaced unseen.

    Args:
        url: a database URL; None for `JOBMATCH_DATABASE_URL` or the embedded default.
        options: passed to `sqlalchemy.create_engine`.

    Raises:
        DatabaseUnavailableError: for a URL that cannot be parsed or whose driver is not installed.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = os.path.dirname(os.path.abspath(parsed.database))
        os.makedirs(folder, exist_ok=True)
    try:
        engine = create_engine(parsed, **{"json_serializer": write_json, "json_deserializer": read_json, **options})
    except (ArgumentError, NoSuchModuleError) as error:
        raise DatabaseUnavailableError(f"cannot use {shown(parsed)}: {error}") from error
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate)
    elif engine.dialect.name == "postgresql":
        _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: Engine) -> None:
    """Check a pooled connection that was idle for `IDLE_PING_SECONDS` or more before it is handed
    out (a connection in steady use is not: `pool_pre_ping` would cost every checkout a round
    trip). A dead one makes the pool connect afresh (`DisconnectionError`)."""

    def returned(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def handed_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError(f"a pooled connection is gone: {type(error).__name__}") from error

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", handed_out)


def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy's "begin" event (below) open transactions instead of the sqlite3 module,
    # which would otherwise begin late (at the first write) and never around DDL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # no fsync inside each commit; `session_scope` makes a commit durable before it returns
        # (`_durable`: one fsync of the WAL for every commit waiting at the time)
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


ON_COMMITTED: ContextVar[Callable[[], None] | None] = ContextVar("on_committed", default=None)
"""Called (in the writer's thread and context) when an SQLite writer has committed and let go of
the write lock, before it waits for its commit to be made durable: the caller's turn to write is
over (`serving.turns` lets the next write request start while this one waits for the disk)."""

_BEGUN = threading.local()  # `writes`: the writing transactions this thread has begun on SQLite


def _begin_immediate(connection: Any) -> None:
    deferred = connection.get_execution_options().get(READ_ONLY_OPTION, False)
    if not deferred:
        _sqlite_turn(connection.engine).lock_file()  # the processes' turn, at a writer's first statement
        _BEGUN.writes = getattr(_BEGUN, "writes", 0) + 1
    connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def read_only(engine: Engine) -> Engine:
    """The same engine (same pool) for transactions that only read: on SQLite they begin deferred,
    so they neither wait for nor block a writer (WAL gives them a consistent snapshot)."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


@contextmanager
def session_scope(engine: Engine, readonly: bool = False, first: bool = False) -> Iterator[Session]:
    """One session in one transaction: committed whole when the block ends, rolled back whole on error.

    Objects stay readable after the commit (no expiry), so results can be returned from the block.

    Args:
        engine: the store.
        readonly: the block only reads (see `read_only`); on PostgreSQL this changes nothing.
        first: on SQLite, this writer goes before this process's writers already waiting (the
            audit entries that reads wait on: a read should not queue behind every write).
    """
    bind = read_only(engine) if readonly else engine
    landed: list[Landing] = []
    begun = getattr(_BEGUN, "writes", 0)
    try:
        with (
            _writer_turn(engine, readonly, first),
            Session(bind, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session
            if not readonly:
                _board(engine, session, landed)
        if not readonly and getattr(_BEGUN, "writes", 0) != begun:  # SQLite: a writer that wrote nothing syncs nothing
            committed = ON_COMMITTED.get()
            if committed is not None:
                committed()
            _durable(engine)
    except BaseException as error:
        for landing in landed:
            landing(error)
        raise
    for landing in landed:
        landing(None)


@contextmanager
def _writer_turn(engine: Engine, readonly: bool, first: bool = False) -> Iterator[None]:
    """SQLite takes one writer at a time; other writers poll with growing sleeps (busy timeout),
    which under load leaves some waiting seconds. Writers of this process queue on a lock first
    (`first` ones ahead of the rest), then writers of all processes on the file lock beside the
    database (`_FileTurn`, taken at the transaction's first statement: a writer with nothing to
    write does not wait for the other processes), so they take turns at once, woken by the kernel.
    The lock is reentrant: a writer may open a nested write session in the same thread, as before."""
    if readonly or engine.dialect.name != "sqlite":
        yield
        return
    turn = _sqlite_turn(engine)
    turn.lock.acquire(first)
    turn.depth += 1
    try:
        yield
    finally:
        turn.depth -= 1
        if turn.depth == 0:
            turn.unlock_file()
        turn.lock.release()


Landing = Callable[[BaseException | None], None]
"""Told once a transaction a rider boarded is durable (None) or failed (the error)."""
Rider = Callable[[Session], Landing | None]
"""Adds rows waiting for a transaction of their own to a writer's transaction (see `add_rider`)."""


def add_rider(engine: Engine, rider: Rider) -> None:
    """On SQLite, where writers take turns: let every writing transaction of this process on the
    database carry rows that wait for a transaction of their own (the audit entries of reads),
    instead of each batch of them taking a turn. `rider` is called in the writer's transaction
    after the writer's own statements, holding the write lock; it inserts what waits and returns
    whom to tell once the commit is durable or failed, or None for nothing to carry. A writer
    whose own statements fail carries nothing. The rider is held weakly (a bound method lives as
    long as its object). Nothing where there are no turns (PostgreSQL)."""
    if engine.dialect.name != "sqlite":
        return
    turn = _sqlite_turn(engine)
    reference = weakref.WeakMethod(rider) if inspect.ismethod(rider) else weakref.ref(rider)
    with _TURNS_GUARD:
        turn.riders = [*(alive for alive in turn.riders if alive() is not None), reference]


def _board(engine: Engine, session: Session, landed: list[Landing]) -> None:
    """Let the riders of the database insert what waits; whom to tell goes into `landed` as each
    boards (so those boarded before a rider that fails are told of the failure too)."""
    if engine.dialect.name != "sqlite":
        return
    for reference in _sqlite_turn(engine).riders:
        rider = reference()
        landing = rider(session) if rider is not None else None
        if landing is not None:
            landed.append(landing)


# SQLite writers of several processes (`jobmatch serve --workers N`) ----------------------------------


class _TurnLock:
    """A reentrant lock taken in order of arrival, except that waiters marked `first` are served
    before the others, though never twice in a row while others wait (a stream of them cannot
    starve the rest). In order of arrival: a writer's wait is bounded by those ahead of it, where
    a plain lock lets any waiter win each release, and some lose for seconds. A release hands the
    lock to the next waiter and wakes that one alone."""

    _HANDED_OVER = -1  # the owner between a release and the woken waiter's return

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._queues: dict[bool, collections.deque[threading.Event]] = {
            True: collections.deque(),
            False: collections.deque(),
        }
        self._last_first = False

    def acquire(self, first: bool = False) -> None:
        me = threading.get_ident()
        with self._guard:
            if self._owner == me:
                self._depth += 1
                return
            if self._owner is None:
                self._owner, self._depth, self._last_first = me, 1, first
                return
            woken = threading.Event()
            self._queues[first].append(woken)
        woken.wait()
        with self._guard:
            self._owner, self._depth = me, 1

    def owned(self) -> bool:
        """Whether the calling thread holds the lock."""
        return self._owner == threading.get_ident()

    def release(self) -> None:
        with self._guard:
            self._depth -= 1
            if self._depth:
                return
            firsts, others = self._queues[True], self._queues[False]
            if firsts and not (self._last_first and others):
                woken, self._last_first = firsts.popleft(), True
            elif others:
                woken, self._last_first = others.popleft(), False
            else:
                self._owner = None
                return
            self._owner = self._HANDED_OVER
            woken.set()


class _FileTurn:
    """One SQLite database's writers: a reentrant lock for this process's threads, an exclusive
    `flock` on `<database>-writer.lock` for the processes (held by the outermost writer of this
    process), and group durability: commits run with `synchronous=NORMAL` (the WAL is written, not
    synced) and each writer then waits for an fsync of the WAL that began after its commit, so a
    commit is on disk before it is acknowledged, as with `synchronous=FULL`, but one fsync serves
    every commit waiting at the time."""

    def __init__(self, database: str | None) -> None:
        self.lock = _TurnLock()
        self.database = database if database and database != ":memory:" else None
        self.depth = 0  # nested write sessions of the lock's holder
        self.riders: list[weakref.ReferenceType[Any]] = []
        self._handle: Any = None
        self._sync = threading.Condition()
        self._requested = 0
        self._synced = 0
        self._syncing = False

    def lock_file(self) -> None:
        """Take the processes' file lock for the rest of this process's turn (once; by the
        holder of `lock` only: a transaction begun outside `session_scope` takes none, as before)."""
        if self._handle is None and self.database and self.lock.owned():
            handle = open(f"{self.database}-writer.lock", "a")  # noqa: SIM115  (held across calls)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
            except BaseException:
                handle.close()
                raise
            self._handle = handle

    def unlock_file(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def durable(self) -> None:
        """Return once an fsync of the WAL that began after this call has finished."""
        if not self.database:
            return
        with self._sync:
            self._requested += 1
            ticket = self._requested
            while self._synced < ticket:
                if self._syncing:
                    self._sync.wait()
                    continue
                self._syncing, target = True, self._requested
                self._sync.release()
                try:
                    _fsync(f"{self.database}-wal")
                finally:
                    self._sync.acquire()
                    self._syncing = False
                    self._synced = max(self._synced, target)
                    self._sync.notify_all()


def _fsync(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # no WAL: checkpointed and removed, its content synced into the database
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_TURNS: dict[str, _FileTurn] = {}
_TURNS_GUARD = threading.Lock()


def _sqlite_turn(engine: Engine) -> _FileTurn:
    key = str(engine.url)
    with _TURNS_GUARD:
        turn = _TURNS.get(key)
        if turn is None:
            database = engine.url.database
            turn = _TURNS[key] = _FileTurn(os.path.abspath(database) if database and database != ":memory:" else None)
        return turn


def _durable(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        _sqlite_turn(engine).durable()


@contextmanager
def database_errors(engine: Engine) -> Iterator[None]:
    """Turn driver errors (server down, locked file, refused login) into a `DatabaseUnavailableError`
    naming the database, for a message instead of a traceback. Programming errors pass through."""
    try:
        yield
    except DBAPIError as error:
        if error.connection_invalidated or isinstance(error.orig, _operational_errors(engine)):
            raise DatabaseUnavailableError(f"database {shown(engine.url)}: {reason(error)}") from error
        raise


def _operational_errors(engine: Engine) -> tuple[type[BaseException], ...]:
    dbapi = engine.dialect.dbapi
    if dbapi is None:
        return ()
    return tuple(getattr(dbapi, name) for name in ("OperationalError", "InterfaceError") if hasattr(dbapi, name))


_LIMITED: weakref.WeakSet[Engine] = weakref.WeakSet()


def limit_waits(engine: Engine, connect_timeout: int, statement_timeout: float) -> None:
    """Bound what one request can wait for PostgreSQL (the service's engine; SQLite has its busy
    timeout): at most `connect_timeout` seconds to open a connection (libpq counts whole
    seconds, at least 2) and `statement_timeout` seconds for each statement, after which the
    server cancels it. Connections already pooled are replaced, so every connection has the limits.
    """
    if engine.dialect.name != "postgresql" or engine in _LIMITED:
        return
    _LIMITED.add(engine)
    limit = f"-c statement_timeout={max(1, round(statement_timeout * 1000))}"

    def bounded(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["connect_timeout"] = max(2, int(connect_timeout))
        cparams["options"] = f"{cparams.get('options', '')} {limit}".strip()

    event.listen(engine, "do_connect", bounded)
    engine.dispose()


def unavailable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached or did not answer in time (server
    down, connection lost, connect or statement timeout, pool exhausted, locked or busy), as
    opposed to a request that broke a rule of the store. Such a transaction did not commit (unless
    the connection was lost during the commit itself, when the server alone knows)."""
    if isinstance(error, DatabaseUnavailableError | PoolTimeoutError | OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def reason(error: BaseException) -> str:
    """The driver's first line about `error` (no SQL, no parameters): what may be shown and logged."""
    orig = getattr(error, "orig", None)
    words = str(orig if orig is not None else error).strip()
    return words.splitlines()[0] if words else type(error).__name__
