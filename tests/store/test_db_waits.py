"""The service's waits on PostgreSQL are bounded (`matching.store.db.limit_waits`): a server that
accepts the connection but never answers is given up after the connect timeout, a statement that
runs too long is cancelled after the statement timeout, and both errors count as the database
being unavailable (the API answers them 503, `serving.outage`). The command-line jobs' engines
are not limited."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from matching.store.db import limit_waits, make_engine, unavailable


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a stuck database host)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not done.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    done.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    listener.close()


def test_a_silent_server_is_given_up_after_the_connect_timeout(silent_server: int) -> None:
    engine = make_engine(f"postgresql://nobody@127.0.0.1:{silent_server}/nothing")
    limit_waits(engine, connect_timeout=2, statement_timeout=3.0)
    started = time.monotonic()
    with pytest.raises(Exception) as raised, engine.connect():
        pass
    waited = time.monotonic() - started
    assert unavailable(raised.value), raised.value
    assert 1.5 <= waited <= 4.0, f"waited {waited:.1f} s for a 2 s connect timeout"


def test_a_long_statement_is_cancelled_after_the_statement_timeout(postgres_database: str) -> None:
    engine = make_engine(postgres_database)
    limit_waits(engine, connect_timeout=2, statement_timeout=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(Exception) as raised, engine.connect() as connection:
            connection.execute(text("SELECT pg_sleep(5)"))
        waited = time.monotonic() - started
        assert unavailable(raised.value) and "statement timeout" in str(raised.value), raised.value
        assert waited < 3.0, f"waited {waited:.1f} s for a 0.5 s statement timeout"
        with engine.connect() as connection:  # the engine serves on
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_the_jobs_engines_are_not_limited(postgres_database: str) -> None:
    engine = make_engine(postgres_database)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "0"
    finally:
        engine.dispose()
