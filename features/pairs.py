"""Arrays of candidate-workplace pairs, the one input every feature computes over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0088


class VocabularyLike(Protocol):
    """The four name lists of the contract's vocabulary."""

    @property
    def riasec(self) -> tuple[str, ...]: ...
    @property
    def activities(self) -> tuple[str, ...]: ...
    @property
    def contexts(self) -> tuple[str, ...]: ...
    @property
    def supports(self) -> tuple[str, ...]: ...


CANDIDATE_GROUPS = {"skill": "activities", "interest": "riasec", "tolerance": "contexts", "needs": "supports"}
WORKPLACE_GROUPS = {"task": "activities", "interest": "riasec", "demand": "contexts", "offers": "supports"}
CANDIDATE_SCALARS = ("lat", "lon", "max_commute_km", "desired_hours")
WORKPLACE_SCALARS = ("lat", "lon", "hours_per_week", "slots", "past_placements", "past_hires")


def _side(
    frame: pd.DataFrame, groups: dict[str, str], scalars: Sequence[str], vocabulary: VocabularyLike
) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for prefix, names in groups.items():
        columns = [f"{prefix}_{n}" for n in getattr(vocabulary, names)]
        arrays[prefix] = frame[columns].to_numpy(dtype=np.float64)
    for name in scalars:
        arrays[name] = frame[name].to_numpy(dtype=np.float64)
    return arrays


def occupation_numbers(codes: pd.Series) -> np.ndarray:
    """Four-digit occupation codes as integers (unknown or malformed codes become -1)."""
    return pd.to_numeric(codes, errors="coerce").fillna(-1).to_numpy(dtype=np.int64)


def candidate_arrays(candidates: pd.DataFrame, vocabulary: VocabularyLike) -> dict[str, np.ndarray]:
    """Per-candidate arrays: level matrices by group, scalars, and preferred-occupation keys."""
    arrays = _side(candidates, CANDIDATE_GROUPS, CANDIDATE_SCALARS, vocabulary)
    lists = candidates["preferred_occupations"].tolist()
    rows = np.repeat(np.arange(len(lists)), [len(v) for v in lists])
    codes = occupation_numbers(pd.Series([c for v in lists for c in v], dtype=object))
    arrays["preferred_rows"] = rows.astype(np.int64)
    arrays["preferred_codes"] = codes
    return arrays


def workplace_arrays(workplaces: pd.DataFrame, vocabulary: VocabularyLike) -> dict[str, np.ndarray]:
    """Per-workplace arrays. `workplaces` must carry the occupation's `interest_*` profile."""
    arrays = _side(workplaces, WORKPLACE_GROUPS, WORKPLACE_SCALARS, vocabulary)
    arrays["occupation"] = occupation_numbers(workplaces["occupation_code"])
    return arrays


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km between arrays of WGS84 points."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass
class PairFrame:
    """Pairs (`c_idx[i]`, `w_idx[i]`) over per-candidate and per-workplace arrays.

    Features read pair-aligned arrays through `c()` and `w()`, which gather once and cache.
    `pair_values` holds workplace values that differ by pair, one per pair: in training, the
    employer's history (`past_placements`, `past_hires`) as of each pair's date
    (`features.history`); without them, `w()` reads the workplace's own array (in serving, its
    history up to now).
    """

    candidates: dict[str, np.ndarray]
    workplaces: dict[str, np.ndarray]
    c_idx: np.ndarray
    w_idx: np.ndarray
    vocabulary: VocabularyLike
    pair_values: dict[str, np.ndarray] = field(default_factory=dict)
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.c_idx)

    def c(self, key: str) -> np.ndarray:
        """Candidate array `key`, one row per pair."""
        name = f"c:{key}"
        if name not in self._cache:
            self._cache[name] = self.candidates[key][self.c_idx]
        return self._cache[name]

    def w(self, key: str) -> np.ndarray:
        """Workplace array `key`, one row per pair (the pair's own value where `pair_values` has one)."""
        if key in self.pair_values:
            return self.pair_values[key]
        name = f"w:{key}"
        if name not in self._cache:
            self._cache[name] = self.workplaces[key][self.w_idx]
        return self._cache[name]

    def distance_km(self) -> np.ndarray:
        """Distance between the person's home and the workplace, in km."""
        if "distance_km" not in self._cache:
            self._cache["distance_km"] = haversine_km(self.c("lat"), self.c("lon"), self.w("lat"), self.w("lon"))
        return self._cache["distance_km"]

    def column_of(self, group: str, name: str) -> int:
        """The position of vocabulary entry `name` within a level group's matrix."""
        names = getattr(self.vocabulary, {**CANDIDATE_GROUPS, **WORKPLACE_GROUPS}[group])
        return list(names).index(name)
