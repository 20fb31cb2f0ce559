"""The garbage collector of a long-lived worker: the tables and the model it serves set aside, so
the collector's full passes do not stop every request for a quarter of a second.

A worker holds about half a million objects the collector tracks (the served tables, the model,
the libraries). Python's full collection walks all of them: measured on the load test's data
(2,000 persons x 3,000 workplaces, SYNTHETIC), one full pass took 236 ms, during which the worker
answers nothing (`bench/gc_pauses.py`). Frozen once the worker has loaded (`gc.freeze`: what
exists then is left out of every later pass), a full pass took about 3 ms.

What replaces the frozen state (new served tables after live edits, a reloaded model) is young
and collected as usual; the state it replaced is released by reference counting, except for what
sits in reference cycles, which a frozen heap would keep. So once the served tables or the model
were replaced, the heap is settled again (unfrozen, collected in full, frozen), at most once per
`every_seconds`: one pause like the unfrozen worker's ordinary one, now and then, instead of
memory that only grows.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import weakref
from collections.abc import Callable

log = logging.getLogger("jobmatch.serving")

SETTLE_EVERY_SECONDS = 60.0


class Heap:
    """Freeze what a worker has loaded; settle again, now and then, after what it serves changed."""

    def __init__(self, every_seconds: float = SETTLE_EVERY_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.every_seconds = every_seconds
        self.clock = clock
        self.settled_at: float | None = None
        self.settles = 0
        self._served: list[weakref.ref[object]] = []
        self._lock = threading.Lock()

    def settle(self, *served: object) -> float:
        """Collect in full and freeze what is left; `served` are the objects whose replacement
        calls for settling again (see `tick`). Returns the seconds it took."""
        with self._lock:
            return self._settle(served)

    def tick(self, *served: object) -> bool:
        """At the start of a request, cheap: settle again when any of `served` is not the object
        it was at the last settling and `every_seconds` have passed since. Returns whether it did."""
        if self.settled_at is None or self._same(served):
            return False
        if self.clock() - self.settled_at < self.every_seconds:
            return False
        with self._lock:
            if self._same(served):  # another request settled meanwhile
                return False
            self._settle(served)
        return True

    def _same(self, served: tuple[object, ...]) -> bool:
        return len(served) == len(self._served) and all(r() is o for r, o in zip(self._served, served, strict=True))

    def _settle(self, served: tuple[object, ...]) -> float:
        started = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._served = [weakref.ref(each) for each in served]  # weak: a replaced one may go
        self.settled_at = self.clock()
        self.settles += 1
        seconds = time.perf_counter() - started
        log.info("heap settled: %d objects frozen in %.3f s", gc.get_freeze_count(), seconds)
        return seconds
