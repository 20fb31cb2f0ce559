"""Why a shortlist is short: how many workplaces each rule of candidate generation removed for one
person, in the order the rules apply (`matching.candidates`), and what the adviser could change.

The rules: a workplace that is not active; an active one with no free slot; an open one beyond the
person's commute; and (with the setting on) one within reach that lacks a support the person
requires and only a workplace can give. The counts add up, with the eligible workplaces, to every
workplace served. The wider reach counts how many more would be eligible were the commute longer,
the one change an adviser can discuss with the person.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from features.pairs import haversine_km
from matching.candidates import WorkplacePool, meets_required_supports

RULES = ("not_active", "no_free_slot", "beyond_commute", "required_support")
WIDER_KM = 10.0  # how much further the wider reach looks
REASONS = {
    "not_active": "not active",
    "no_free_slot": "no free trainee slot",
    "beyond_commute": "beyond the person's commute",
    "required_support": "lacking a support the person requires that only the workplace can give",
}


def _reach(pool: WorkplacePool, arrays: dict[str, np.ndarray], row: int) -> np.ndarray:
    return haversine_km(
        np.full(len(pool), arrays["lat"][row]),
        np.full(len(pool), arrays["lon"][row]),
        pool.arrays["lat"],
        pool.arrays["lon"],
    )


def _supported(pool: WorkplacePool, arrays: dict[str, np.ndarray], row: int, exclude: bool) -> np.ndarray:
    if not exclude:
        return np.ones(len(pool), dtype=bool)
    every = np.arange(len(pool))
    return meets_required_supports(
        arrays["needs"], pool.arrays["offers"], np.full(len(pool), row), every, pool.workplace_only
    )


def why_short(
    pool: WorkplacePool, arrays: dict[str, np.ndarray], row: int, exclude: bool, extra_km: float = WIDER_KM
) -> tuple[dict[str, int], dict[str, Any]]:
    """Both answers for the person at position `row` of `arrays`, from one pass over the pool:
    how many workplaces each rule removed (`filtered_counts`), and how many more would be
    eligible within `extra_km` more of commute (`{"within_km": ..., "more_workplaces": ...}`, the
    API's `wider_reach`)."""
    active = pool.frame["active"].to_numpy(dtype=bool)
    is_open = pool.is_open
    commute = float(arrays["max_commute_km"][row])
    distance = _reach(pool, arrays, row)
    within = distance <= commute
    supported = _supported(pool, arrays, row, exclude)
    filtered = {
        "not_active": int((~active).sum()),
        "no_free_slot": int((active & ~is_open).sum()),
        "beyond_commute": int((is_open & ~within).sum()),
        "required_support": int((is_open & within & ~supported).sum()),
    }
    more = int((is_open & supported & (distance > commute) & (distance <= commute + extra_km)).sum())
    return filtered, {"within_km": round(commute + extra_km, 1), "more_workplaces": more}


def filtered_counts(pool: WorkplacePool, arrays: dict[str, np.ndarray], row: int, exclude: bool) -> dict[str, int]:
    """How many workplaces each rule removed for the person at position `row` of `arrays`."""
    return why_short(pool, arrays, row, exclude)[0]


def empty_reason(filtered: dict[str, int]) -> str:
    """Why no workplace is left, in words: the rules that removed any, most first."""
    named = sorted(((n, rule) for rule, n in filtered.items() if n), reverse=True)
    if not named:
        return "no workplace is registered"
    parts = [f"{n} {REASONS[rule]}" for n, rule in named]
    return "no workplace is eligible: " + "; ".join(parts)
