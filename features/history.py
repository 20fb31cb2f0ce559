"""The employer's history at a date: the work trials and hires it had before it.

What a workplace's counts mean (data contract v1): `past_placements` and `past_hires` count the
workplace's work trials and hires *before the first outcome of the dataset*: the history the
`outcomes` table does not hold. The outcomes table holds the rest, so the workplace's history on
day `t` is

    placements(t) = past_placements + its outcomes that reached a trial (grade >= 2), known before t
    hires(t)      = past_hires      + its outcomes that reached a hire (grade 4), known before t

where an outcome is known `KNOWN_AFTER_DAYS` days after its `suggested_on`: a trial takes weeks to
start and a hire is decided at the trial's end (12 weeks by default), so on the day after a
suggestion its result is not known yet. An outcome suggested on day `s` therefore counts on day `t`
when `s + KNOWN_AFTER_DAYS < t`: never on the day of the suggestion itself, so a pair's own outcome
is never part of its own features.

- Training (`EmployerHistory.as_of`): each row is seen as of its date, the first `suggested_on` of
  its pair, so an outcome recorded later never changes an earlier row.
- Serving (`EmployerHistory.now`): the counts plus every outcome held (the dataset's or the
  store's), whatever its date: what is known now.

`history_warnings` checks what a dataset can show about the statement: counts that equal the
file's own outcomes for most workplaces look derived from them (they would count twice).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TRIAL_GRADE = 2  # contract v1 grades: 2 trial started, 3 trial completed, 4 hired
HIRED_GRADE = 4
KNOWN_AFTER_DAYS = 84  # twelve weeks: the default length of a work trial in a plan
NOW = np.iinfo(np.int64).max  # a date after every outcome: the history up to now
_DAY_OFFSET = 1 << 31  # days since 1970 shifted into [0, 2**32) for the sort keys
_BLOCK = np.int64(1) << np.int64(32)
# a dataset's counts look derived from its own outcomes when at least this share of the workplaces
# with a trial in the outcomes have counts equal to them (and at least `DERIVED_MIN` such workplaces)
DERIVED_SHARE = 0.5
DERIVED_MIN = 5


def days_of(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Dates as whole days since 1970-01-01 (int64)."""
    values = pd.to_datetime(pd.Series(np.asarray(dates)), errors="raise").to_numpy("datetime64[D]")
    return values.astype(np.int64)


def _keys(w_idx: np.ndarray, days: np.ndarray) -> np.ndarray:
    return np.sort(w_idx.astype(np.int64) * _BLOCK + (days.astype(np.int64) + _DAY_OFFSET))


