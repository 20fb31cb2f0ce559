"""Ranking metrics: NDCG@k per query group, as small functions tested on known answers."""

from __future__ import annotations

import numpy as np


def group_starts(groups: np.ndarray) -> np.ndarray:
    """Start positions of runs of equal values in `groups` (which must be grouped)."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])


def ndcg_per_group(gains: np.ndarray, scores: np.ndarray, groups: np.ndarray, k: int) -> np.ndarray:
    """NDCG@k of each group with any positive gain (groups with none are left out).

    Gains are linear (a pair's gain is its grade, or its true expected grade), discounts
    1/log2(rank + 1). Ties in `scores` keep the input order.

    Args:
        gains: relevance of each row.
        scores: the ranker's score of each row (higher first).
        groups: group key of each row; rows of a group must be contiguous.
        k: cut-off.

    Returns:
        One NDCG@k value per group that has a positive gain.
    """
    return ndcg_per_group_at(gains, scores, groups, (k,))[k]


def ndcg_per_group_at(
    gains: np.ndarray, scores: np.ndarray, groups: np.ndarray, ks: tuple[int, ...]
) -> dict[int, np.ndarray]:
    """`ndcg_per_group` at each cut-off of `ks`, the rows sorted once for all of them."""
    gains = np.asarray(gains, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(groups)
    if len(gains) == 0:
        return {k: np.zeros(0) for k in ks}
    starts = group_starts(groups)
    sizes = np.diff(np.r_[starts, len(groups)])
    group_id = np.repeat(np.arange(len(starts)), sizes)
    position = np.arange(len(groups)) - np.repeat(starts, sizes)
    by_score = np.lexsort((position, -scores, group_id))
    by_gain = np.lexsort((position, -gains, group_id))
    rank = np.arange(len(groups)) - np.repeat(starts, sizes)
    out = {}
    for k in ks:
        discount = np.where(rank < k, 1.0 / np.log2(rank + 2.0), 0.0)
        dcg = np.bincount(group_id, weights=gains[by_score] * discount, minlength=len(starts))
        ideal = np.bincount(group_id, weights=gains[by_gain] * discount, minlength=len(starts))
        has_gain = ideal > 0
        out[k] = dcg[has_gain] / ideal[has_gain]
    return out


def ndcg_at_k(gains: np.ndarray, scores: np.ndarray, groups: np.ndarray, k: int) -> float:
    """Mean NDCG@k over groups with a positive gain (nan if there is none)."""
    return ndcg_at_ks(gains, scores, groups, (k,))[k]


def ndcg_at_ks(gains: np.ndarray, scores: np.ndarray, groups: np.ndarray, ks: tuple[int, ...]) -> dict[int, float]:
    """`ndcg_at_k` at each cut-off of `ks`, the rows sorted once for all of them."""
    per_group = ndcg_per_group_at(gains, scores, groups, ks)
    return {k: float(values.mean()) if len(values) else float("nan") for k, values in per_group.items()}
