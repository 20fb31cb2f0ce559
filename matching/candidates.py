"""Candidate generation: which workplaces are worth scoring for a person at all.

Before any scoring: only consenting, active persons; only active workplaces with a free slot,
within the person's commute; and (by default) never a workplace that cannot give a support the
person requires.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.neighbors import BallTree

from features.pairs import EARTH_RADIUS_KM, candidate_arrays, workplace_arrays
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


def eligible_candidates(candidates: pd.DataFrame) -> np.ndarray:
    """Positions of candidates who may be matched: consent given and active."""
    mask = candidates["consent"].to_numpy(dtype=bool) & candidates["active"].to_numpy(dtype=bool)
    return np.flatnonzero(mask)


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


class WorkplacePool:
    """Workplaces indexed for candidate generation (a ball tree over those open to trainees)."""

    def __init__(self, workplaces: pd.DataFrame, catalogue: Catalogue | None = None) -> None:
        self.catalogue = catalogue or load_catalogue()
        self.frame = enrich_workplaces(workplaces.reset_index(drop=True), self.catalogue)
        self.arrays = workplace_arrays(self.frame, self.catalogue.vocabulary)
        open_ = self.frame["active"].to_numpy(dtype=bool) & (self.arrays["slots"] > 0)
        self.open_rows = np.flatnonzero(open_)
        points = np.radians(np.column_stack([self.arrays["lat"], self.arrays["lon"]])[self.open_rows])
        self.tree = BallTree(points if len(points) else np.zeros((1, 2)), metric="haversine")
        self._required = self.catalogue.vocabulary.supports

    def __len__(self) -> int:
        return len(self.frame)

    def positions(self) -> dict[str, int]:
        """workplace_id -> row position."""
        return {wid: i for i, wid in enumerate(self.frame["workplace_id"])}

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
                requires (needs level 2).

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
        if len(w_idx):
            order = np.lexsort((w_idx, np.repeat(np.arange(len(rows)), counts)))
            c_idx, w_idx = c_idx[order], w_idx[order]
        if exclude_unmet_required and len(c_idx):
            keep = np.ones(len(c_idx), dtype=bool)
            required = candidates["needs"] >= 2
            if required.any():
                offers = self.arrays["offers"] >= 0.5
                for j in np.flatnonzero(required.any(axis=0)):
                    keep &= ~(required[c_idx, j] & ~offers[w_idx, j])
            c_idx, w_idx = c_idx[keep], w_idx[keep]
        return c_idx, w_idx
