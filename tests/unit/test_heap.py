"""A served worker's heap (`serving.heap.Heap`): frozen once loaded, settled again after what it
serves was replaced, and the replaced state's reference cycles then freed."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from serving.heap import Heap


class Tables:
    """Stands for served tables that hold a reference cycle (as pandas objects can)."""

    def __init__(self) -> None:
        self.me = self


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    yield Clock()
    gc.unfreeze()  # the rest of this test process collects as usual


def test_settling_freezes_what_was_loaded(clock: Clock) -> None:
    served = Tables()
    heap = Heap(every_seconds=60, clock=clock)
    heap.settle(served)
    assert gc.get_freeze_count() > 0
    assert gc.is_tracked(served)
    clock.now += 3600
    assert not heap.tick(served), "nothing was replaced: no second settling, however long after"
    assert heap.settles == 1


def test_replaced_tables_in_a_cycle_are_freed_at_the_next_settling_not_before(clock: Clock) -> None:
    served = Tables()
    heap = Heap(every_seconds=60, clock=clock)
    heap.settle(served)
    old = weakref.ref(served)
    served = Tables()  # a live edit replaced the tables; the old ones are cyclic garbage, frozen
    gc.collect()
    assert old() is not None, "a frozen cycle outlives an ordinary collection"

    clock.now += 30
    assert not heap.tick(served), "within every_seconds of the last settling"
    assert old() is not None

    clock.now += 31
    assert heap.tick(served)
    assert old() is None, "settling again freed the replaced tables"
    assert heap.settles == 2
    assert not heap.tick(served), "settled for these tables"


def test_a_tick_before_any_settling_does_nothing(clock: Clock) -> None:
    heap = Heap(every_seconds=0, clock=clock)
    assert not heap.tick(Tables())
    assert heap.settles == 0 and gc.get_freeze_count() == 0
