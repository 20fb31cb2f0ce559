"""Interest and preference: does the person want this kind of work?"""

from __future__ import annotations

import numpy as np

from features.pairs import PairFrame
from matching.occupations import CODE_DIGITS, OccupationIndex, hierarchy_part, occupation_index

PEOPLE_PER_TABLE = 8192  # rows of one person x occupation table (8192 x 389 float32: about 13 MB)


def _unit_profiles(profiles: np.ndarray) -> np.ndarray:
    """Each row centred and scaled to length 1 (all-equal rows become zeros)."""
    centred = profiles - profiles.mean(axis=1, keepdims=True)
    norm = np.sqrt((centred * centred).sum(axis=1, keepdims=True))
    return np.divide(centred, norm, out=np.zeros_like(centred), where=norm > 1e-12)


def interest_similarity(p: PairFrame) -> np.ndarray:
    """Correlation of the person's RIASEC profile with the occupation's (-1 to 1)."""
    # normalise once per person and per workplace, not once per pair
    a = _unit_profiles(p.candidates["interest"])[p.c_idx]
    b = _unit_profiles(p.workplaces["interest"])[p.w_idx]
    return np.asarray((a * b).sum(axis=1))


def interest_preferred_occupation(p: PairFrame) -> np.ndarray:
    """How alike the workplace's occupation is the nearest of the person's wished occupations
    (`matching.occupations`): 1 for a wish itself, 0 without wishes.

    Vectorised: for the people of these pairs who have wishes, one row per person over the
    catalogue's occupations (the best similarity of any of their wishes), built from the
    catalogue's similarity matrix; each pair then reads one cell of it.
    """
    index = occupation_index()
    value = np.zeros(len(p), dtype=np.float64)
    rows, codes = p.candidates["preferred_rows"], p.candidates["preferred_codes"]
    if len(p) == 0 or len(rows) == 0:
        return value
    n_people = int(max(p.c_idx.max(), rows.max())) + 1  # reads no other field of the person
    present = np.zeros(n_people, dtype=bool)
    present[p.c_idx] = True
    keep = present[rows]
    rows, codes = rows[keep], codes[keep]
    if len(rows) == 0:
        return value
    people, wish_slot = np.unique(rows, return_inverse=True)
    slot = np.full(n_people, -1, dtype=np.int64)
    slot[people] = np.arange(len(people))
    pair_slot = slot[p.c_idx]
    n_occupations = len(index)
    place = index.positions(p.workplaces["occupation"])
    pair_place = np.where(place >= 0, place, n_occupations)[p.w_idx]  # last column: not in the catalogue
    wish_place = index.positions(codes)
    for start in range(0, len(people), PEOPLE_PER_TABLE):
        stop = min(start + PEOPLE_PER_TABLE, len(people))
        table = _wish_table(index, wish_slot, wish_place, start, stop)
        here = np.flatnonzero((pair_slot >= start) & (pair_slot < stop))
        value[here] = table[pair_slot[here] - start, pair_place[here]]
    outside = (pair_place == n_occupations) | np.isin(p.c_idx, rows[wish_place < 0])
    if outside.any():  # a code outside the catalogue: alike others through the hierarchy alone
        value[outside] = np.maximum(value[outside], _by_hierarchy(p, outside, rows, codes))
    return value


def _wish_table(
    index: OccupationIndex, wish_slot: np.ndarray, wish_place: np.ndarray, start: int, stop: int
) -> np.ndarray:
    """Rows `start:stop` of the person x occupation table: each person's best similarity to each
    occupation over their wishes in the catalogue (plus a zero column for other occupations)."""
    table = np.zeros((stop - start, len(index) + 1), dtype=np.float32)
    mine = (wish_slot >= start) & (wish_slot < stop) & (wish_place >= 0)
    np.maximum.at(table[:, :-1], wish_slot[mine] - start, index.matrix[wish_place[mine]].astype(np.float32))
    return table


def _by_hierarchy(p: PairFrame, which: np.ndarray, rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """For the pairs `which`: the hierarchy-only similarity to the nearest wish (1 the same code)."""
    person, occupation = p.c_idx[which], p.workplaces["occupation"][p.w_idx[which]]
    best = np.zeros(len(person), dtype=np.float64)
    known = codes >= 0
    for digits in range(1, CODE_DIGITS + 1):
        scale, width = 10 ** (CODE_DIGITS - digits), 10**digits
        hit = (occupation >= 0) & np.isin(
            person * width + occupation // scale, rows[known] * width + codes[known] // scale
        )
        level = 1.0 if digits == CODE_DIGITS else float(hierarchy_part(np.array(digits)))
        best = np.where(hit, level, best)
    return best
