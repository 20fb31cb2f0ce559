"""Rank, cut top-k and attach reasons: the one shortlist path behind the API and batch, for a
person's workplaces (optionally aware of congestion) and for a workplace's persons, with one
explanation builder for both.

An adviser's shortlist scores every eligible workplace (up to the whole pool) but explains only
the few it returns, so the per-request work outside the model's own predict is kept small: what
depends on the served workplaces alone is prepared once per pool (`PoolView`: ids and codes as
plain lists, per-workplace feature inputs), the best `top_k` are found without sorting every
pair (`best_first`), and congestion is looked up only for the workplaces that could reach the
list (`Matcher.shortlist`). The results are those of ranking every pair.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from features.pairs import PairFrame
from features.registry import feature_names
from matching.arranging import support_options_of
from matching.candidates import CandidatePool, CandidateTable, WorkplacePool
from matching.congestion import CongestionView, congestion_reason
from matching.errors import ModelMismatchError
from matching.explain import reasons, support_status, tasks_needing_training
from matching.explanation import Explanation, SimilarToWish
from matching.model import Ranker
from matching.why_short import why_short

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


def best_first(primary: np.ndarray, secondary: np.ndarray, top_k: int) -> np.ndarray:
    """Positions of the `top_k` best rows by `primary`, ties by `secondary`, then by position
    (higher is better): the first `top_k` of `np.lexsort((-secondary, -primary))`, without
    sorting every row.

    Only rows whose `primary` reaches the `top_k`-th best value can be among them, so only those
    are sorted (in position order, so ties keep the full sort's order)."""
    n = len(primary)
    if top_k >= n:
        return np.lexsort((-secondary, -primary))[:top_k]
    cut = np.partition(-primary, top_k - 1)[top_k - 1]  # minus the top_k-th best primary
    near = np.flatnonzero(-primary <= cut)  # ascending positions
    if len(near) < top_k:  # values that do not compare (NaN): sort them all
        return np.lexsort((-secondary, -primary))[:top_k]
    return near[np.lexsort((-secondary[near], -primary[near]))][:top_k]


@dataclass
class PoolView:
    """What a shortlist reads of one served workplace pool, prepared once per pool: ids, employers
    and occupation codes as plain lists (no per-item pandas look-ups), and the feature inputs
    derived per workplace (`PairFrame.workplace_cache`)."""

    workplace_ids: np.ndarray  # object array of the pool's `workplace_id` values
    employer_ids: list[Any]
    occupation_codes: list[str]
    feature_cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, pool: WorkplacePool) -> PoolView:
        frame = pool.frame
        return cls(
            frame["workplace_id"].to_numpy(),
            frame["employer_id"].tolist(),
            [str(code) for code in frame["occupation_code"].tolist()],
        )


_views: weakref.WeakKeyDictionary[WorkplacePool, PoolView] = weakref.WeakKeyDictionary()


