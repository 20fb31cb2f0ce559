"""Arrays of candidate-workplace pairs, the one input every feature computes over."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

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

    Gathers cost what the arithmetic does, so two common shapes skip them with the same values:
    one person against many workplaces (an adviser's shortlist) reads the person's row broadcast
    (read-only) instead of copied per pair, and pairs covering every workplace in order read the
    workplace arrays themselves. `workplace_cache`, when given (a dict kept as long as the
    workplace arrays, e.g. per served pool), holds per-workplace values derived once
    (`per_row`) across frames over the same arrays.
    """

    candidates: dict[str, np.ndarray]
    workplaces: dict[str, np.ndarray]
    c_idx: np.ndarray
    w_idx: np.ndarray
    vocabulary: VocabularyLike
    pair_values: dict[str, np.ndarray] = field(default_factory=dict)
    workplace_cache: dict[str, Any] | None = None
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _shape: tuple[int | None, bool] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.c_idx)

    def _layout(self) -> tuple[int | None, bool]:
        """(the one candidate position every pair has, or None; whether `w_idx` is 0..n-1 over
        every workplace), found once."""
        if self._shape is None:
            c, w = np.asarray(self.c_idx), np.asarray(self.w_idx)
            one = int(c[0]) if len(c) and bool((c == c[0]).all()) else None
            n = len(next(iter(self.workplaces.values()))) if self.workplaces else -1
            every = len(w) == n and bool(np.array_equal(w, np.arange(n)))
            self._shape = (one, every)
        return self._shape

    def one_candidate(self) -> int | None:
        """The one candidate position every pair has (an adviser's shortlist), or None."""
        return self._layout()[0]

    def gather_c(self, values: np.ndarray) -> np.ndarray:
        """Per-candidate `values`, one row per pair (a read-only broadcast for one candidate)."""
        one, _ = self._layout()
        if one is not None:
            return np.broadcast_to(values[one], (len(self), *values.shape[1:]))
        return values[self.c_idx]

    def gather_w(self, values: np.ndarray) -> np.ndarray:
        """Per-workplace `values`, one row per pair (the array itself when the pairs cover every
        workplace in order; do not write to it)."""
        _, every = self._layout()
        return values if every else values[self.w_idx]

    def c(self, key: str) -> np.ndarray:
        """Candidate array `key`, one row per pair (read-only)."""
        name = f"c:{key}"
        if name not in self._cache:
            self._cache[name] = self.gather_c(self.candidates[key])
        return self._cache[name]

    def w(self, key: str) -> np.ndarray:
        """Workplace array `key`, one row per pair (the pair's own value where `pair_values` has
        one; read-only)."""
        if key in self.pair_values:
            return self.pair_values[key]
        name = f"w:{key}"
        if name not in self._cache:
            self._cache[name] = self.gather_w(self.workplaces[key])
        return self._cache[name]

    def per_row(self, side: str, key: str, transform: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """`transform` of the side's array `key` (side "c" or "w"), one row per pair.

        `transform` must be row-wise (each output row depends on its own input row alone): for
        one candidate only that row is transformed; the workplace side's result is kept in
        `workplace_cache` (when given) as long as the array is the same object.
        """
        if side == "c":
            one, _ = self._layout()
            values = self.candidates[key]
            if one is not None:
                row = transform(values[one : one + 1])[0]
                return np.broadcast_to(row, (len(self), *np.shape(row)))
            return transform(values)[self.c_idx]
        values = self.workplaces[key]
        cache = self.workplace_cache
        name = f"{key}:{transform.__module__}.{transform.__qualname__}"
        held = cache.get(name) if cache is not None else None
        if held is not None and held[0] is values:
            derived = held[1]
        else:
            derived = transform(values)
            if cache is not None:
                cache[name] = (values, derived)
        return self.gather_w(derived)

    def distance_km(self) -> np.ndarray:
        """Distance between the person's home and the workplace, in km."""
        if "distance_km" not in self._cache:
            self._cache["distance_km"] = haversine_km(self.c("lat"), self.c("lon"), self.w("lat"), self.w("lon"))
        return self._cache["distance_km"]

    def column_of(self, group: str, name: str) -> int:
        """The position of vocabulary entry `name` within a level group's matrix."""
        names = getattr(self.vocabulary, {**CANDIDATE_GROUPS, **WORKPLACE_GROUPS}[group])
        return list(names).index(name)
