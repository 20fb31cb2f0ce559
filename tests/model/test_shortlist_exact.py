"""The adviser's shortlist takes shortcuts for speed (one person's row read broadcast, the best
rows found without sorting them all, congestion read only where it can matter); what it returns
must be exactly what scoring and ranking every pair the plain way gives."""

from __future__ import annotations

import numpy as np
import pytest

from features.compute import feature_matrix
from features.pairs import PairFrame
from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.congestion import Congestion, CongestionView
from matching.shortlist import Matcher, best_first, pool_view


@pytest.fixture(scope="module")
def served(trained):
    table = CandidateTable.build(trained.dataset.candidates)
    pool = WorkplacePool(trained.dataset.workplaces, outcomes=trained.dataset.outcomes)
    return table, pool, Matcher(trained.model.ranker, table, pool)


def test_best_first_is_the_head_of_the_full_sort_ties_included():
    rng = np.random.default_rng(3)
    for n, top_k in [(0, 5), (1, 1), (7, 10), (50, 3), (500, 10), (500, 100), (2000, 1)]:
        primary = rng.integers(0, 6, n).astype(float)  # many ties
        secondary = rng.integers(0, 3, n).astype(float)  # ties of ties: position decides
        expected = np.lexsort((-secondary, -primary))[:top_k]
        assert best_first(primary, secondary, top_k).tolist() == expected.tolist()
    primary = np.array([1.0, np.nan, 3.0, np.nan])
    assert best_first(primary, np.zeros(4), 3).tolist() == np.lexsort((np.zeros(4), -primary))[:3].tolist()


def test_a_persons_features_do_not_depend_on_who_is_scored_beside_them(served):
    """Bit for bit: a person alone (the broadcast row), among others (gathered rows), and against
    every workplace of the pool (the arrays read as they are)."""
    table, pool, _ = served
    voc = pool.catalogue.vocabulary
    rows = eligible_candidates(table.frame)[:40]
    c_idx, w_idx = pool.generate_pairs(table.arrays, rows)
    together = feature_matrix(PairFrame(table.arrays, pool.arrays, c_idx, w_idx, voc))
    cache: dict[str, object] = {}
    for row in rows:
        mine = c_idx == row
        alone = feature_matrix(
            PairFrame(table.arrays, pool.arrays, c_idx[mine], w_idx[mine], voc, workplace_cache=cache)
        )
        assert alone.tobytes() == together[mine].tobytes()
    every = np.arange(len(pool))
    person = np.full(len(pool), rows[0])
    whole = feature_matrix(PairFrame(table.arrays, pool.arrays, person, every, voc, workplace_cache=cache))
    shuffled = np.random.default_rng(0).permutation(len(pool))  # not in order: rows are gathered
    gathered = feature_matrix(PairFrame(table.arrays, pool.arrays, person[shuffled], shuffled, voc))
    assert whole[shuffled].tobytes() == gathered.tobytes()


def test_the_plain_shortlist_is_the_head_of_the_score_order(served):
    table, _, matcher = served
    for row in eligible_candidates(table.frame)[:30]:
        scored = matcher.score_rows(np.array([row]))
        order = np.lexsort((-scored.scores,))[:10]
        items = matcher.shortlist(int(row), 10).items
        assert [i["workplace_id"] for i in items] == [
            str(pool_view(matcher.pool).workplace_ids[w]) for w in scored.w_idx[order]
        ]
        assert [i["score"] for i in items] == scored.scores[order].tolist()


def test_the_congested_shortlist_is_the_head_of_the_full_congested_ranking(served, trained):
    """With many workplaces crowded (some far below their expected success), the list read with
    congestion for a few workplaces only equals ranking every eligible pair by expected success
    times factor, ties by score."""
    table, pool, matcher = served
    ids = table.frame["candidate_id"].astype(str).to_numpy()
    wids = pool_view(pool).workplace_ids
    congestion = Congestion(suggestions_per_slot=0.5, window_days=14)  # held in memory: no store
    rows = eligible_candidates(table.frame)
    c_idx, w_idx = pool.generate_pairs(table.arrays, rows[:300])
    for c, w in zip(c_idx.tolist(), w_idx.tolist(), strict=True):
        if (c + w) % 2 == 0:  # half of every person's reach: crowds of every size
            congestion.record(str(ids[c]), [str(wids[w])])
    ranker = trained.model.ranker
    checked = 0
    for row in rows[300:360]:
        view = CongestionView(congestion, str(ids[row]))
        items = matcher.shortlist(int(row), 10, congestion=view).items
        scored = matcher.score_rows(np.array([row]))
        expected = ranker.expected_success(scored.scores)
        live = view.live(wids[scored.w_idx])
        factor = view.factor(live, pool.arrays["slots"][scored.w_idx])
        order = np.lexsort((-scored.scores, -(expected * factor)))[:10]
        assert [i["workplace_id"] for i in items] == [str(wids[w]) for w in scored.w_idx[order]]
        assert [i["congestion"]["factor"] for i in items] == factor[order].tolist()
        assert [i["congestion"]["live_suggestions"] for i in items] == live[order].tolist()
        assert [i["expected_success"] for i in items] == expected[order].tolist()
        checked += bool((factor < 1).any())
    assert checked >= 20  # the crowds did bite
