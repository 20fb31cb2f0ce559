"""SQLite writers carry the audit entries of reads waiting meanwhile (`add_rider`): under load a
read's entry goes with the next commit instead of a write turn of its own, is durable when its
caller returns, and is never lost with a writer that fails. A writer with nothing to write does
not wait for the other processes' file lock."""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, select, text

from matching.store.audit import AuditBatcher, query_audit, record_audit
from matching.store.db import _sqlite_turn, make_engine, session_scope
from matching.store.models import AuditEvent
from matching.store.schema import upgrade


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _writing_transactions(engine: Engine) -> list[str]:
    """The writing transactions begun on `engine` from now on (one name per BEGIN IMMEDIATE)."""
    begun: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement == "BEGIN IMMEDIATE":
            begun.append(threading.current_thread().name)

    return begun


def _queued(batcher: AuditBatcher, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(batcher._queue) < count:
        assert time.monotonic() < deadline, "the read's entry was not queued"
        time.sleep(0.005)


def _count(engine: Engine) -> int:
    with session_scope(engine, readonly=True) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_a_reads_entry_goes_with_the_writer_holding_the_lock_and_is_committed_when_its_caller_returns(engine):
    batcher = AuditBatcher(engine)
    begun = _writing_transactions(engine)
    inside, go_on = threading.Event(), threading.Event()

    def writer() -> None:
        with session_scope(engine) as session:
            record_audit(session, "adviser-1", "adviser", "decide", "candidate", "C1")
            inside.set()
            go_on.wait(10)

    def reader() -> None:
        batcher.record("adviser-2", "adviser", "read_shortlist", "candidate", "C2", {"shortlist_id": 7})
        with session_scope(engine, readonly=True) as session:  # committed when record returns
            seen.append(bool(query_audit(session, subject_id="C2")))

    seen: list[bool] = []
    writing = threading.Thread(target=writer, name="writer")
    writing.start()
    assert inside.wait(10)
    reading = threading.Thread(target=reader, name="reader")
    reading.start()
    _queued(batcher, 1)
    go_on.set()
    writing.join(10)
    reading.join(10)
    assert seen == [True]
    assert _count(engine) == 2
    assert begun == ["writer"]  # one transaction carried both entries: the read took no turn


def test_a_writer_that_fails_carries_nothing_and_the_reads_entry_is_committed_on_its_own(engine):
    batcher = AuditBatcher(engine)
    begun = _writing_transactions(engine)
    inside, go_on = threading.Event(), threading.Event()
    failures: list[str] = []

    def writer() -> None:
        try:
            with session_scope(engine) as session:
                record_audit(session, "adviser-1", "adviser", "decide", "candidate", "C1")
                inside.set()
                go_on.wait(10)
                raise RuntimeError("the request broke a rule")
        except RuntimeError as error:
            failures.append(str(error))

    writing = threading.Thread(target=writer, name="writer")
    writing.start()
    assert inside.wait(10)
    reading = threading.Thread(
        target=batcher.record, args=("adviser-2", "adviser", "read_shortlist", "candidate", "C2"), name="reader"
    )
    reading.start()
    _queued(batcher, 1)
    go_on.set()
    writing.join(10)
    reading.join(10)
    assert failures == ["the request broke a rule"]
    with session_scope(engine, readonly=True) as session:
        assert [row.subject_id for row in query_audit(session)] == ["C2"]  # the writer's entry rolled back
    assert begun == ["writer", "reader"]


def test_many_reads_among_writers_are_all_recorded_once(engine):
    batcher = AuditBatcher(engine)
    errors: list[BaseException] = []

    def read(i: int) -> None:
        try:
            batcher.record("reader", "adviser", "read_shortlist", "candidate", f"R{i}")
        except BaseException as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(error)

    def write(i: int) -> None:
        with session_scope(engine) as session:
            record_audit(session, "writer", "adviser", "decide", "candidate", f"W{i}")

    threads = [threading.Thread(target=read if i % 2 else write, args=(i,)) for i in range(120)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    with session_scope(engine, readonly=True) as session:
        subjects = [row.subject_id for row in query_audit(session, limit=1000)]
    assert sorted(subjects) == sorted(f"{'R' if i % 2 else 'W'}{i}" for i in range(120))


def test_a_writer_with_nothing_to_write_does_not_wait_for_another_process(engine):
    """Another process holds the file lock (an open file description of its own: flock conflicts
    within one process too): a write session without statements returns at once, one with a
    statement waits until the lock is let go."""
    database = _sqlite_turn(engine).database
    assert database is not None
    other = open(f"{database}-writer.lock", "a")  # noqa: SIM115
    fcntl.flock(other, fcntl.LOCK_EX)
    empty, wrote = threading.Event(), threading.Event()

    def session(statement: bool, done: threading.Event) -> threading.Thread:
        def run() -> None:
            with session_scope(engine) as session:
                if statement:
                    session.execute(text("SELECT 1"))
            done.set()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    try:
        threads = [session(False, empty)]
        assert empty.wait(5), "a writer with nothing to write waited for the other process"
        threads.append(session(True, wrote))
        assert not wrote.wait(0.5)  # a writer that writes waits for the other process's turn
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        other.close()
    assert wrote.wait(10)
    for thread in threads:
        thread.join(10)
