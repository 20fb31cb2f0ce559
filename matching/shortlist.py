"""Rank, cut top-k and attach reasons: the one shortlist path behind the API and batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from features.pairs import PairFrame
from features.registry import feature_names
from matching.candidates import CandidateTable, WorkplacePool
from matching.explain import reasons, support_status, tasks_needing_training
from matching.model import Ranker


@dataclass
class ScoredPairs:
    """Every eligible pair of some candidates, with feature values and scores."""

    c_idx: np.ndarray
    w_idx: np.ndarray
    matrix: np.ndarray
    scores: np.ndarray
    distance_km: np.ndarray


def top_k_per_candidate(c_idx: np.ndarray, scores: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of each candidate's `top_k` best pairs, and their ranks (1-based).

    Pairs must be grouped by candidate. Ties keep the pairs' order (stable), so results repeat.
    """
    if len(c_idx) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.lexsort((-scores, c_idx))
    sorted_c = c_idx[order]
    starts = np.flatnonzero(np.r_[True, sorted_c[1:] != sorted_c[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(sorted_c)]))
    rank = np.arange(len(sorted_c)) - group_start + 1
    keep = rank <= top_k
    return order[keep], rank[keep]


@dataclass
class Shortlist:
    """One candidate's ranked, explained suggestions, and how many workplaces were eligible."""

    items: list[dict[str, Any]]
    eligible: int


class Matcher:
    """Candidate generation, features, scores and explanations over one dataset and one model."""

    def __init__(
        self,
        ranker: Ranker,
        candidates: CandidateTable,
        pool: WorkplacePool,
        exclude_unmet_required: bool = True,
    ) -> None:
        self.ranker = ranker
        self.candidates = candidates
        self.pool = pool
        self.exclude_unmet_required = exclude_unmet_required

    def score_rows(self, rows: np.ndarray, candidates: CandidateTable | None = None) -> ScoredPairs:
        """Generate and score every eligible pair of the candidates at positions `rows`."""
        table = candidates or self.candidates
        c_idx, w_idx = self.pool.generate_pairs(table.arrays, rows, self.exclude_unmet_required)
        pairs = PairFrame(table.arrays, self.pool.arrays, c_idx, w_idx, self.pool.catalogue.vocabulary)
        matrix = self.ranker.features_of(pairs)
        return ScoredPairs(c_idx, w_idx, matrix, self.ranker.score(matrix), pairs.distance_km())

    def shortlist(self, row: int, top_k: int, candidates: CandidateTable | None = None) -> Shortlist:
        """The explained, ranked shortlist of one candidate (position `row` in the table)."""
        table = candidates or self.candidates
        scored = self.score_rows(np.array([row]), table)
        chosen, ranks = top_k_per_candidate(scored.c_idx, scored.scores, top_k)
        contributions = self.ranker.contributions(scored.matrix[chosen])
        vocabulary = self.pool.catalogue.vocabulary
        names = feature_names()
        needs, skill = table.arrays["needs"][row], table.arrays["skill"][row]
        frame = self.pool.frame
        items = []
        for i, (pos, rank) in enumerate(zip(chosen, ranks, strict=True)):
            w = int(scored.w_idx[pos])
            workplace = {c: frame[c].iat[w] for c in ("workplace_id", "employer_id", "occupation_code")}
            speaks_for, speaks_against = reasons(scored.matrix[pos], contributions[i])
            met, unmet = support_status(needs, self.pool.arrays["offers"][w], vocabulary)
            items.append(
                {
                    "rank": int(rank),
                    "workplace_id": str(workplace["workplace_id"]),
                    "employer_id": str(workplace["employer_id"]),
                    "occupation_code": str(workplace["occupation_code"]),
                    "occupation_title": self.pool.catalogue.title(str(workplace["occupation_code"])),
                    "distance_km": round(float(scored.distance_km[pos]), 2),
                    "score": float(scored.scores[pos]),
                    "explanation": {
                        "speaks_for": speaks_for,
                        "speaks_against": speaks_against,
                        "support_needs_met": met,
                        "support_needs_unmet": unmet,
                        "tasks_needing_training": tasks_needing_training(
                            self.pool.arrays["task"][w], skill, vocabulary
                        ),
                    },
                    "features": {n: round(float(v), 6) for n, v in zip(names, scored.matrix[pos], strict=True)},
                }
            )
        return Shortlist(items, len(scored.c_idx))
