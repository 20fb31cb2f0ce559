"""`compute_features`: the registry's columns for arrays of pairs, in order."""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
import pandas as pd

from features.pairs import PairFrame
from features.registry import FEATURES, feature_names

__all__ = ["compute_features", "feature_matrix", "feature_names"]


# pairs from which a second thread pays: below, handing work over costs about what it saves
PARALLEL_PAIRS = 5_000


def feature_matrix(pairs: PairFrame, helper: Executor | None = None) -> np.ndarray:
    """A float32 matrix with one row per pair and one column per registered feature.

    With `helper` (an executor with a thread to spare) and at least `PARALLEL_PAIRS` pairs, every
    other feature is computed there meanwhile: numpy leaves the interpreter lock in its loops, so
    one large request's features take little more than half the time on two cores. Each column
    is computed by the same function either way, so the values are the same."""
    out = np.empty((len(pairs), len(FEATURES)), dtype=np.float32)

    def fill(columns: range) -> None:
        for j in columns:
            out[:, j] = FEATURES[j].compute(pairs)

    if helper is None or len(pairs) < PARALLEL_PAIRS:
        fill(range(len(FEATURES)))
        return out
    other = helper.submit(fill, range(1, len(FEATURES), 2))
    fill(range(0, len(FEATURES), 2))
    other.result()
    return out


def compute_features(pairs: PairFrame) -> pd.DataFrame:
    """The registry's features for `pairs` as a DataFrame, columns in registry order."""
    return pd.DataFrame(feature_matrix(pairs), columns=feature_names())
