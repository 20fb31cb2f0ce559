"""Write turns (serving/turns.py): on an SQLite store a worker runs at most `sqlite_writes_at_once`
write requests at once and starts the rest in order of arrival, while reads are answered at once;
on PostgreSQL nothing waits. Requests go through the middleware over ASGI to handlers that hold
each write open until the test lets it finish, so what runs at once can be counted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import create_engine

from matching.settings import Settings
from serving import turns

WRITES = 6


class Held:
    """Handlers that count the writes running and finish them when told."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.running = 0
        self.most = 0
        self.finish = asyncio.Event()

    def app(self, database_url: str, at_once: int) -> FastAPI:
        app = FastAPI()
        turns.install(app)
        app.state.service = SimpleNamespace(
            engine=create_engine(database_url),  # never connected: its dialect is what counts
            settings=Settings(sqlite_writes_at_once=at_once),
        )

        @app.post("/writes/{n}")
        async def write(n: int) -> dict[str, int]:
            self.started.append(n)
            self.running += 1
            self.most = max(self.most, self.running)
            await self.finish.wait()
            self.running -= 1
            return {"n": n}

        @app.get("/reads")
        async def read() -> dict[str, int]:
            return {"running": self.running}

        return app


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting until {what}")


async def _writes_and_a_read(held: Held, app: FastAPI, running: int) -> tuple[list[int], int]:
    """Send WRITES writes one after another, then, once `running` of them run, a read while they
    are held; the order the writes started in, and how many were running when the read was
    answered."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        sent = []
        for n in range(WRITES):
            sent.append(asyncio.create_task(client.post(f"/writes/{n}")))
            await asyncio.sleep(0.02)  # each reaches the service before the next: arrival order is known
        await _until(lambda: held.running == running, f"{running} writes run")
        read = await asyncio.wait_for(client.get("/reads"), timeout=5)
        assert read.status_code == 200, "a read is answered while writes are held or waiting"
        running_at_read = int(read.json()["running"])
        held.finish.set()
        answers = await asyncio.wait_for(asyncio.gather(*sent), timeout=10)
    assert [a.status_code for a in answers] == [200] * WRITES, "every waiting write is answered in the end"
    assert [a.json()["n"] for a in answers] == list(range(WRITES))
    return held.started, running_at_read


def test_on_sqlite_writes_run_two_at_a_time_in_order_of_arrival_while_reads_go_on(tmp_path: Path) -> None:
    held = Held()
    app = held.app(f"sqlite:///{tmp_path / 'store.db'}", at_once=2)
    started, running_at_read = asyncio.run(_writes_and_a_read(held, app, running=2))
    assert running_at_read == 2, "the read was answered while two writes ran and four waited"
    assert held.most == 2, "never more than sqlite_writes_at_once writes at once"
    assert started == list(range(WRITES)), "the waiting writes started in the order they arrived"


def test_the_number_of_writes_at_once_is_a_setting(tmp_path: Path) -> None:
    held = Held()
    app = held.app(f"sqlite:///{tmp_path / 'store.db'}", at_once=3)
    _, running_at_read = asyncio.run(_writes_and_a_read(held, app, running=3))
    assert held.most == 3 and running_at_read == 3


def test_on_postgresql_writes_do_not_wait_for_each_other() -> None:
    held = Held()
    app = held.app("postgresql+psycopg://nobody@127.0.0.1:1/none", at_once=2)
    _, running_at_read = asyncio.run(_writes_and_a_read(held, app, running=WRITES))
    assert held.most == WRITES and running_at_read == WRITES, "PostgreSQL takes concurrent writers"


def test_fewer_than_one_write_at_once_is_refused() -> None:
    with pytest.raises(ValidationError, match="sqlite_writes_at_once"):
        Settings(sqlite_writes_at_once=0)


def test_a_write_gives_up_its_turn_once_committed(tmp_path: Path) -> None:
    """With one write at a time, a write that has committed no longer holds back the next one
    while it is still running (as while it waits for the disk to make its commit durable); one
    that has not committed yet does."""
    from starlette.concurrency import run_in_threadpool

    from matching.store.audit import record_audit
    from matching.store.db import make_engine, session_scope
    from matching.store.schema import upgrade

    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    started: list[str] = []

    def commit(n: str) -> None:
        with session_scope(engine) as session:
            record_audit(session, "test", "adviser", "write", "test", n)

    app = FastAPI()
    turns.install(app)
    app.state.service = SimpleNamespace(engine=engine, settings=Settings(sqlite_writes_at_once=1))

    finish: list[asyncio.Event] = []

    @app.post("/writes/{n}")
    async def write(n: str, commit_first: bool = False) -> dict[str, str]:
        started.append(n)
        if commit_first:
            await run_in_threadpool(commit, n)
        await finish[0].wait()
        return {"n": n}

    async def run(commit_first: bool) -> list[str]:
        started.clear()
        finish[:] = [asyncio.Event()]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = asyncio.create_task(client.post("/writes/a", params={"commit_first": commit_first}))
            await _until(lambda: started == ["a"], "the first write runs")
            await asyncio.sleep(0.1)  # its commit, if any, is done
            second = asyncio.create_task(client.post("/writes/b"))
            await asyncio.sleep(0.2)
            seen = list(started)
            finish[0].set()
            answers = await asyncio.wait_for(asyncio.gather(first, second), timeout=10)
        assert [a.status_code for a in answers] == [200, 200]
        return seen

    async def both() -> tuple[list[str], list[str]]:  # one event loop: the turns belong to it
        return await run(commit_first=True), await run(commit_first=False)

    try:
        committed, uncommitted = asyncio.run(both())
        assert committed == ["a", "b"], "committed: the next write starts"
        assert uncommitted == ["a"], "not committed: the next write waits its turn"
    finally:
        engine.dispose()
