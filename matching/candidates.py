"""Candidate generation: which workplaces are worth scoring for a person at all.

Before any scoring: only consenting, active persons; only active workplaces with a free slot,
within the person's commute; and (by default) never a workplace that cannot give a support the
person requires and that only the workplace can give (a required support the support system can
arrange, say a job coach, leaves the workplace in: the suggestion says it must be arranged).

Both directions apply the same rules: `WorkplacePool` finds the workplaces for some persons (the
adviser's shortlist, batch), `CandidatePool` the persons for one workplace opening (the employer's
side).

A pool given outcomes (`WorkplacePool(..., outcomes=...)` or `add_outcomes`) holds the employer
history they imply (`features.history`): its arrays' `past_placements` and `past_hires` are the
recorded counts plus every outcome (the history up to now, what serving scores with), and
`history` answers the counts as of any date (what training rows see).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.neighbors import BallTree

from features.history import EmployerHistory, PairDates, days_of
from features.pairs import EARTH_RADIUS_KM, candidate_arrays, workplace_arrays
from features.support import OFFERED, REQUIRED_NEED, workplace_only
from matching.records import Catalogue, load_catalogue


def enrich_workplaces(workplaces: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Add the occupation's RIASEC profile (`interest_*`) to each workplace from the catalogue."""
    columns = [f"interest_{r}" for r in catalogue.vocabulary.riasec]
    profiles = catalogue.occupations.set_index("occupation_code")[columns]
    out = workplaces.drop(columns=[c for c in columns if c in workplaces.columns])
    joined = profiles.reindex(out["occupation_code"].astype(str)).to_numpy()
    for j, column in enumerate(columns):
        out[column] = joined[:, j]
    return out


def workplaces_with_history(workplaces: pd.DataFrame, outcomes: pd.DataFrame | None) -> pd.DataFrame:
    """A copy of `workplaces` whose `past_placements` and `past_hires` are the history up to now
    (the recorded counts plus every outcome): for scorers that take records, not a pool (the
    pyfunc, the Spark engine)."""
    out = workplaces.reset_index(drop=True).copy()
    if outcomes is None or len(outcomes) == 0:
        return out
    pool = WorkplacePool(out, outcomes=outcomes)
    out["past_placements"] = pool.arrays["past_placements"].astype(np.int64)
    out["past_hires"] = pool.arrays["past_hires"].astype(np.int64)
    return out


def eligible_candidates(candidates: pd.DataFrame) -> np.ndarray:
    """Positions of candidates who may be matched: consent given and active."""
    mask = candidates["consent"].to_numpy(dtype=bool) & candidates["active"].to_numpy(dtype=bool)
    return np.flatnonzero(mask)


