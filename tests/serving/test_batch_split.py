"""Batch scoring shows where its time went, and scoring in a pipeline of slices changes no result:
the shortlists equal those of scoring every candidate's pairs at once along the API's path
(`Matcher.score_rows`, top-k, reasons of the chosen pairs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matching.explain import top_reasons
from matching.shortlist import top_k_per_candidate
from serving.batch import COLUMNS, REASON_COLUMNS, BatchOptions, CaseloadScorer, batch_reasons, score_caseload

TOP_K = 5
STAGES = ("preparing tables", "candidate generation", "features", "predict", "top-k", "reasons")


def at_once(scorer: CaseloadScorer, top_k: int) -> pd.DataFrame:
    """The shortlists scored the plain way: each chunk's pairs at once along the API's path,
    each candidate's best kept, then the reasons of the chosen pairs."""
    kept_c, kept_w, kept_s = [], [], []
    for start, stop in scorer.bounds:
        scored = scorer.matcher.score_rows(scorer.rows[start:stop])
        chosen, _ = top_k_per_candidate(scored.c_idx, scored.scores, top_k)
        kept_c.append(scored.c_idx[chosen])
        kept_w.append(scored.w_idx[chosen])
        kept_s.append(scored.scores[chosen])
    c_pos, w_pos, scores = np.concatenate(kept_c), np.concatenate(kept_w), np.concatenate(kept_s)
    chosen, ranks = top_k_per_candidate(c_pos, scores, top_k)
    c_pos, w_pos = c_pos[chosen], w_pos[chosen]
    frame = pd.DataFrame(
        {
            "candidate_id": scorer.candidates.frame["candidate_id"].to_numpy()[c_pos],
            "rank": ranks.astype(np.int32),
            "workplace_id": scorer.pool.frame["workplace_id"].to_numpy()[w_pos],
            "score": scores[chosen].astype(np.float64),
        }
    )
    ranker, vocabulary = scorer.model.ranker, scorer.pool.catalogue.vocabulary
    reasons = batch_reasons(ranker, scorer.candidates.arrays, scorer.pool.arrays, vocabulary, c_pos, w_pos)
    for j, column in enumerate(REASON_COLUMNS):
        frame[column] = reasons[j]
    frame["model_version"] = scorer.model.version
    return frame[COLUMNS]


@pytest.mark.parametrize(("chunk_pairs", "slice_pairs"), [(500_000, 25_000), (3_000, 500)])
def test_pipelined_batch_gives_the_shortlists_of_scoring_all_at_once(trained, chunk_pairs, slice_pairs) -> None:  # type: ignore[no-untyped-def]
    options = BatchOptions(top_k=TOP_K, chunk_pairs=chunk_pairs)
    scorer = CaseloadScorer(trained.dataset, trained.model, options)
    scorer.slice_pairs = slice_pairs
    assert len(scorer.bounds) >= (1 if chunk_pairs > 100_000 else 5)
    parts = [scorer.score_chunk(i)[0] for i in range(len(scorer.bounds))]
    frame, _ = scorer.finish(pd.concat(parts, ignore_index=True))
    expected = at_once(CaseloadScorer(trained.dataset, trained.model, options), TOP_K)
    assert len(frame) > 0 and (frame["reason_1"] != "").any()
    pd.testing.assert_frame_equal(frame[COLUMNS].reset_index(drop=True), expected, check_exact=True)


def test_batch_reports_its_split_and_it_adds_up(trained) -> None:  # type: ignore[no-untyped-def]
    frame, figures = score_caseload(trained.dataset, trained.model, top_k=TOP_K)
    split, total = figures["stages"], figures["stages_seconds"]
    assert set(STAGES) <= set(split) and all(seconds >= 0 for seconds in split.values())
    assert sum(split.values()) == pytest.approx(total, rel=1e-6)
    # the named stages cover the run: what none of them covers is a small rest
    assert split["other"] <= 0.2 * total + 0.05
    # the run's own measure of scoring (from the first chunk on) fits inside the split's total
    assert figures["seconds"] <= total
    assert split["predict"] > 0 and split["features"] > 0
    assert len(frame) > 0 and frame.groupby("candidate_id").size().max() <= TOP_K


def test_allocated_batch_reports_the_allocation_as_a_stage(trained) -> None:  # type: ignore[no-untyped-def]
    _, figures = score_caseload(trained.dataset, trained.model, top_k=TOP_K, allocate=True, pool=20)
    assert figures["stages"]["allocation"] > 0 and figures["stages"]["reasons"] > 0
    assert sum(figures["stages"].values()) == pytest.approx(figures["stages_seconds"], rel=1e-6)


def test_reasons_of_shared_values_are_the_sentences_of_each_value() -> None:
    """Sentences are described once per distinct value: the same text as describing each pair,
    -0.0 and 0.0 kept apart."""
    from features.registry import FEATURES

    rng = np.random.default_rng(3)
    n = 400
    values = np.round(rng.uniform(-1, 1, (n, len(FEATURES))), 1).astype(np.float32)
    values[:20] = -0.0
    values[20:40] = 0.0
    contributions = rng.normal(0, 0.1, (n, len(FEATURES) + 1))
    got = top_reasons(values, contributions, 3)
    order = np.argsort(-np.abs(contributions[:, : len(FEATURES)]), axis=1, kind="stable")
    for slot in range(3):
        for i in range(n):
            j = int(order[i, slot])
            c = float(contributions[i, j])
            want = "" if abs(c) < 1e-3 else ("+ " if c > 0 else "- ") + FEATURES[j].describe(float(values[i, j]), c > 0)
            assert got[slot][i] == want