def pool_view(pool: WorkplacePool) -> PoolView:
    """The pool's `PoolView`, made at its first shortlist and dropped with the pool (a served pool
    is replaced whole, never changed in place, when the store's records change)."""
    view = _views.get(pool)
    if view is None:
        view = _views[pool] = PoolView.of(pool)
    return view


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
    # each item's explanation as the record it was built as (the items hold it as plain data)
    explanations: list[Explanation] = field(default_factory=list)

    def served_items(self) -> list[dict[str, Any]]:
        """The items with their explanations as records: a response validates these as they are,
        where it would build each record again from its plain data."""
        return [{**item, "explanation": e} for item, e in zip(self.items, self.explanations, strict=True)]


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
        cache = pool_view(self.pool).feature_cache
        pairs = PairFrame(
            table.arrays, self.pool.arrays, c_idx, w_idx, self.pool.catalogue.vocabulary, workplace_cache=cache
        )
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
        codes = pool_view(self.pool).occupation_codes
        wishes = table.frame["preferred_occupations"]
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
                similar_to_wish=SimilarToWish.of(codes[w], wishes.iat[c], self.pool.catalogue),
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
        expected = self._expected_success(scored.scores) if congestion is not None else None
        pressure: dict[int, tuple[float, int, int, float]] = {}  # position -> expected, live, slots, factor
        if congestion is None or expected is None:
            chosen = best_first(scored.scores, np.zeros(len(scored.scores)), top_k)
        else:
            chosen, pressure = self._congested_best(scored, expected, congestion, top_k)
        view = pool_view(self.pool)
        names = feature_names()
        items = []
        explanations = []
        explained_items = self.explain(scored, chosen, table)
        options = support_options_of(
            self.ranker, table, self.pool, [(e.candidate, e.workplace) for e in explained_items]
        )
        for rank, (explained, item_options) in enumerate(zip(explained_items, options, strict=True), start=1):
            w, pos = explained.workplace, explained.position
            code = view.occupation_codes[w]
            explanation = explained.explanation
            item: dict[str, Any] = {
                "rank": rank,
                "workplace_id": str(view.workplace_ids[w]),
                "employer_id": str(view.employer_ids[w]),
                "occupation_code": code,
                "occupation_title": self.pool.catalogue.title(code),
                "distance_km": explained.distance_km,
                "score": explained.score,
                "explanation": None,
                "features": {n: round(float(v), 6) for n, v in zip(names, scored.matrix[pos], strict=True)},
                "support_options": item_options,
            }
            if pos in pressure:
                success, live, slots, factor = pressure[pos]
                item["expected_success"] = success
                item["congestion"] = {"live_suggestions": live, "free_slots": slots, "factor": factor}
                if factor < 1.0:
                    against = congestion_reason(live, slots, success, factor)
                    explanation = explanation.model_copy(
                        update={"speaks_against": [*explanation.speaks_against, against]}
                    )
            item["explanation"] = explanation.model_dump()
            items.append(item)
            explanations.append(explanation)
        exclude = self.exclude_unmet_required
        filtered, wider = why_short(self.pool, table.arrays, row, exclude)
        return Shortlist(items, len(scored.c_idx), filtered, wider, explanations)

    def _congested_best(
        self, scored: ScoredPairs, expected: np.ndarray, congestion: CongestionView, top_k: int
    ) -> tuple[np.ndarray, dict[int, tuple[float, int, int, float]]]:
        """The `top_k` best pairs of one person by expected success times congestion factor (ties
        by score, then position), and each chosen pair's (expected, live, slots, factor).

        The factor is at most 1, so a pair whose expected success is below the `top_k`-th best
        adjusted value among the pairs looked at cannot make the list: congestion is read for the
        pairs with the best expected success only, widening until the rest cannot reach the list.
        The result is that of ranking every pair."""
        n = len(expected)
        ids = pool_view(self.pool).workplace_ids
        wanted = min(n, 4 * top_k)
        while True:
            if wanted >= n:
                near, rest_best = np.arange(n), -np.inf
            else:
                split = np.argpartition(-expected, wanted)
                near, rest_best = np.sort(split[:wanted]), float(expected[split[wanted]])
            w = scored.w_idx[near]
            live = congestion.live(ids[w])
            slots = self.pool.arrays["slots"][w]
            factor = congestion.factor(live, slots)
            adjusted = expected[near] * factor
            best = best_first(adjusted, scored.scores[near], top_k)
            if wanted >= n or (len(best) == top_k and rest_best < adjusted[best[-1]]):
                break
            wanted *= 4
        chosen = near[best]
        pressure = {
            int(near[b]): (float(expected[near[b]]), int(live[b]), int(slots[b]), float(factor[b])) for b in best
        }
        return chosen, pressure

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
        explained_items = self.explain(scored, chosen, candidates.table)
        items = [
            {
                "rank": int(rank),
                "candidate_id": str(ids.iat[explained.candidate]),
                "distance_km": explained.distance_km,
                "score": explained.score,
                "explanation": explained.explanation.model_dump(),
            }
            for explained, rank in zip(explained_items, ranks, strict=True)
        ]
        return Shortlist(items, len(scored.c_idx), explanations=[e.explanation for e in explained_items])