def open_workplaces(workplaces: pd.DataFrame, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Whether each workplace takes trainees now: active, with a free slot."""
    return np.asarray(workplaces["active"].to_numpy(dtype=bool) & (arrays["slots"] > 0), dtype=bool)


def meets_required_supports(
    needs: np.ndarray, offers: np.ndarray, c_idx: np.ndarray, w_idx: np.ndarray, only: np.ndarray | None = None
) -> np.ndarray:
    """For each pair, whether the workplace gives every support the person requires (needs level 2)
    among the supports `only` marks (the ones only a workplace can give; default: every support).

    Args:
        needs: per-candidate support needs (0, 1, 2), one row per candidate.
        offers: per-workplace supports offered (0/1), one row per workplace.
        c_idx: the pairs' candidate positions.
        w_idx: the pairs' workplace positions.
        only: per support, whether the rule applies to it (`features.support.workplace_only`).

    Returns:
        A boolean mask over the pairs.
    """
    keep = np.ones(len(c_idx), dtype=bool)
    required = needs >= REQUIRED_NEED
    if only is not None:
        required = required & only[None, :]
    if len(c_idx) and required.any():
        offered = offers >= OFFERED
        for j in np.flatnonzero(required.any(axis=0)):
            keep &= ~(required[c_idx, j] & ~offered[w_idx, j])
    return keep


@dataclass
class CandidateTable:
    """Candidates with their per-candidate arrays, ready for pair features."""

    frame: pd.DataFrame
    arrays: dict[str, np.ndarray]

    @classmethod
    def build(cls, candidates: pd.DataFrame, catalogue: Catalogue | None = None) -> CandidateTable:
        catalogue = catalogue or load_catalogue()
        frame = candidates.reset_index(drop=True)
        return cls(frame, candidate_arrays(frame, catalogue.vocabulary))

    def positions(self) -> dict[str, int]:
        """candidate_id -> row position."""
        return {cid: i for i, cid in enumerate(self.frame["candidate_id"])}


OUTCOME_KEY = ["candidate_id", "workplace_id", "suggested_on"]


class WorkplacePool:
    """Workplaces indexed for candidate generation (a ball tree over those open to trainees), with
    their employer history (the recorded counts, and the outcomes given, if any)."""

    def __init__(
        self, workplaces: pd.DataFrame, catalogue: Catalogue | None = None, outcomes: pd.DataFrame | None = None
    ) -> None:
        self.catalogue = catalogue or load_catalogue()
        self.frame = enrich_workplaces(workplaces.reset_index(drop=True), self.catalogue)
        self.arrays = workplace_arrays(self.frame, self.catalogue.vocabulary)
        self.outcomes = pd.DataFrame({"candidate_id": [], "workplace_id": [], "suggested_on": [], "grade": []})
        self.history = EmployerHistory.of(
            self.arrays["past_placements"], self.arrays["past_hires"], *(np.zeros(0, np.int64),) * 3
        )
        self._dates: tuple[object, PairDates] | None = None
        if outcomes is not None:
            self.add_outcomes(outcomes)
        self.is_open = open_workplaces(self.frame, self.arrays)
        self.open_rows = np.flatnonzero(self.is_open)
        points = np.radians(np.column_stack([self.arrays["lat"], self.arrays["lon"]])[self.open_rows])
        self.tree = BallTree(points if len(points) else np.zeros((1, 2)), metric="haversine")
        self.workplace_only = workplace_only(self.catalogue.vocabulary)

    def __len__(self) -> int:
        return len(self.frame)

    def positions(self) -> dict[str, int]:
        """workplace_id -> row position."""
        return {wid: i for i, wid in enumerate(self.frame["workplace_id"])}

    def add_outcomes(self, outcomes: pd.DataFrame) -> None:
        """Add outcomes (contract `outcomes` columns; others ignored) to the employer history, each
        (candidate, workplace, day) once (a later copy's grade wins); outcomes naming a workplace
        the pool lacks are left out. The arrays' `past_placements` and `past_hires` become the
        recorded counts plus every outcome held."""
        if outcomes is None or len(outcomes) == 0:
            return
        fresh = outcomes.loc[:, ["candidate_id", "workplace_id", "suggested_on", "grade"]].copy()
        fresh["candidate_id"] = fresh["candidate_id"].astype(str)
        fresh["workplace_id"] = fresh["workplace_id"].astype(str)
        fresh["suggested_on"] = pd.to_datetime(fresh["suggested_on"]).astype("datetime64[ns]")
        held = pd.concat([self.outcomes, fresh], ignore_index=True) if len(self.outcomes) else fresh
        held = held.drop_duplicates(OUTCOME_KEY, keep="last").reset_index(drop=True)
        w_pos = pd.Index(self.frame["workplace_id"].astype(str)).get_indexer(pd.Index(held["workplace_id"]))
        self.outcomes = held[w_pos >= 0].reset_index(drop=True)
        w_pos = w_pos[w_pos >= 0]
        self.history = EmployerHistory.of(
            self.history.recorded_placements,
            self.history.recorded_hires,
            w_pos,
            days_of(self.outcomes["suggested_on"]),
            self.outcomes["grade"].to_numpy(dtype=np.int64),
        )
        self.arrays["past_placements"], self.arrays["past_hires"] = self.history.now()
        self._dates = None

    def pair_dates(self, candidates: CandidateTable) -> PairDates:
        """The day each pair of `candidates` x this pool is seen as of in training (`PairDates`),
        from the outcomes held (kept until the outcomes or the candidates change)."""
        if self._dates is not None and self._dates[0] is candidates:
            return self._dates[1]
        c_pos = pd.Index(candidates.frame["candidate_id"].astype(str)).get_indexer(
            pd.Index(self.outcomes["candidate_id"])
        )
        w_pos = pd.Index(self.frame["workplace_id"].astype(str)).get_indexer(pd.Index(self.outcomes["workplace_id"]))
        known = c_pos >= 0
        dates = PairDates.of(
            c_pos[known],
            w_pos[known],
            days_of(self.outcomes["suggested_on"])[known],
            len(candidates.frame),
            len(self.frame),
        )
        self._dates = (candidates, dates)
        return dates

    def history_as_of(self, candidates: CandidateTable, c_idx: np.ndarray, w_idx: np.ndarray) -> dict[str, np.ndarray]:
        """The employer history each pair sees on its day (`pair_dates`): `past_placements` and
        `past_hires` per pair, the `pair_values` of a `PairFrame` seen as of its pairs' days."""
        days = self.pair_dates(candidates).days(c_idx, w_idx)
        placements, hires = self.history.as_of(w_idx, days)
        return {"past_placements": placements, "past_hires": hires}

    def generate_pairs(
        self,
        candidates: dict[str, np.ndarray],
        rows: np.ndarray,
        exclude_unmet_required: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every eligible (candidate, workplace) pair for the candidate positions `rows`.

        Args:
            candidates: per-candidate arrays (`CandidateTable.arrays`).
            rows: positions of the candidates to generate for (already consenting and active).
            exclude_unmet_required: drop workplaces that cannot give a support the person
                requires (needs level 2) and only a workplace can give.

        Returns:
            `(c_idx, w_idx)`: pair positions, grouped by candidate in the order of `rows`,
            workplaces in ascending position within each candidate.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0 or len(self.open_rows) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        points = np.radians(np.column_stack([candidates["lat"][rows], candidates["lon"][rows]]))
        radius = candidates["max_commute_km"][rows] / EARTH_RADIUS_KM
        hits = self.tree.query_radius(points, r=radius)
        counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        c_idx = np.repeat(rows, counts)
        w_idx = self.open_rows[np.concatenate(hits).astype(np.int64)] if counts.sum() else np.zeros(0, np.int64)
        if len(rows) == 1:  # one person (an adviser's shortlist): only the workplaces to order
            w_idx = np.sort(w_idx)
        elif len(w_idx):
            order = np.lexsort((w_idx, np.repeat(np.arange(len(rows)), counts)))
            c_idx, w_idx = c_idx[order], w_idx[order]
        if exclude_unmet_required and len(c_idx):
            keep = meets_required_supports(
                candidates["needs"], self.arrays["offers"], c_idx, w_idx, self.workplace_only
            )
            c_idx, w_idx = c_idx[keep], w_idx[keep]
        return c_idx, w_idx


class CandidatePool:
    """Candidates indexed for the reverse direction: who is worth scoring for one workplace opening.

    A ball tree over the consenting, active candidates answers "who lives within the largest
    commute anyone accepts"; each hit is then kept only within that person's own
    `max_commute_km`, so the pairs are exactly those `WorkplacePool.generate_pairs` gives from the
    candidates' side (same distance, same required-support rule).
    """

    def __init__(self, table: CandidateTable) -> None:
        self.table = table
        arrays = table.arrays
        self.eligible_rows = eligible_candidates(table.frame)
        points = np.radians(np.column_stack([arrays["lat"], arrays["lon"]])[self.eligible_rows])
        self.tree = BallTree(points if len(points) else np.zeros((1, 2)), metric="haversine")
        commutes = arrays["max_commute_km"][self.eligible_rows]
        self.max_commute_km = float(commutes.max()) if len(commutes) else 0.0

    def __len__(self) -> int:
        return len(self.eligible_rows)

    def generate_pairs(
        self, pool: WorkplacePool, workplace: int, exclude_unmet_required: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every eligible (candidate, workplace) pair of the workplace at position `workplace` of `pool`.

        Args:
            pool: the workplaces (the same pool the candidates' side uses).
            workplace: the workplace's position in `pool`.
            exclude_unmet_required: drop persons who require a support (needs level 2) the
                workplace cannot give and only a workplace can give.

        Returns:
            `(c_idx, w_idx)`: pair positions, candidates in ascending position, `w_idx` all
            `workplace`. Empty when the workplace is inactive or has no free slot.
        """
        empty = np.zeros(0, dtype=np.int64)
        if len(self.eligible_rows) == 0 or not bool(pool.is_open[workplace]):
            return empty, empty
        point = np.radians([[pool.arrays["lat"][workplace], pool.arrays["lon"][workplace]]])
        hits, distances = self.tree.query_radius(point, r=self.max_commute_km / EARTH_RADIUS_KM, return_distance=True)
        c_idx = self.eligible_rows[hits[0].astype(np.int64)]
        within = distances[0] <= self.table.arrays["max_commute_km"][c_idx] / EARTH_RADIUS_KM
        c_idx = np.sort(c_idx[within])
        w_idx = np.full(len(c_idx), workplace, dtype=np.int64)
        if exclude_unmet_required and len(c_idx):
            keep = meets_required_supports(
                self.table.arrays["needs"], pool.arrays["offers"], c_idx, w_idx, pool.workplace_only
            )
            c_idx, w_idx = c_idx[keep], w_idx[keep]
        return c_idx, w_idx
