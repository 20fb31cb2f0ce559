"""Position bias: how much the rank a suggestion was shown at changes what advisers pursue, and
the correction that keeps it out of the ranker.

The outcomes may carry the optional `shown_rank` (1 = first in the adviser's list). Advisers
look harder at the top of a list, so a pair shown first is pursued more often than the same pair
shown fifth; a model fitted on such logs learns the old ranking's order along with the pairs'
merit. `position_effect` estimates the rank's own effect with the features held equal (a Poisson
model of the grade, and of "pursued at all", on the features and one indicator per rank). The
ranker then boosts from those per-rank offsets (`rank_offsets`), so the trees learn the pairs'
merit net of the rank they were shown at (`train_ranker(position_correction=False)` turns it off).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import PoissonRegressor
from sklearn.preprocessing import StandardScaler

from training.trainset import PairSet

RANK_COLUMN = "shown_rank"
MAX_RANK = 10  # ranks beyond share one indicator


def shown_ranks(outcomes: pd.DataFrame | None, pairs: PairSet) -> np.ndarray | None:
    """The shown rank of each logged pair (the rank of its row with the furthest grade, the best
    rank among those), NaN where unknown; None when the outcomes have no rank at all."""
    if outcomes is None or RANK_COLUMN not in outcomes.columns:
        return None
    ranks = pd.to_numeric(outcomes[RANK_COLUMN], errors="coerce")
    valid = ranks.where(ranks >= 1)
    if valid.notna().sum() == 0:
        return None
    frame = pd.DataFrame(
        {
            "candidate_id": outcomes["candidate_id"].astype(str),
            "workplace_id": outcomes["workplace_id"].astype(str),
            "grade": outcomes["grade"],
            "rank": valid,
        }
    ).sort_values(["grade", "rank"], ascending=[False, True], kind="stable")
    best = frame.drop_duplicates(["candidate_id", "workplace_id"]).set_index(["candidate_id", "workplace_id"])
    keys = pd.MultiIndex.from_arrays([pairs.candidate_ids.astype(str), pairs.workplace_ids.astype(str)])
    return best["rank"].reindex(keys).to_numpy(dtype=np.float64)


@dataclass(frozen=True)
class PositionEffect:
    """Per shown rank (1..MAX_RANK, the last one also holding later ranks): the logged pairs, the
    share pursued (grade >= 1), and with the features held equal the expected grade and the
    chance of being pursued relative to rank 1."""

    ranks: tuple[int, ...]
    pairs: tuple[int, ...]
    pursued_share: tuple[float, ...]
    relative_grade: tuple[float, ...]
    relative_pursued: tuple[float, ...]

    def lines(self) -> list[str]:
        out = [
            "Position effect (logged pairs with a shown rank; relative to rank 1 with the features held equal):",
            f"  {'rank':<6}{'pairs':>7}{'pursued':>9}{'rel. pursued':>14}{'rel. grade':>12}",
        ]
        for i, rank in enumerate(self.ranks):
            label = f"{rank}+" if rank == MAX_RANK else str(rank)
            out.append(
                f"  {label:<6}{self.pairs[i]:>7}{self.pursued_share[i]:>9.3f}"
                f"{self.relative_pursued[i]:>14.3f}{self.relative_grade[i]:>12.3f}"
            )
        return out

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for i, rank in enumerate(self.ranks):
            out[f"position.rank_{rank}.relative_pursued"] = self.relative_pursued[i]
            out[f"position.rank_{rank}.relative_grade"] = self.relative_grade[i]
        return out


def _rank_levels(ranks: np.ndarray) -> np.ndarray:
    return np.clip(ranks, 1, MAX_RANK).astype(np.int64)


def _relative(matrix: np.ndarray, target: np.ndarray, levels: np.ndarray, present: np.ndarray) -> np.ndarray:
    """exp(coefficient) of each rank indicator (rank 1 the reference) in a Poisson model of the
    target on the standardised features and the indicators."""
    x = StandardScaler().fit_transform(np.asarray(matrix, dtype=np.float64))
    dummies = (levels[:, None] == present[None, 1:]).astype(np.float64)
    fit = PoissonRegressor(alpha=1e-4, max_iter=1000).fit(np.hstack([x, dummies]), target)
    return np.r_[1.0, np.exp(fit.coef_[x.shape[1] :])]


def position_effect(matrix: np.ndarray, grade: np.ndarray, ranks: np.ndarray) -> PositionEffect | None:
    """The rank's own effect on the logged pairs that have a shown rank (None with fewer than two
    ranks or no pair of rank 1)."""
    known = ~np.isnan(ranks)
    levels = _rank_levels(ranks[known])
    present = np.unique(levels)
    if len(present) < 2 or present[0] != 1 or len(levels) < 50:
        return None
    x, g = np.asarray(matrix)[known], np.asarray(grade, dtype=np.float64)[known]
    pursued = (g >= 1).astype(np.float64)
    return PositionEffect(
        tuple(int(r) for r in present),
        tuple(int((levels == r).sum()) for r in present),
        tuple(float(pursued[levels == r].mean()) for r in present),
        tuple(float(v) for v in _relative(x, g, levels, present)),
        tuple(float(v) for v in _relative(x, pursued, levels, present)),
    )


def rank_offsets(effect: PositionEffect, ranks: np.ndarray) -> np.ndarray:
    """The log of each pair's relative expected grade at its shown rank (0 where the rank is
    unknown): the offset a Poisson booster boosts from to leave the rank's effect out."""
    table = dict(zip(effect.ranks, np.log(np.maximum(effect.relative_grade, 1e-6)), strict=True))
    out = np.zeros(len(ranks))
    known = ~np.isnan(ranks)
    out[known] = [table.get(int(r), 0.0) for r in _rank_levels(ranks[known])]
    return out
