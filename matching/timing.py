"""Where a run's time went: wall seconds per named stage, printed as seconds and shares at the
end of `jobmatch score` and `jobmatch train` and kept in their figures.

Stages are timed one after another on the run's own thread, so they add up to the run's wall
time less what no stage covered (shown as "other"). Work done on another thread while a stage
runs is not a stage of its own: `Stages.hidden` keeps its seconds apart, so the split still adds
up and still shows what that work would cost if it were not hidden.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

OTHER = "other"


class Stages:
    """Seconds per stage, in the order the stages were first met, and the run's start."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.hidden: dict[str, float] = {}
        self.started = time.perf_counter()

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        """Add the wall time of the `with` block to stage `name`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def add_hidden(self, name: str, seconds: float) -> None:
        """Seconds of work done on another thread while the stages ran (not part of the total)."""
        self.hidden[name] = self.hidden.get(name, 0.0) + seconds

    def elapsed(self) -> float:
        """Wall seconds since the run started."""
        return time.perf_counter() - self.started

    def split(self, total: float | None = None) -> dict[str, float]:
        """Seconds per stage; with `total` (the run's wall seconds), what no stage covered as "other"."""
        out = dict(self.seconds)
        if total is not None:
            out[OTHER] = max(total - sum(self.seconds.values()), 0.0)
        return out

    def lines(self, title: str, total: float | None = None) -> list[str]:
        """The split as a small table: seconds and share of the total per stage."""
        total = total if total is not None else sum(self.seconds.values())
        split = self.split(total)
        width = max([len(name) for name in split] + [len("total")])
        lines = [f"{title} ({total:.2f}s):"]
        for name, seconds in split.items():
            share = seconds / total if total > 0 else 0.0
            lines.append(f"  {name:<{width}}  {seconds:8.2f}s  {share:6.1%}")
        if self.hidden:
            hidden = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in self.hidden.items())
            lines.append(f"  (besides, on a second thread and not in the total: {hidden})")
        return lines