@dataclass(frozen=True)
class EmployerHistory:
    """Each workplace's recorded counts and the outcomes after them, for counts at any date.

    Attributes:
        recorded_placements: `past_placements` per workplace (the history before the outcomes).
        recorded_hires: `past_hires` per workplace.
        trial_keys: one sorted key per outcome that reached a trial: its workplace's position in
            the high 32 bits, its `suggested_on` day (offset) in the low.
        hire_keys: the same for the outcomes that reached a hire.
        known_after_days: days after its suggestion before an outcome counts (`as_of` only).
    """

    recorded_placements: np.ndarray
    recorded_hires: np.ndarray
    trial_keys: np.ndarray
    hire_keys: np.ndarray
    known_after_days: int = KNOWN_AFTER_DAYS

    @classmethod
    def of(
        cls,
        placements: np.ndarray,
        hires: np.ndarray,
        w_idx: np.ndarray,
        days: np.ndarray,
        grades: np.ndarray,
        known_after_days: int = KNOWN_AFTER_DAYS,
    ) -> EmployerHistory:
        """The history of workplaces with recorded counts `placements` and `hires` and the outcomes
        (`w_idx`: the outcome's workplace position, `days`: its `suggested_on` from `days_of`,
        `grades`: its grade)."""
        w_idx, days, grades = np.asarray(w_idx), np.asarray(days), np.asarray(grades)
        trial, hired = grades >= TRIAL_GRADE, grades >= HIRED_GRADE
        return cls(
            np.asarray(placements, dtype=np.float64).copy(),
            np.asarray(hires, dtype=np.float64).copy(),
            _keys(w_idx[trial], days[trial]),
            _keys(w_idx[hired], days[hired]),
            int(known_after_days),
        )

    def __len__(self) -> int:
        return len(self.recorded_placements)

    def now(self) -> tuple[np.ndarray, np.ndarray]:
        """`(placements, hires)` per workplace: the recorded counts plus every outcome."""
        n = len(self)
        trials = np.bincount((self.trial_keys // _BLOCK).astype(np.int64), minlength=n)[:n]
        hires = np.bincount((self.hire_keys // _BLOCK).astype(np.int64), minlength=n)[:n]
        return self.recorded_placements + trials, self.recorded_hires + hires

    def as_of(self, w_idx: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`(placements, hires)` of workplace `w_idx[i]` on day `days[i]` (`NOW`: every outcome).

        Counts the outcomes suggested more than `known_after_days` days before the day; vectorised
        (one binary search per pair and kind, over the queries in sorted order)."""
        w = np.asarray(w_idx, dtype=np.int64)
        days = np.asarray(days, dtype=np.int64)
        now = days == NOW
        limit = np.where(now, 0, days - self.known_after_days)  # count outcome days < limit
        low = np.clip(limit + _DAY_OFFSET, 0, int(_BLOCK))
        last = w * _BLOCK + np.where(now, _BLOCK, low)
        order = np.argsort(last, kind="stable")
        ordered = last[order]
        blocks = np.arange(len(self) + 1, dtype=np.int64) * _BLOCK

        def count(keys: np.ndarray) -> np.ndarray:
            out = np.empty(len(w), dtype=np.int64)
            out[order] = np.searchsorted(keys, ordered, side="left")
            return out - np.searchsorted(keys, blocks)[w]

        return self.recorded_placements[w] + count(self.trial_keys), self.recorded_hires[w] + count(self.hire_keys)


@dataclass(frozen=True)
class PairDates:
    """The day each (candidate, workplace) pair is seen as of in training: the pair's first
    suggestion; for a pair never suggested, its candidate's first suggestion (the day the
    candidate's shortlist was made); for a candidate never suggested anything, `NOW`."""

    candidate_day: np.ndarray  # per candidate position
    pair_keys: np.ndarray  # sorted candidate position * n_workplaces + workplace position
    pair_day: np.ndarray  # per key
    n_workplaces: int

    @classmethod
    def of(
        cls, c_idx: np.ndarray, w_idx: np.ndarray, days: np.ndarray, n_candidates: int, n_workplaces: int
    ) -> PairDates:
        """From the outcomes' candidate and workplace positions and `suggested_on` days."""
        c = np.asarray(c_idx, dtype=np.int64)
        keys = c * n_workplaces + np.asarray(w_idx, dtype=np.int64)
        days = np.asarray(days, dtype=np.int64)
        candidate_day = np.full(n_candidates, NOW, dtype=np.int64)
        np.minimum.at(candidate_day, c, days)
        order = np.argsort(keys, kind="stable")
        keys, days = keys[order], days[order]
        if len(keys) == 0:
            return cls(candidate_day, keys, days, n_workplaces)
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        return cls(candidate_day, keys[starts], np.minimum.reduceat(days, starts), n_workplaces)

    def days(self, c_idx: np.ndarray, w_idx: np.ndarray) -> np.ndarray:
        """The day of each pair (int64 days, or `NOW`)."""
        c = np.asarray(c_idx, dtype=np.int64)
        keys = c * self.n_workplaces + np.asarray(w_idx, dtype=np.int64)
        out = self.candidate_day[c].copy()
        if len(self.pair_keys) and len(keys):
            at = np.minimum(np.searchsorted(self.pair_keys, keys), len(self.pair_keys) - 1)
            found = self.pair_keys[at] == keys
            out[found] = self.pair_day[at[found]]
        return out


def history_warnings(workplaces: pd.DataFrame, outcomes: pd.DataFrame | None) -> list[str]:
    """What a dataset shows against the contract's reading of `past_placements` and `past_hires`
    (the history before the outcomes table): a warning when, for most workplaces with a trial in
    the outcomes, the counts equal those outcomes' trials and hires, as if they had been derived
    from them (training and serving would then count these outcomes twice). Nothing else about the
    statement can be checked from the data."""
    if outcomes is None or len(outcomes) == 0 or not {"past_placements", "past_hires"} <= set(workplaces.columns):
        return []
    grades = outcomes["grade"].to_numpy(dtype=np.int64)
    ids = outcomes["workplace_id"].astype(str)
    trials = ids[grades >= TRIAL_GRADE].value_counts()
    hires = ids[grades >= HIRED_GRADE].value_counts().reindex(trials.index, fill_value=0)
    if len(trials) == 0:
        return []
    counts = workplaces.assign(workplace_id=workplaces["workplace_id"].astype(str)).set_index("workplace_id")
    counts = counts[~counts.index.duplicated()].reindex(trials.index)
    same = (counts["past_placements"].to_numpy() == trials.to_numpy()) & (
        counts["past_hires"].to_numpy() == hires.to_numpy()
    )
    n_same = int(same.sum())
    if n_same < DERIVED_MIN or n_same < DERIVED_SHARE * len(trials):
        return []
    return [
        f"workplaces.past_placements/past_hires equal the trials and hires in the outcomes table for {n_same} of "
        f"the {len(trials)} workplaces with a trial there: the contract reads them as the history before the "
        "outcomes table, so if they were counted from these outcomes, training and serving count them twice"
    ]
