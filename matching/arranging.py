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


def support_options(
    model: Estimator, table: CandidateTable, pool: WorkplacePool, candidate: int, workplace: int
) -> list[dict[str, Any]]:
    """The options of one pair, best estimate first: `support`, `need` (required or helps),
    `arranged_by` ("support_system"), `scheme` (English), `expected_success` (as it stands) and
    `expected_success_if_arranged`. Empty when nothing is arrangeable or the model has no
    calibration."""
    needs = table.arrays["needs"][candidate]
    gaps = arrangeable_gaps(needs, pool.arrays["offers"][workplace], pool)
    if not gaps:
        return []
    rows = len(gaps) + 1  # row 0: the pair as it stands; row i: with support gaps[i - 1] arranged
    arrays = {key: np.repeat(values[workplace : workplace + 1], rows, axis=0) for key, values in pool.arrays.items()}
    offers = arrays["offers"] = arrays["offers"].astype(np.float64, copy=True)
    for i, j in enumerate(gaps, start=1):
        offers[i, j] = 1.0
    vocabulary = pool.catalogue.vocabulary
    pairs = PairFrame(table.arrays, arrays, np.full(rows, candidate), np.arange(rows), vocabulary)
    try:
        expected = np.asarray(model.expected_success(model.score(model.features_of(pairs))), dtype=np.float64)
    except ModelMismatchError:
        return []
    options = [
        {
            "support": vocabulary.supports[j],
            "need": "required" if needs[j] >= REQUIRED_NEED else "helps",
            "arranged_by": "support_system",
            "scheme": vocabulary.scheme(vocabulary.supports[j]) or "",
            "expected_success": round(float(expected[0]), 6),
            "expected_success_if_arranged": round(float(expected[i]), 6),
        }
        for i, j in enumerate(gaps, start=1)
    ]
    return sorted(options, key=lambda o: -o["expected_success_if_arranged"])
