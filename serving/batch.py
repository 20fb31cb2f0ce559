"""Overnight scoring: a shortlist for every active, consenting candidate, with the same model and
functions as the API. Written to a temporary file and renamed only when complete.

Scores are exactly the API's. The three reasons per suggestion come from decision-path
contributions (`Ranker.path_contributions`), which add up to the score like the API's TreeSHAP
values but cost one leaf lookup per tree instead of a TreeSHAP pass (tens of times slower), so a
whole caseload can be explained overnight. The two agree on the strongest reason for most pairs;
an adviser opening a suggestion in the API sees the TreeSHAP explanation."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.datasets import Dataset
from matching.explain import top_reasons
from matching.shortlist import Matcher, top_k_per_candidate
from serving.loading import LoadedModel

DEFAULT_CHUNK_PAIRS = 2_000_000
REASONS = 3


def score_caseload(
    dataset: Dataset,
    model: LoadedModel,
    top_k: int = 10,
    exclude_unmet_required: bool = True,
    chunk_pairs: int = DEFAULT_CHUNK_PAIRS,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Shortlists for the whole caseload.

    Args:
        dataset: the validated dataset.
        model: the loaded ranker.
        top_k: workplaces per candidate.
        exclude_unmet_required: as in candidate generation.
        chunk_pairs: roughly how many pairs to score at once (bounds memory).
        progress: called after each chunk.

    Returns:
        The shortlists (candidate_id, rank, workplace_id, score, reason_1..3, model_version) and
        run figures (candidates, pairs, seconds, pairs_per_second).
    """
    started = time.perf_counter()
    candidates = CandidateTable.build(dataset.candidates)
    pool = WorkplacePool(dataset.workplaces)
    matcher = Matcher(model.ranker, candidates, pool, exclude_unmet_required)
    rows = eligible_candidates(candidates.frame)
    sample = rows[:: max(1, len(rows) // 50)][:50]
    per_candidate = len(pool.generate_pairs(candidates.arrays, sample, exclude_unmet_required)[0]) / max(1, len(sample))
    chunk = max(1, int(chunk_pairs // max(per_candidate, 1.0)))
    ids = candidates.frame["candidate_id"].to_numpy()
    workplace_ids = pool.frame["workplace_id"].to_numpy()
    parts: list[pd.DataFrame] = []
    pairs_scored = 0
    for start in range(0, len(rows), chunk):
        scored = matcher.score_rows(rows[start : start + chunk])
        chosen, ranks = top_k_per_candidate(scored.c_idx, scored.scores, top_k)
        contributions = model.ranker.path_contributions(scored.matrix[chosen])
        reasons = top_reasons(scored.matrix[chosen], contributions, REASONS)
        part = pd.DataFrame(
            {
                "candidate_id": ids[scored.c_idx[chosen]],
                "rank": ranks.astype(np.int32),
                "workplace_id": workplace_ids[scored.w_idx[chosen]],
                "score": scored.scores[chosen],
            }
        )
        for j in range(REASONS):
            part[f"reason_{j + 1}"] = reasons[j]
        parts.append(part)
        pairs_scored += len(scored.c_idx)
        if progress:
            done = min(start + chunk, len(rows))
            elapsed = time.perf_counter() - started
            progress(
                f"scored {done}/{len(rows)} candidates, {pairs_scored:,} pairs "
                f"({pairs_scored / max(elapsed, 1e-9):,.0f} pairs/s)"
            )
    columns = ["candidate_id", "rank", "workplace_id", "score"] + [f"reason_{j + 1}" for j in range(REASONS)]
    result = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    result["model_version"] = model.version
    seconds = time.perf_counter() - started
    figures = {
        "candidates": float(len(rows)),
        "pairs": float(pairs_scored),
        "seconds": seconds,
        "pairs_per_second": pairs_scored / max(seconds, 1e-9),
    }
    return result, figures


def write_shortlists(frame: pd.DataFrame, out: Path) -> Path:
    """Write to `out` through a temporary file in the same folder, renamed when complete."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    frame.to_parquet(tmp, index=False)
    tmp.replace(out)
    return out
