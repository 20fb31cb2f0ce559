"""From outcomes to a training set: features, grades and query groups (one group per candidate,
or per workplace for the employer direction).

Every pair set here is seen as of its date (`features.history`): the employer history a row's
features read is the workplace's recorded counts plus the outcomes known before the row's date, so
an outcome recorded later never changes an earlier row. A pair's date is its first
`suggested_on`; a pair never suggested (an eligible pair of a held-out candidate, the drift
reference) takes its candidate's first suggestion, the day that person's shortlist was made; a
candidate never suggested anything sees the history up to now (it holds none of their outcomes).
`logged_pairs` and `stored_pairs` give the pool their outcomes first, so the pair sets built on the
same pool afterwards (the held-out candidates' eligible pairs, the drift reference) use them too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from features.compute import feature_matrix
from features.pairs import PairFrame
from features.registry import feature_names
from matching.candidates import CandidateTable, WorkplacePool
from matching.datasets import Dataset
from matching.records import DataContractError, Problem

HELD_OUT_SHARE = 0.2
VALID_SHARE = 0.2
# data contract v1 grades: 0 not pursued, 1 employer contacted, 2 trial started, 3 trial completed, 4 hired
HIRED_GRADE = 4

# what a ranking group is: one candidate's workplaces (shortlists for advisers), or one
# workplace's candidates (shortlists for employers)
GroupBy = Literal["candidate", "workplace"]
GROUP_BY: tuple[GroupBy, ...] = ("candidate", "workplace")


@dataclass
class PairSet:
    """Pairs grouped by candidate, with their feature matrix and (optionally) labels."""

    candidate_ids: np.ndarray
    workplace_ids: np.ndarray
    c_idx: np.ndarray
    w_idx: np.ndarray
    matrix: np.ndarray
    grade: np.ndarray | None = None
    truth: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.c_idx)

    def subset(self, mask: np.ndarray) -> PairSet:
        def take(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[mask]

        return PairSet(
            self.candidate_ids[mask],
            self.workplace_ids[mask],
            self.c_idx[mask],
            self.w_idx[mask],
            self.matrix[mask],
            take(self.grade),
            take(self.truth),
        )

    def group_keys(self, by: GroupBy = "candidate") -> np.ndarray:
        """The group of each row: its candidate's or its workplace's position."""
        return self.w_idx if by == "workplace" else self.c_idx

    def grouped(self, by: GroupBy) -> PairSet:
        """The pairs ordered by group (then by the other side), so each group's rows are contiguous."""
        order = np.lexsort((self.c_idx, self.w_idx)) if by == "workplace" else np.lexsort((self.w_idx, self.c_idx))
        return self.subset(order)

    def group_sizes(self, by: GroupBy = "candidate") -> np.ndarray:
        """Rows per run of equal group keys, in order (for LightGBM's `group`); rows must be grouped
        (pairs are built grouped by candidate; see `grouped` for workplaces)."""
        keys = self.group_keys(by)
        if len(keys) == 0:
            return np.zeros(0, dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        return np.diff(np.r_[starts, len(keys)])


def split_share(candidate_ids: np.ndarray, salt: str) -> np.ndarray:
    """A stable pseudo-random number in [0, 1) per candidate id (the same in every run)."""
    return np.array(
        [int(hashlib.sha256(f"{salt}:{cid}".encode()).hexdigest()[:8], 16) / 0x100000000 for cid in candidate_ids]
    )


def held_out_mask(candidate_ids: np.ndarray, share: float = HELD_OUT_SHARE) -> np.ndarray:
    """True for candidates kept out of training. Stable across runs and datasets, so a new model
    and the champion are compared on candidates neither was fitted on (when both used this split)."""
    unique, inverse = np.unique(candidate_ids, return_inverse=True)
    return (split_share(unique, "held-out") < share)[inverse]


def valid_mask(candidate_ids: np.ndarray, share: float = VALID_SHARE) -> np.ndarray:
    """True for training candidates set aside for early stopping."""
    unique, inverse = np.unique(candidate_ids, return_inverse=True)
    return (split_share(unique, "early-stopping") < share)[inverse]


def pair_set(candidates: CandidateTable, pool: WorkplacePool, c_idx: np.ndarray, w_idx: np.ndarray) -> PairSet:
    """Features for the given pairs (grouped by candidate), each as of its date."""
    pairs = PairFrame(
        candidates.arrays,
        pool.arrays,
        c_idx,
        w_idx,
        pool.catalogue.vocabulary,
        pool.history_as_of(candidates, c_idx, w_idx),
    )
    return PairSet(
        candidates.frame["candidate_id"].to_numpy()[c_idx],
        pool.frame["workplace_id"].to_numpy()[w_idx],
        c_idx,
        w_idx,
        feature_matrix(pairs),
    )


def logged_pairs(dataset: Dataset, candidates: CandidateTable, pool: WorkplacePool) -> PairSet:
    """The labelled pairs of the outcomes table, one row per pair (its furthest grade), each as of
    its first suggestion. The pool takes the outcomes into its employer history first.

    Raises:
        DataContractError: when the dataset has no outcomes.
    """
    outcomes = dataset.outcomes
    if outcomes is None or len(outcomes) == 0:
        raise DataContractError([Problem("outcomes", "", None, "training needs an outcomes table with rows")])
    pool.add_outcomes(outcomes)
    best = outcomes.groupby(["candidate_id", "workplace_id"], as_index=False, sort=False)["grade"].max()
    c_pos = best["candidate_id"].map(candidates.positions()).to_numpy(dtype=np.int64)
    w_pos = best["workplace_id"].map(pool.positions()).to_numpy(dtype=np.int64)
    order = np.lexsort((w_pos, c_pos))
    out = pair_set(candidates, pool, c_pos[order], w_pos[order])
    out.grade = best["grade"].to_numpy(dtype=np.int64)[order]
    return out


def attach_truth(pairs: PairSet, truth: pd.DataFrame | None) -> int:
    """Set `pairs.truth` to the true expected grade of each pair; returns how many were missing."""
    if truth is None:
        return len(pairs)
    keys = pd.MultiIndex.from_arrays([pairs.candidate_ids, pairs.workplace_ids])
    table = truth.set_index(["candidate_id", "workplace_id"])["expected_grade"]
    values = table.reindex(keys).to_numpy(dtype=np.float64)
    missing = int(np.isnan(values).sum())
    pairs.truth = np.nan_to_num(values, nan=0.0)
    return missing


def stored_pairs(stored: pd.DataFrame, candidates: CandidateTable, pool: WorkplacePool) -> PairSet:
    """Labelled pairs from the store: decided suggestions with the feature values the model saw
    when it suggested them (columns named after the features). Pairs whose stored values lack a
    feature of today's registry get theirs computed from the records instead, as of the pair's
    first suggestion (the pool takes the stored outcomes into its employer history first).

    Raises:
        DataContractError: when a stored pair names a candidate or workplace the records lack.
    """
    names = feature_names()
    best = stored.sort_values("grade").drop_duplicates(["candidate_id", "workplace_id"], keep="last")
    c_pos = best["candidate_id"].map(candidates.positions())
    w_pos = best["workplace_id"].map(pool.positions())
    unknown = c_pos.isna() | w_pos.isna()
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataContractError(
            [
                Problem(
                    "outcomes", "candidate_id", row, "a stored decision names a candidate or workplace the store lacks"
                )
            ]
        )
    pool.add_outcomes(stored)
    c_idx, w_idx = c_pos.to_numpy(dtype=np.int64), w_pos.to_numpy(dtype=np.int64)
    order = np.lexsort((w_idx, c_idx))
    out = pair_set(candidates, pool, c_idx[order], w_idx[order])
    if set(names) <= set(best.columns):
        values = best[names].to_numpy(dtype=np.float64)[order]
        complete = ~np.isnan(values).any(axis=1)
        out.matrix[complete] = values[complete].astype(out.matrix.dtype)
    out.grade = best["grade"].to_numpy(dtype=np.int64)[order]
    return out


def merge_pairs(first: PairSet, second: PairSet) -> PairSet:
    """Both sets' pairs, grouped by candidate; where both hold a pair, `second`'s row wins."""

    def keys(p: PairSet) -> np.ndarray:
        return p.c_idx.astype(np.int64) * (1 << 32) + p.w_idx.astype(np.int64)

    keep = ~np.isin(keys(first), keys(second))
    parts = [first.subset(keep), second]

    def cat(name: str) -> np.ndarray | None:
        arrays = [getattr(p, name) for p in parts]
        return None if any(a is None for a in arrays) else np.concatenate(arrays)

    merged = PairSet(
        np.concatenate([p.candidate_ids for p in parts]),
        np.concatenate([p.workplace_ids for p in parts]),
        np.concatenate([p.c_idx for p in parts]),
        np.concatenate([p.w_idx for p in parts]),
        np.concatenate([p.matrix for p in parts]),
        cat("grade"),
        cat("truth"),
    )
    order = np.lexsort((merged.w_idx, merged.c_idx))
    return merged.subset(order)
