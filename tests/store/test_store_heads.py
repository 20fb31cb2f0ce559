"""Where the store stands (`store_heads`), read with every request: a commit by any writer shows
in the next read, on both backends; on an SQLite file the read goes through a connection of the
reading thread's own, which gives what the engine gives and steps aside when it fails. The event
loop's read (`store_heads_at_once`) never waits: it answers only on an SQLite file, on a connection
without a busy timeout."""

from __future__ import annotations

import threading

import pytest

from matching.store import heads
from matching.store.audit import record_audit
from matching.store.changes import record_changes
from matching.store.db import make_engine, session_scope
from matching.store.heads import store_heads, store_heads_at_once


def engine_read(engine):
    """The heads read through the engine's pool, as on PostgreSQL."""
    with heads.read_only(engine).connect() as connection:
        change, count, newest = connection.execute(heads._HEADS).one()
    return int(change or 0), (int(count or 0), int(newest or 0))


def test_a_commit_shows_in_the_next_read_from_any_thread(engine):
    assert store_heads(engine) == (0, (0, 0))
    with session_scope(engine) as session:
        record_changes(session, "workplaces", ["w1", "w2"], "api")
        record_audit(session, "ops", "operator", "model_off", "service", "scoring")
        record_audit(session, "ops", "operator", "read", "candidate", "c1")  # not a control entry
    first = store_heads(engine)
    assert first[0] == 2 and first[1][0] == 1 and first[1][1] > 0
    assert first == engine_read(engine)

    seen: list[tuple[int, tuple[int, int]]] = []
    other = threading.Thread(target=lambda: seen.append(store_heads(engine)))
    other.start()
    other.join()
    assert seen == [first]

    # a writer with an engine of its own (another worker): seen by this thread's next read
    writer = make_engine(str(engine.url.render_as_string(hide_password=False)))
    try:
        with session_scope(writer) as session:
            record_audit(session, "ops", "operator", "model_reload", "service", "model")
            record_changes(session, "candidates", ["c1"], "api")
    finally:
        writer.dispose()
    second = store_heads(engine)
    assert second[0] == 3 and second[1][0] == 2 and second[1][1] > first[1][1]
    assert second == engine_read(engine)


def test_on_sqlite_a_failing_reader_gives_way_to_the_engine(tmp_path):
    from matching.store.schema import upgrade

    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            record_changes(session, "workplaces", ["w1"], "api")
        assert store_heads(engine)[0] == 1
        reader = heads._sqlite_reader(engine)
        assert reader is not None  # this thread's own connection was used
        reader.close()  # as if it broke: the next read goes through the engine, then a new reader
        assert store_heads(engine)[0] == 1
        assert heads._sqlite_reader(engine) is not reader
        assert store_heads(engine)[0] == 1
    finally:
        engine.dispose()
    assert engine not in heads._READERS  # disposed: its readers go too


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_store_reads_through_the_engine(url):
    assert heads._sqlite_reader(make_engine(url)) is None


def test_the_loops_read_gives_the_heads_on_an_sqlite_file_and_nothing_on_postgresql(engine):
    with session_scope(engine) as session:
        record_changes(session, "workplaces", ["w1"], "api")
        record_audit(session, "ops", "operator", "model_off", "service", "scoring")
    at_once = store_heads_at_once(engine)
    if engine.dialect.name == "sqlite":
        assert at_once == store_heads(engine) == engine_read(engine)
        assert at_once[0] == 1 and at_once[1][0] == 1
    else:  # a read over the network may wait: the loop leaves it to a worker thread
        assert at_once is None


def test_the_loops_read_never_waits_for_a_lock(tmp_path):
    """A busy file (rare for a WAL reader: a recovery) fails the loop's read at once, where the
    worker threads' read waits up to the busy timeout."""
    from matching.store.db import SQLITE_BUSY_TIMEOUT_MS
    from matching.store.schema import upgrade

    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        assert store_heads_at_once(engine) == (0, (0, 0)) == store_heads(engine)
        at_once, waiting = heads._sqlite_reader(engine, at_once=True), heads._sqlite_reader(engine)
        assert at_once is not None and waiting is not None and at_once is not waiting
        assert at_once.execute("PRAGMA busy_timeout").fetchone() == (0,)
        assert waiting.execute("PRAGMA busy_timeout").fetchone() == (SQLITE_BUSY_TIMEOUT_MS,)
        at_once.close()  # as if it broke: None now (the caller refreshes in a thread), a new one next time
        assert store_heads_at_once(engine) is None
        assert store_heads_at_once(engine) == (0, (0, 0))
    finally:
        engine.dispose()
