"""Feature drift: the population stability index (PSI) of each feature between the pairs a model
was trained for and a new dataset's eligible pairs.

At training, `feature_reference` describes the feature distribution of the eligible pairs of the
training candidates (the pairs the model would score, not only the logged ones advisers picked):
per feature, decile bins (or, for a feature with few distinct values such as a flag, its values as
categories) and the share of pairs in each. It is stored in the model's metadata
(`meta["feature_reference"]`). `drift_report` bins a dataset's eligible pairs the same way and
computes, per feature, PSI = sum over bins of (new - ref) * ln(new / ref), shares floored at
`EPSILON`: under 0.1 stable, 0.1-0.25 moderate, 0.25 and over drifted.

PSI sees covariate drift only: a dataset whose outcomes follow another truth over the same records
has the same features and a PSI of 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.pairs import PairFrame
from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.datasets import Dataset
from matching.errors import ModelMismatchError
from matching.model import Ranker

REFERENCE_VERSION = 1
BINS = 10
# a feature with at most this many distinct values is binned by value (flags, counts, levels)
MAX_CATEGORIES = 10
EPSILON = 1e-4
STABLE = 0.1
DRIFTED = 0.25
CHUNK_CANDIDATES = 2000
CATEGORY_TOLERANCE = 1e-6


def verdict(value: float) -> str:
    """`stable` under 0.1, `moderate` from 0.1 to under 0.25, `drifted` from 0.25."""
    if value >= DRIFTED:
        return "drifted"
    if value >= STABLE:
        return "moderate"
    return "stable"


def describe_column(values: np.ndarray) -> dict[str, Any]:
    """The reference bins of one feature and the share of values in each.

    Numeric features get the inner decile edges (duplicates dropped), bins `(-inf, e1]`,
    `(e1, e2]`, ... `(e_last, inf)`; a feature with at most `MAX_CATEGORIES` distinct values gets
    them as categories plus an `other` bin (share 0 here) for values never seen. Missing values
    (nan) have their own share.
    """
    x = np.asarray(values, dtype=np.float64)
    finite = x[~np.isnan(x)]
    missing = float(np.isnan(x).mean()) if len(x) else 0.0
    distinct = np.unique(finite)
    if len(distinct) <= MAX_CATEGORIES:
        column: dict[str, Any] = {"kind": "categorical", "values": [float(v) for v in distinct]}
    else:
        edges = np.unique(np.quantile(finite, np.arange(1, BINS) / BINS))
        column = {"kind": "numeric", "edges": [float(e) for e in edges]}
    counts = bin_counts(column, x)
    column["shares"] = [float(c) / max(len(x), 1) for c in counts[:-1]]
    column["missing"] = missing
    return column


def n_bins(column: dict[str, Any]) -> int:
    """Bins of a reference column, without the missing bin."""
    if column["kind"] == "categorical":
        return len(column["values"]) + 1  # the last one: values never seen at training
    return len(column["edges"]) + 1


def bin_counts(column: dict[str, Any], values: np.ndarray) -> np.ndarray:
    """How many of `values` fall in each bin of a reference column, the missing ones last."""
    x = np.asarray(values, dtype=np.float64)
    nan = np.isnan(x)
    finite = x[~nan]
    bins = n_bins(column)
    if column["kind"] == "categorical":
        categories = np.asarray(column["values"], dtype=np.float64)
        if len(categories):
            pos = np.searchsorted(categories, finite)
            low, high = np.clip(pos - 1, 0, len(categories) - 1), np.clip(pos, 0, len(categories) - 1)
            nearest = np.where(np.abs(finite - categories[low]) <= np.abs(finite - categories[high]), low, high)
            close = np.abs(finite - categories[nearest]) <= CATEGORY_TOLERANCE * np.maximum(1.0, np.abs(finite))
            index = np.where(close, nearest, len(categories))
        else:
            index = np.zeros(len(finite), dtype=np.int64)
    else:
        index = np.searchsorted(np.asarray(column["edges"], dtype=np.float64), finite, side="left")
    counts = np.bincount(index, minlength=bins).astype(np.int64)
    return np.r_[counts, int(nan.sum())]


def feature_reference(matrix: np.ndarray, names: list[str], source: str, **extra: Any) -> dict[str, Any]:
    """The reference distribution of a feature matrix (one column per name), JSON-serialisable,
    for `meta["feature_reference"]`. `source` says which pairs it describes."""
    x = np.asarray(matrix)
    if x.ndim != 2 or x.shape[1] != len(names):
        raise ValueError(f"the matrix has {x.shape} columns for {len(names)} feature names")
    return {
        "version": REFERENCE_VERSION,
        "source": source,
        "pairs": int(len(x)),
        **extra,
        "features": {name: describe_column(x[:, j]) for j, name in enumerate(names)},
    }


def psi_value(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI between two share vectors over the same bins, each share floored at `EPSILON`."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), EPSILON)
    a = np.maximum(np.asarray(actual, dtype=np.float64), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_from_counts(reference: dict[str, Any], counts: dict[str, np.ndarray]) -> pd.DataFrame:
    """PSI per feature from bin counts of new data (`bin_counts` per feature, summed over chunks)."""
    rows = []
    for name, column in reference["features"].items():
        observed = np.asarray(counts[name], dtype=np.float64)
        total = observed.sum()
        actual = observed / total if total > 0 else np.zeros(len(observed))
        expected = np.r_[np.asarray(column["shares"], dtype=np.float64), float(column.get("missing", 0.0))]
        value = psi_value(expected, actual) if total > 0 else float("nan")
        rows.append(
            {
                "feature": name,
                "kind": column["kind"],
                "bins": n_bins(column),
                "psi": value,
                "verdict": verdict(value) if value == value else "no data",
            }
        )
    return pd.DataFrame(rows, columns=["feature", "kind", "bins", "psi", "verdict"])


def psi(reference: dict[str, Any], matrix: np.ndarray) -> pd.DataFrame:
    """PSI of each reference feature between the reference and `matrix` (columns in the
    reference's feature order).

    Returns:
        Columns `feature`, `kind` (numeric or categorical), `bins`, `psi` and `verdict`
        (`stable` < 0.1 <= `moderate` < 0.25 <= `drifted`).
    """
    names = list(reference["features"])
    x = np.asarray(matrix)
    if x.ndim != 2 or x.shape[1] != len(names):
        raise ValueError(f"the matrix has shape {x.shape}; the reference has {len(names)} features")
    counts = {name: bin_counts(reference["features"][name], x[:, j]) for j, name in enumerate(names)}
    return psi_from_counts(reference, counts)


class EligiblePairs:
    """Eligible pairs of the candidates at positions `rows`, iterated in chunks of candidates taken
    in a seeded random order and stopping before `max_pairs` would be exceeded (whole candidates
    only): all pairs when they fit, else those of a random sample of candidates (`sampled`)."""

    def __init__(
        self,
        candidates: CandidateTable,
        pool: WorkplacePool,
        rows: np.ndarray,
        exclude_unmet_required: bool,
        max_pairs: int,
        seed: int = 0,
    ) -> None:
        self.candidates = candidates
        self.pool = pool
        self.rows = np.asarray(rows, dtype=np.int64)
        self.exclude_unmet_required = exclude_unmet_required
        self.max_pairs = max_pairs
        self.seed = seed
        self.sampled = False

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order = np.random.default_rng(self.seed).permutation(self.rows)
        total = 0
        self.sampled = False
        for start in range(0, len(order), CHUNK_CANDIDATES):
            c_idx, w_idx = self.pool.generate_pairs(
                self.candidates.arrays, order[start : start + CHUNK_CANDIDATES], self.exclude_unmet_required
            )
            if total + len(c_idx) > self.max_pairs:
                self.sampled = True
                starts = np.flatnonzero(np.r_[True, c_idx[1:] != c_idx[:-1]])
                ends = np.r_[starts[1:], len(c_idx)]
                fits = ends[total + ends <= self.max_pairs]
                if len(fits):
                    cut = int(fits[-1])
                    yield c_idx[:cut], w_idx[:cut]
                return
            total += len(c_idx)
            if len(c_idx):
                yield c_idx, w_idx


@dataclass
class DriftReport:
    """PSI per feature of a dataset's eligible pairs against a model's training reference."""

    frame: pd.DataFrame
    pairs: int
    candidates: int
    eligible_candidates: int
    sampled: bool
    reference_source: str
    reference_pairs: int

    @property
    def drifted(self) -> list[str]:
        """Features whose PSI is 0.25 or more."""
        return list(self.frame.loc[self.frame["verdict"] == "drifted", "feature"])

    @property
    def moderate(self) -> list[str]:
        """Features whose PSI is 0.1 to under 0.25."""
        return list(self.frame.loc[self.frame["verdict"] == "moderate", "feature"])

    def lines(self) -> list[str]:
        """The report as text lines, ending with which features drifted."""
        scope = f"{self.candidates} candidates with pairs of {self.eligible_candidates} consenting, active ones"
        if self.sampled:
            scope += "; a random sample of candidates: the eligible pairs exceed the maximum"
        out = [
            f"Feature drift (PSI) of {self.pairs} eligible pairs ({scope})",
            f"against the model's reference: {self.reference_pairs} {self.reference_source}",
            f"  {'feature':<32}{'kind':>12}{'bins':>6}{'PSI':>9}  verdict",
        ]
        for row in self.frame.to_dict("records"):
            value = f"{row['psi']:>9.4f}" if row["psi"] == row["psi"] else f"{'-':>9}"
            out.append(f"  {row['feature']:<32}{row['kind']:>12}{row['bins']:>6}{value}  {row['verdict']}")
        if self.drifted:
            out.append(f"drifted (PSI >= {DRIFTED}): {', '.join(self.drifted)}")
        if self.moderate:
            out.append(f"moderate ({STABLE} <= PSI < {DRIFTED}): {', '.join(self.moderate)}")
        if not self.drifted and not self.moderate:
            out.append(f"no feature drifted: every PSI is under {STABLE}")
        return out


def model_reference(ranker: Ranker) -> dict[str, Any]:
    """The ranker's feature reference.

    Raises:
        ModelMismatchError: when the model has none (trained before drift references existed) or
            it describes other features than the model's.
    """
    reference = ranker.meta.get("feature_reference")
    if not isinstance(reference, dict) or not isinstance(reference.get("features"), dict):
        raise ModelMismatchError(
            "the model has no feature reference (meta['feature_reference']): it predates drift checks;"
            " retrain it (jobmatch train) to measure drift"
        )
    if list(reference["features"]) != list(ranker.features):
        raise ModelMismatchError(
            "the model's feature reference describes other features than the model scores; retrain it (jobmatch train)"
        )
    return reference


def drift_report(
    dataset: Dataset,
    ranker: Ranker,
    exclude_unmet_required: bool = True,
    max_pairs: int = 2_000_000,
    seed: int = 0,
) -> DriftReport:
    """PSI of each feature between the model's training reference and `dataset`'s eligible pairs
    (consenting, active candidates; open workplaces within commute; as the model would score).

    When the eligible pairs exceed `max_pairs`, a seeded random sample of candidates is measured.

    Raises:
        ModelMismatchError: when the model has no feature reference (retrain it).
    """
    reference = model_reference(ranker)
    table = CandidateTable.build(dataset.candidates, ranker.catalogue)
    pool = WorkplacePool(dataset.workplaces, ranker.catalogue, outcomes=dataset.outcomes)
    rows = eligible_candidates(table.frame)
    names = list(reference["features"])
    counts = {name: np.zeros(n_bins(reference["features"][name]) + 1, dtype=np.int64) for name in names}
    pairs = 0
    measured = 0
    sample = EligiblePairs(table, pool, rows, exclude_unmet_required, max_pairs, seed)
    for c_idx, w_idx in sample:
        # each pair as of its candidate's shortlist day, as the training reference is (`training.trainset`)
        history = pool.history_as_of(table, c_idx, w_idx)
        frame = PairFrame(table.arrays, pool.arrays, c_idx, w_idx, pool.catalogue.vocabulary, history)
        matrix = ranker.features_of(frame)
        for j, name in enumerate(names):
            counts[name] += bin_counts(reference["features"][name], matrix[:, j])
        pairs += len(c_idx)
        measured += len(np.unique(c_idx))
    return DriftReport(
        psi_from_counts(reference, counts),
        pairs,
        measured,
        len(rows),
        sample.sampled,
        str(reference.get("source", "training pairs")),
        int(reference.get("pairs", 0)),
    )
