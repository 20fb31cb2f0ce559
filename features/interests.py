"""Interest and preference: does the person want this kind of work?"""

from __future__ import annotations

import numpy as np

from features.pairs import PairFrame


def _unit_profiles(profiles: np.ndarray) -> np.ndarray:
    """Each row centred and scaled to length 1 (all-equal rows become zeros)."""
    centred = profiles - profiles.mean(axis=1, keepdims=True)
    norm = np.sqrt((centred * centred).sum(axis=1, keepdims=True))
    return np.divide(centred, norm, out=np.zeros_like(centred), where=norm > 1e-12)


def interest_similarity(p: PairFrame) -> np.ndarray:
    """Correlation of the person's RIASEC profile with the occupation's (-1 to 1)."""
    # normalise once per person and per workplace, not once per pair
    a = p.per_row("c", "interest", _unit_profiles)
    b = p.per_row("w", "interest", _unit_profiles)
    return np.asarray((a * b).sum(axis=1))


def _four_digits(codes: np.ndarray) -> bool:
    return not len(codes) or (int(codes.min()) >= 0 and int(codes.max()) < 10_000)


def _minor_groups(codes: np.ndarray) -> np.ndarray:
    """The minor group (first three digits) of each four-digit occupation code."""
    return codes // 10


def interest_preferred_occupation(p: PairFrame) -> np.ndarray:
    """1 for a preferred occupation, 0.5 for one in the same minor group (3 digits), else 0."""
    rows, codes = p.candidates["preferred_rows"], p.candidates["preferred_codes"]
    occupation = p.w("occupation")
    one = p.one_candidate()
    if one is not None and len(p) and _four_digits(codes) and _four_digits(occupation):
        # one person: their own codes alone (with four-digit codes the keys below compare the same)
        mine = codes[rows == one]
        exact_one = np.isin(occupation, mine)
        minor_one = np.isin(p.per_row("w", "occupation", _minor_groups), mine // 10)
        return np.where(exact_one, 1.0, np.where(minor_one, 0.5, 0.0))
    if len(p) and len(rows):  # the keys of persons further than `reach` rows away never match: skip them
        reach = 2 + (int(np.abs(codes).max()) + int(np.abs(occupation).max())) // 1_000
        near = (rows >= p.c_idx.min() - reach) & (rows <= p.c_idx.max() + reach)
        rows, codes = rows[near], codes[near]
    exact_keys = rows * 10_000 + codes
    minor_keys = rows * 1_000 + codes // 10
    exact = np.isin(p.c_idx * 10_000 + occupation, exact_keys)
    minor = np.isin(p.c_idx * 1_000 + occupation // 10, minor_keys)
    return np.where(exact, 1.0, np.where(minor, 0.5, 0.0))
