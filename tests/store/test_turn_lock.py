"""SQLite writers' turns within one process: the audit entries reads wait on go before the writers
already waiting, but a stream of them never keeps the other writers out."""

from __future__ import annotations

import threading
import time

from matching.store.db import _TurnLock


def _waiting(lock: _TurnLock, first: int, others: int) -> None:
    deadline = time.monotonic() + 10
    while (len(lock._queues[True]), len(lock._queues[False])) != (first, others):
        assert time.monotonic() < deadline, f"waiters did not queue: {lock._queues}"
        time.sleep(0.005)


def _writer(lock: _TurnLock, name: str, first: bool, order: list[str]) -> threading.Thread:
    def run() -> None:
        lock.acquire(first)
        order.append(name)
        lock.release()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_first_writer_goes_before_writers_already_waiting_who_go_in_order() -> None:
    lock, order = _TurnLock(), []
    lock.acquire()
    others = []
    for i in range(5):
        others.append(_writer(lock, f"write{i}", False, order))
        _waiting(lock, 0, i + 1)
    audit = _writer(lock, "audit", True, order)
    _waiting(lock, 1, 5)
    lock.release()
    for thread in [*others, audit]:
        thread.join(10)
    assert order == ["audit", "write0", "write1", "write2", "write3", "write4"]


def test_first_writers_never_go_twice_in_a_row_while_others_wait() -> None:
    lock, order = _TurnLock(), []
    lock.acquire(first=True)  # an audit batch holds the turn
    other = _writer(lock, "write", False, order)
    _waiting(lock, 0, 1)
    audit = _writer(lock, "audit", True, order)
    _waiting(lock, 1, 1)
    lock.release()
    other.join(10)
    audit.join(10)
    assert order == ["write", "audit"]


def test_the_turn_is_reentrant_for_its_holder() -> None:
    lock, order = _TurnLock(), []
    lock.acquire()
    lock.acquire(first=True)  # a nested write session in the same thread
    other = _writer(lock, "write", False, order)
    _waiting(lock, 0, 1)
    lock.release()
    time.sleep(0.05)
    assert order == [], "the holder still holds it once"
    lock.release()
    other.join(10)
    assert order == ["write"]
