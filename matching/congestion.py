"""Congestion: how many live suggestions a workplace already carries for its free slots.

Each adviser's shortlist is built for one person, so without this the same few workplaces top
everyone's list. A suggestion is *live* for `congestion_window_days` after its shortlist was
recorded, unless its current decision is a rejection. A workplace's free slots can carry
`suggestions_per_slot` live suggestions each before its suggestions are pushed down:

    factor   = min(1, suggestions_per_slot * free_slots / (live + 1))
    adjusted = expected_success * factor

where `live` counts the *other* persons the workplace is live for (the `+ 1` is the person asking
now). `suggestions_per_slot = 0` turns the penalty off (factor 1 everywhere).

`Congestion` keeps, per workplace, the persons it is live for: read whole from the store at most
every `refresh_seconds` (rejections, the window moving on), added to in memory as soon as this
process records a shortlist, and brought up to the store at the start of every shortlist
(`catch_up`: the suggestions recorded since the newest one seen, by any worker or process; one
read of the primary key's index when there are none). So a suggestion another worker just sent
counts in this worker's very next shortlist; a rejection counts from the next whole read (at most
`refresh_seconds` later). A person is counted once per workplace however often it was suggested
to them.

Item ids only grow, but on PostgreSQL a transaction can commit its items after a later one's were
read: ids skipped over are looked for again in each catch-up for `GAP_SECONDS` (on SQLite,
whose writers are serial, a skipped id is one rolled back and never appears).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from sqlalchemy.engine import Engine

from matching.clock import utc_now
from matching.explanation import Reason
from matching.store.db import read_only, session_scope
from matching.store.shortlists import latest_item, live_suggestions, suggestions_after

REFRESH_SECONDS = 30.0
GAP_SECONDS = 60.0
CONGESTION_FEATURE = "congestion"


def congestion_factor(live: np.ndarray, free_slots: np.ndarray, suggestions_per_slot: float) -> np.ndarray:
    """`min(1, suggestions_per_slot * free_slots / (live + 1))` per workplace; all 1 when
    `suggestions_per_slot` is 0 or less (the penalty off)."""
    live = np.asarray(live, dtype=np.float64)
    if suggestions_per_slot <= 0:
        return np.ones(len(live))
    return np.minimum(1.0, suggestions_per_slot * np.asarray(free_slots, dtype=np.float64) / (live + 1.0))


def congestion_reason(live: int, free_slots: int, expected_success: float, factor: float) -> Reason:
    """The plain sentence that speaks against a congested suggestion. Its `contribution` is the
    change it makes to the ranking quantity (expected success times factor, minus expected success),
    not a score contribution like the model's reasons."""
    others = "other" if live == 1 else "others"
    slots = "slot" if free_slots == 1 else "slots"
    return Reason(
        feature=CONGESTION_FEATURE,
        sentence=f"already suggested to {live} {others} for {free_slots} free {slots}",
        contribution=round(expected_success * factor - expected_success, 4),
    )


class CongestionView:
    """Congestion as one request for one person sees it (that person's own suggestions left out)."""

    def __init__(self, congestion: Congestion, candidate_id: str | None) -> None:
        self.congestion = congestion
        self.candidate_id = candidate_id

    @property
    def suggestions_per_slot(self) -> float:
        return self.congestion.suggestions_per_slot

    def live(self, workplace_ids: Sequence[str]) -> np.ndarray:
        """Live suggestions to other persons, per workplace id."""
        return self.congestion.live(workplace_ids, excluding=self.candidate_id)

    def factor(self, live: np.ndarray, free_slots: np.ndarray) -> np.ndarray:
        return congestion_factor(live, free_slots, self.congestion.suggestions_per_slot)


