"""`compute_features`: the registry's columns for arrays of pairs, in order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.pairs import PairFrame
from features.registry import FEATURES, feature_names

__all__ = ["compute_features", "feature_matrix", "feature_names"]


def feature_matrix(pairs: PairFrame) -> np.ndarray:
    """A float32 matrix with one row per pair and one column per registered feature."""
    out = np.empty((len(pairs), len(FEATURES)), dtype=np.float32)
    for j, feature in enumerate(FEATURES):
        out[:, j] = feature.compute(pairs)
    return out


def compute_features(pairs: PairFrame) -> pd.DataFrame:
    """The registry's features for `pairs` as a DataFrame, columns in registry order."""
    return pd.DataFrame(feature_matrix(pairs), columns=feature_names())
