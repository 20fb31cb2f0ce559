"""What would make a suggestion work: the supports the person needs that the workplace lacks and
the support system could arrange (a mentor through NAV's mentor grant, an adapted workstation, a
job coach), each with the chance of a hire the same model estimates were it arranged.

The estimate re-scores the pair with its features recomputed as if the workplace offered that
support (`offers_<support>` set for this pair only), through the model's own calibration
(`Ranker.expected_success`): an estimate from past outcomes, not a promise. The suggestion's own
score and rank do not change. Without a calibration (a model trained before it existed, or the
rule score while the model is switched off) there is no estimate, and no options are given.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from features.pairs import PairFrame
from features.support import HELPFUL_NEED, OFFERED, REQUIRED_NEED
from matching.candidates import CandidateTable, WorkplacePool
from matching.errors import ModelMismatchError


class Estimator(Protocol):
    """What the options need of a model: features, scores and their calibration."""

    def features_of(self, pairs: PairFrame) -> np.ndarray: ...
    def score(self, matrix: np.ndarray) -> np.ndarray: ...
    def expected_success(self, scores: np.ndarray) -> np.ndarray: ...


def arrangeable_gaps(needs: np.ndarray, offers: np.ndarray, pool: WorkplacePool) -> list[int]:
    """The positions (in the vocabulary's supports) of the needs (helps or required) the workplace
    does not offer and the support system could arrange."""
    return [
        j for j in range(len(needs)) if needs[j] >= HELPFUL_NEED and offers[j] < OFFERED and not pool.workplace_only[j]
    ]


def support_options_of(
    model: Estimator, table: CandidateTable, pool: WorkplacePool, pairs: list[tuple[int, int]]
) -> list[list[dict[str, Any]]]:
    """The support options of each (candidate, workplace) pair, best estimate first: `support`,
    `need` (required or helps), `arranged_by` ("support_system"), `scheme` (English),
    `expected_success` (as it stands) and `expected_success_if_arranged`; empty for a pair with
    nothing arrangeable, and for all when the model has no calibration. All pairs' re-scored rows
    go through one predict (a shortlist's items together); every row is scored on its own, so the
    numbers are those of one pair at a time."""
    needs_of = table.arrays["needs"]
    gaps_of = [arrangeable_gaps(needs_of[c], pool.arrays["offers"][w], pool) for c, w in pairs]
    # per pair with gaps: row 0 the pair as it stands, row i with support gaps[i - 1] arranged
    sizes = [len(gaps) + 1 if gaps else 0 for gaps in gaps_of]
    if not any(sizes):
        return [[] for _ in pairs]
    workplaces = np.repeat([w for _, w in pairs], sizes)
    candidates = np.repeat([c for c, _ in pairs], sizes)
    arrays = {key: values[workplaces] for key, values in pool.arrays.items()}
    offers = arrays["offers"] = arrays["offers"].astype(np.float64, copy=True)
    starts = np.cumsum([0, *sizes[:-1]])
    for start, gaps in zip(starts, gaps_of, strict=True):
        for i, j in enumerate(gaps, start=1):
            offers[start + i, j] = 1.0
    vocabulary = pool.catalogue.vocabulary
    frame = PairFrame(table.arrays, arrays, candidates, np.arange(len(workplaces)), vocabulary)
    try:
        expected = np.asarray(model.expected_success(model.score(model.features_of(frame))), dtype=np.float64)
    except ModelMismatchError:
        return [[] for _ in pairs]
    out = []
    for (c, _), start, gaps in zip(pairs, starts, gaps_of, strict=True):
        options: list[dict[str, Any]] = [
            {
                "support": vocabulary.supports[j],
                "need": "required" if needs_of[c][j] >= REQUIRED_NEED else "helps",
                "arranged_by": "support_system",
                "scheme": vocabulary.scheme(vocabulary.supports[j]) or "",
                "expected_success": round(float(expected[start]), 6),
                "expected_success_if_arranged": round(float(expected[start + i]), 6),
            }
            for i, j in enumerate(gaps, start=1)
        ]
        out.append(sorted(options, key=lambda o: -o["expected_success_if_arranged"]))
    return out