class Congestion:
    """Live suggestions per workplace, shared by the requests of one process (thread-safe)."""

    def __init__(
        self,
        suggestions_per_slot: float,
        window_days: float,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.suggestions_per_slot = float(suggestions_per_slot)
        self.window = dt.timedelta(days=window_days)
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._live: dict[str, set[str]] = {}
        self._lock = threading.Lock()  # guards _live and _recorded_during_refresh
        self._refreshing = threading.Lock()  # one refresh at a time
        self._recorded_during_refresh: list[tuple[str, str]] | None = None
        self._refreshed_at: float | None = None
        self._catching_up = threading.Lock()  # one catch-up at a time; guards _seen_item, _gaps
        self._caught_up_at = float("-inf")  # when the last catch-up began (clock)
        self._seen_item = 0  # the newest shortlist item taken into account
        self._gaps: dict[int, float] = {}  # item ids skipped over -> when first missed

    @property
    def enabled(self) -> bool:
        return self.suggestions_per_slot > 0

    def refresh(self, engine: Engine, now: dt.datetime | None = None) -> None:
        """Read the live suggestions from the store now (suggestions recorded in memory while
        reading are kept)."""
        with self._refreshing:
            self._refresh(engine, now)

    def _refresh(self, engine: Engine, now: dt.datetime | None) -> None:
        started = self._clock()
        with self._lock:
            self._recorded_during_refresh = []
        try:
            since = (now or utc_now()) - self.window
            with session_scope(engine, readonly=True) as session:
                newest = latest_item(session)  # first: what commits meanwhile is caught up later
                stored = live_suggestions(session, since)
            with self._catching_up:
                self._seen_item = max(self._seen_item, newest)
            with self._lock:
                for candidate_id, workplace_id in self._recorded_during_refresh or []:
                    stored.setdefault(workplace_id, set()).add(candidate_id)
                self._live = stored
                self._refreshed_at = started
        finally:
            with self._lock:
                self._recorded_during_refresh = None

    def ensure_fresh(self, engine: Engine) -> None:
        """Refresh from the store when the last refresh is older than `refresh_seconds`. The first
        caller waits for the first refresh; later ones go on with what is held while another
        thread refreshes."""
        if not self._stale():
            return
        first = self._refreshed_at is None
        if not self._refreshing.acquire(blocking=first):
            return
        try:
            if self._stale():
                self._refresh(engine, None)
        finally:
            self._refreshing.release()

    def _stale(self) -> bool:
        return self._refreshed_at is None or self._clock() - self._refreshed_at >= self.refresh_seconds

    def view(self, engine: Engine, candidate_id: str | None) -> CongestionView:
        """Congestion for a shortlist of `candidate_id`, refreshed from the store if due."""
        self.ensure_fresh(engine)  # also with the penalty off: the items still show the counts
        self.catch_up(engine)
        return CongestionView(self, candidate_id)

    def catch_up(self, engine: Engine) -> None:
        """Count the suggestions recorded in the store since the newest one seen (by any worker).
        A caller that arrives while another catch-up runs waits for it and then reads again only
        when that one began before the caller arrived."""
        arrived = self._clock()
        with self._catching_up:
            if self._caught_up_at > arrived:
                return
            began = self._clock()
            since = utc_now() - self.window
            # a plain connection, no ORM session: read at every shortlist, and the session's own
            # work cost as much as the read
            with read_only(engine).connect() as connection:
                found = suggestions_after(connection, self._seen_item, since, also=self._gaps)
            self._add([(s.candidate_id, s.workplace_id) for s in found if s.live])
            ids = {s.item_id for s in found}
            newest = max(ids, default=self._seen_item)
            for item_id in range(self._seen_item + 1, newest):
                if item_id not in ids:
                    self._gaps[item_id] = began
            self._gaps = {i: t for i, t in self._gaps.items() if i not in ids and began - t < GAP_SECONDS}
            self._seen_item = max(self._seen_item, newest)
            self._caught_up_at = began

    def record(self, candidate_id: str, workplace_ids: Iterable[str]) -> None:
        """Count a just recorded shortlist's suggestions at once (the store has them too)."""
        self._add([(candidate_id, str(w)) for w in workplace_ids])

    def _add(self, pairs: list[tuple[str, str]]) -> None:
        with self._lock:
            for candidate, workplace in pairs:
                self._live.setdefault(workplace, set()).add(candidate)
            if self._recorded_during_refresh is not None:
                self._recorded_during_refresh.extend(pairs)

    def live(self, workplace_ids: Sequence[str], excluding: str | None = None) -> np.ndarray:
        """The number of persons each workplace is live for, leaving out `excluding`."""
        out = np.zeros(len(workplace_ids), dtype=np.int64)
        with self._lock:
            for i, workplace_id in enumerate(workplace_ids):
                persons = self._live.get(workplace_id)
                if persons:
                    out[i] = len(persons) - (excluding in persons)
        return out
