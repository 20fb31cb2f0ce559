"""Rank, cut top-k and attach reasons: the one shortlist path behind the API and batch, for a
person's workplaces (optionally aware of congestion) and for a workplace's persons, with one
explanation builder for both."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from features.pairs import PairFrame
from features.registry import feature_names
from matching.arranging import support_options
from matching.candidates import CandidatePool, CandidateTable, WorkplacePool
from matching.congestion import CongestionView, congestion_reason
from matching.errors import ModelMismatchError
from matching.explain import reasons, support_status, tasks_needing_training
from matching.explanation import Explanation, SimilarToWish
from matching.model import Ranker
from matching.why_short import filtered_counts, wider_reach

log = logging.getLogger("jobmatch.matching")
_warned_uncalibrated = False


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
class Explained:
    """One pair's explanation, with where it sits in the scored pairs and its score and distance."""

    position: int
    candidate: int
    workplace: int
    distance_km: float
    score: float
    explanation: Explanation


@dataclass
class Shortlist:
    """One candidate's ranked, explained suggestions and how many workplaces were eligible (or,
    from the workplace's side, its ranked candidates and how many persons were eligible)."""

    items: list[dict[str, Any]]
    eligible: int
    filtered: dict[str, int] | None = None  # the person's side: workplaces each rule removed
    wider: dict[str, Any] | None = None  # the person's side: more workplaces with a longer commute


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
        return self.score_pairs(c_idx, w_idx, table)

    def score_pairs(
        self, c_idx: np.ndarray, w_idx: np.ndarray, candidates: CandidateTable | None = None
    ) -> ScoredPairs:
        """Features and scores of the given pairs (candidate positions in the table, workplace
        positions in the pool): the same numbers whichever side generated the pairs."""
        table = candidates or self.candidates
        pairs = PairFrame(table.arrays, self.pool.arrays, c_idx, w_idx, self.pool.catalogue.vocabulary)
        matrix = self.ranker.features_of(pairs)
        return ScoredPairs(c_idx, w_idx, matrix, self.ranker.score(matrix), pairs.distance_km())

    def explain(
        self, scored: ScoredPairs, chosen: np.ndarray, candidates: CandidateTable | None = None
    ) -> list[Explained]:
        """The explanation of each chosen pair (positions in `scored`), in an adviser's words:
        what speaks for and against it (TreeSHAP contributions, computed for these rows only),
        the person's support needs the workplace meets and does not, the required tasks that
        will need training. The one explanation builder of both directions."""
        table = candidates or self.candidates
        contributions = self.ranker.contributions(scored.matrix[chosen])
        vocabulary = self.pool.catalogue.vocabulary
        out = []
        for i, pos in enumerate(chosen):
            c, w = int(scored.c_idx[pos]), int(scored.w_idx[pos])
            speaks_for, speaks_against = reasons(scored.matrix[pos], contributions[i])
            met, unmet = support_status(table.arrays["needs"][c], self.pool.arrays["offers"][w], vocabulary)
            training = tasks_needing_training(self.pool.arrays["task"][w], table.arrays["skill"][c], vocabulary)
            explanation = Explanation(
                speaks_for=speaks_for,
                speaks_against=speaks_against,
                support_needs_met=met,
                support_needs_unmet=unmet,
                tasks_needing_training=training,
                similar_to_wish=SimilarToWish.of(
                    str(self.pool.frame["occupation_code"].iat[w]),
                    table.frame["preferred_occupations"].iat[c],
                    self.pool.catalogue,
                ),
            )
            out.append(
                Explained(
                    position=int(pos),
                    candidate=c,
                    workplace=w,
                    distance_km=round(float(scored.distance_km[pos]), 2),
                    score=float(scored.scores[pos]),
                    explanation=explanation,
                )
            )
        return out

    def shortlist(
        self,
        row: int,
        top_k: int,
        candidates: CandidateTable | None = None,
        congestion: CongestionView | None = None,
    ) -> Shortlist:
        """The explained, ranked shortlist of one candidate (position `row` in the table).

        Without `congestion` the workplaces are ranked by the model's score. With it they are
        ranked by the expected success (`Ranker.expected_success`) times each workplace's
        congestion factor (ties by score), and each item also carries `expected_success` and
        `congestion` ({live_suggestions, free_slots, factor}); when the factor is below 1 a
        sentence saying how many others it was already suggested to speaks against it. `score`
        stays the model's score either way.
        """
        table = candidates or self.candidates
        scored = self.score_rows(np.array([row]), table)
        pressure = None
        expected = self._expected_success(scored.scores) if congestion is not None else None
        if congestion is None or expected is None:
            chosen, ranks = top_k_per_candidate(scored.c_idx, scored.scores, top_k)
        else:
            workplace_ids = self.pool.frame["workplace_id"].to_numpy()[scored.w_idx]
            live = congestion.live(workplace_ids)
            slots = self.pool.arrays["slots"][scored.w_idx]
            factor = congestion.factor(live, slots)
            order = np.lexsort((-scored.scores, -(expected * factor)))  # the single candidate's pairs
            chosen = order[:top_k]
            ranks = np.arange(1, len(chosen) + 1)
            pressure = (expected, live, slots, factor)
        frame = self.pool.frame
        names = feature_names()
        items = []
        for explained, rank in zip(self.explain(scored, chosen, table), ranks, strict=True):
            w, pos = explained.workplace, explained.position
            code = str(frame["occupation_code"].iat[w])
            explanation = explained.explanation
            item: dict[str, Any] = {
                "rank": int(rank),
                "workplace_id": str(frame["workplace_id"].iat[w]),
                "employer_id": str(frame["employer_id"].iat[w]),
                "occupation_code": code,
                "occupation_title": self.pool.catalogue.title(code),
                "distance_km": explained.distance_km,
                "score": explained.score,
                "explanation": None,
                "features": {n: round(float(v), 6) for n, v in zip(names, scored.matrix[pos], strict=True)},
                "support_options": support_options(self.ranker, table, self.pool, explained.candidate, w),
            }
            if pressure is not None:
                expected, live, slots, factor = pressure
                item["expected_success"] = float(expected[pos])
                item["congestion"] = {
                    "live_suggestions": int(live[pos]),
                    "free_slots": int(slots[pos]),
                    "factor": float(factor[pos]),
                }
                if factor[pos] < 1.0:
                    against = congestion_reason(
                        int(live[pos]), int(slots[pos]), float(expected[pos]), float(factor[pos])
                    )
                    explanation = explanation.model_copy(
                        update={"speaks_against": [*explanation.speaks_against, against]}
                    )
            item["explanation"] = explanation.model_dump()
            items.append(item)
        exclude = self.exclude_unmet_required
        filtered = filtered_counts(self.pool, table.arrays, row, exclude)
        return Shortlist(items, len(scored.c_idx), filtered, wider_reach(self.pool, table.arrays, row, exclude))

    def _expected_success(self, scores: np.ndarray) -> np.ndarray | None:
        """The calibrated P(hired) of each score; None (with a warning) for a model trained before
        calibration existed, which then ranks by score alone."""
        try:
            return np.asarray(self.ranker.expected_success(scores), dtype=np.float64)
        except ModelMismatchError as error:
            global _warned_uncalibrated
            if not _warned_uncalibrated:
                log.warning("shortlists are ranked by score, without congestion: %s", error)
                _warned_uncalibrated = True
            return None

    def workplace_shortlist(self, workplace: int, top_k: int, candidates: CandidatePool) -> Shortlist:
        """The explained, ranked shortlist of candidates for one workplace opening (position
        `workplace` in the pool), from the same features, model and explanations as the
        candidate's side; items name the candidate only by id.

        `candidates` must index this matcher's candidate table.
        """
        c_idx, w_idx = candidates.generate_pairs(self.pool, workplace, self.exclude_unmet_required)
        scored = self.score_pairs(c_idx, w_idx, candidates.table)
        chosen, ranks = top_k_per_candidate(scored.w_idx, scored.scores, top_k)
        ids = candidates.table.frame["candidate_id"]
        items = [
            {
                "rank": int(rank),
                "candidate_id": str(ids.iat[explained.candidate]),
                "distance_km": explained.distance_km,
                "score": explained.score,
                "explanation": explained.explanation.model_dump(),
            }
            for explained, rank in zip(self.explain(scored, chosen, candidates.table), ranks, strict=True)
        ]
        return Shortlist(items, len(scored.c_idx))
