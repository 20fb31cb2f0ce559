"""Occupations of the catalogue: how alike two are, and finding them by title or code.

Similarity
----------
Two occupations are alike when their work is alike (what the catalogue's O*NET-derived levels
say) and when the ISCO classification puts them near each other. For occupations `a` and `b`:

    similarity(a, a) = 1
    similarity(a, b) = min(DISTINCT_CEILING, PROFILE_WEIGHT * profile(a, b) + HIERARCHY_WEIGHT * shared(a, b) / 3)

- `profile(a, b)` is the mean over the three level blocks (`task_*`, `demand_*`, `interest_*`) of
  the Pearson correlation between the two occupations' levels, each level first standardised
  over the catalogue (z-scores), clipped below at 0. Standardising makes a level count by how
  it sets occupations apart rather than by its raw spread, and correlating compares the shape of
  the profiles (which tasks and demands stand out), so "cooks" and "kitchen helpers" (both
  handling objects and using hands, little analysis) come out alike, while cooks and software
  developers come out at 0. Each block has the same weight: eight tasks do not outvote six
  interests.
- `shared(a, b)` is the number of leading digits the two 4-digit ISCO codes share (0-3 for
  different codes): the classification's own judgement of how near two occupations are, which
  the 21 levels alone cannot make (they do not know what the work is *about*; a cook and a bus
  driver may have similar task and demand levels).
- The profile has the larger weight (0.7) because it carries the work itself and reaches across
  groups (cook and kitchen helper are in different major groups); the hierarchy (0.3) lifts
  neighbours in the classification. Different occupations stay below 1 (`DISTINCT_CEILING`), so
  1 means "the same occupation" and nothing else.

An occupation that is not in the catalogue has no levels: it is alike others through the
hierarchy alone (`similarity_of_numbers`).

Not a model feature
-------------------
The ranker's `interest_preferred_occupation` stays 1 for a wish, 0.5 for its minor group (3
digits), else 0. Graded by this similarity instead (`wish_similarity`, vectorised over pairs), or
added beside it, it did not raise NDCG@10 over all eligible held-out pairs on the generator's
standard or alternative truth (`bench/bench_related.py`): those truths' preference term is exactly
the 1 / 0.5 / 0, so they cannot reward a similarity across groups, and in place of it the graded
value lost a little (about 0.0015 on the standard truth over eight seeds). The similarity serves
the related occupations, the search and the sentence that a suggestion is like a wish; whether it
should also rank is for real outcomes to show.

The matrix is computed once per catalogue (388 x 388, vectorised) and cached with it.
`RELATED_THRESHOLD` is the similarity from which a suggestion is said to be like a wish.

Search
------
`search` finds occupations by their Norwegian or English title (case-insensitive, every word of
the query somewhere in a title, in any order) or by the start of their code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from features.pairs import PairFrame
from matching.records import Catalogue, load_catalogue

PROFILE_BLOCKS = ("task", "demand", "interest")
PROFILE_WEIGHT = 0.7
HIERARCHY_WEIGHT = 0.3
DISTINCT_CEILING = 0.99
CODE_DIGITS = 4
PEOPLE_PER_TABLE = 8192  # rows of one person x occupation table (8192 x 389 float32: about 13 MB)
RELATED_THRESHOLD = 0.5
"""A suggestion whose occupation is at least this alike a wish (and is not itself a wish) is said to
be like that wish. At 0.5 an occupation needs a fairly close profile and a shared group, or a
close profile across groups (about 6% of the pairs of different occupations in the catalogue reach
it; for cooks: bartenders, waiters, beauticians, travel attendants, food service counter
attendants; kitchen helpers, at 0.37, are nearer cooks than most occupations but not called alike)."""


@dataclass(frozen=True)
class Occupation:
    """One occupation of the catalogue."""

    code: str
    title_no: str
    title_en: str

    def title(self, language: str) -> str:
        """The title in `language` ("no" or "en")."""
        return self.title_en if language == "en" else self.title_no


@dataclass(frozen=True)
class Related:
    """An occupation and how alike it is another one (0-1)."""

    code: str
    similarity: float


def shared_digits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many leading digits of the 4-digit codes `a` and `b` agree (0-4), elementwise with
    broadcasting; a negative code (unknown or malformed) shares none."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    shared = np.zeros(np.broadcast_shapes(a.shape, b.shape), dtype=np.int64)
    alive = (a >= 0) & (b >= 0)
    for digits in range(1, CODE_DIGITS + 1):
        scale = 10 ** (CODE_DIGITS - digits)
        alive = alive & (a // scale == b // scale)
        shared += alive
    return shared


def hierarchy_part(shared: np.ndarray) -> np.ndarray:
    """The hierarchy's share of the similarity of two different codes sharing `shared` digits."""
    return np.asarray(HIERARCHY_WEIGHT * np.minimum(shared, CODE_DIGITS - 1) / (CODE_DIGITS - 1), dtype=np.float64)


def similarity_of_numbers(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The similarity of codes without levels (outside the catalogue): 1 for the same code, else
    the hierarchy's part alone."""
    shared = shared_digits(a, b)
    return np.where(shared >= CODE_DIGITS, 1.0, hierarchy_part(shared))


def _standardised_unit_rows(levels: np.ndarray) -> np.ndarray:
    """Levels as z-scores over the occupations, then each row centred and scaled to length 1."""
    spread = levels.std(axis=0)
    z = np.divide(levels - levels.mean(axis=0), spread, out=np.zeros_like(levels), where=spread > 1e-12)
    centred = z - z.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(centred, axis=1, keepdims=True)
    return np.divide(centred, norm, out=np.zeros_like(centred), where=norm > 1e-12)


def profile_similarity(blocks: Sequence[np.ndarray]) -> np.ndarray:
    """The mean over level blocks (each occupations x levels) of the correlation of the
    standardised levels, clipped to [0, 1]: an occupations x occupations matrix."""
    total = np.zeros((len(blocks[0]), len(blocks[0])), dtype=np.float64)
    for levels in blocks:
        unit = _standardised_unit_rows(np.asarray(levels, dtype=np.float64))
        total += unit @ unit.T
    return np.clip(total / len(blocks), 0.0, 1.0)


class OccupationIndex:
    """The catalogue's occupations: their similarity matrix (`matrix`), their titles, search."""

    def __init__(self, catalogue: Catalogue) -> None:
        frame = catalogue.occupations.sort_values("occupation_code", kind="stable")
        self.codes: tuple[str, ...] = tuple(frame["occupation_code"].astype(str))
        self.numbers = np.array([int(c) if c.isdigit() else -1 for c in self.codes], dtype=np.int64)
        self.occupations = tuple(
            Occupation(code, str(no), str(en))
            for code, no, en in zip(self.codes, frame["title_no"], frame["title_en"], strict=True)
        )
        self._position = {code: i for i, code in enumerate(self.codes)}
        # code as an integer -> its row (-1 for none): one gather per code, not a search
        self._row_of_number = np.full(10**CODE_DIGITS, -1, dtype=np.int64)
        known = (self.numbers >= 0) & (self.numbers < 10**CODE_DIGITS)
        self._row_of_number[self.numbers[known]] = np.flatnonzero(known)
        voc = catalogue.vocabulary
        names = {"task": voc.activities, "demand": voc.contexts, "interest": voc.riasec}
        blocks = [frame[[f"{b}_{n}" for n in names[b]]].to_numpy(dtype=np.float64) for b in PROFILE_BLOCKS]
        shared = shared_digits(self.numbers[:, None], self.numbers[None, :])
        blend = PROFILE_WEIGHT * profile_similarity(blocks) + hierarchy_part(shared)
        matrix = np.minimum(blend, DISTINCT_CEILING)
        np.fill_diagonal(matrix, 1.0)
        matrix.setflags(write=False)
        self.matrix: np.ndarray = matrix
        self._search_text = tuple(f"{o.title_no}\n{o.title_en}".casefold() for o in self.occupations)

    def __len__(self) -> int:
        return len(self.codes)

    def get(self, code: str) -> Occupation | None:
        """The occupation with `code`, or None."""
        position = self._position.get(code)
        return None if position is None else self.occupations[position]

    def positions(self, numbers: np.ndarray) -> np.ndarray:
        """The row of each code (as an integer) in `matrix`, -1 for codes not in the catalogue."""
        numbers = np.asarray(numbers, dtype=np.int64)
        inside = (numbers >= 0) & (numbers < len(self._row_of_number))
        return np.where(inside, self._row_of_number[np.where(inside, numbers, 0)], -1)

    def similarity(self, a: str, b: str) -> float:
        """How alike occupations `a` and `b` are (0-1); codes outside the catalogue by hierarchy alone."""
        pa, pb = self._position.get(a), self._position.get(b)
        if pa is not None and pb is not None:
            return float(self.matrix[pa, pb])
        numbers = [int(c) if c.isdigit() and len(c) == CODE_DIGITS else -1 for c in (a, b)]
        if a == b:
            return 1.0
        return float(similarity_of_numbers(np.array(numbers[0]), np.array(numbers[1])))

    def related(self, code: str, n: int = 10) -> list[Related]:
        """The `n` occupations most alike `code` (not `code` itself), most alike first; ties by code.

        Raises:
            KeyError: when `code` is not in the catalogue.
        """
        row = self.matrix[self._position[code]]
        order = np.lexsort((np.arange(len(row)), -row))
        picked = [int(j) for j in order if self.codes[int(j)] != code][: max(n, 0)]
        return [Related(self.codes[j], round(float(row[j]), 4)) for j in picked]

    def best_wish(self, code: str, wishes: Sequence[str]) -> Related | None:
        """The wish most alike occupation `code`, with that similarity (None without wishes)."""
        scored = [(self.similarity(code, wish), wish) for wish in dict.fromkeys(wishes)]
        if not scored:
            return None
        best = max(scored, key=lambda s: s[0])
        return Related(best[1], round(best[0], 4))

    def search(self, query: str, limit: int, language: str = "no") -> list[Occupation]:
        """Occupations whose Norwegian or English title holds every word of `query` (any order,
        case-insensitive), or whose code starts with a word; at most `limit`. Codes starting with
        the first word come first (by code), then titles (in `language`) starting with it, then
        the rest (by title)."""
        words = query.casefold().split()
        if not words or limit <= 0:
            return []
        found = [
            i
            for i, text in enumerate(self._search_text)
            if all(word in text or self.codes[i].startswith(word) for word in words)
        ]

        def order(i: int) -> tuple[int, str]:
            if self.codes[i].startswith(words[0]):
                return (0, self.codes[i])
            title = self.occupations[i].title(language)
            return (1 if title.casefold().startswith(words[0]) else 2, title)

        return [self.occupations[i] for i in sorted(found, key=order)[:limit]]


_INDEXES: dict[int, tuple[Catalogue, OccupationIndex]] = {}


def occupation_index(catalogue: Catalogue | None = None) -> OccupationIndex:
    """The index of `catalogue` (default: the project's own), built once per catalogue object and
    kept as long as the process (catalogues compare by vocabulary alone, so the key is the object)."""
    catalogue = catalogue or load_catalogue()
    kept = _INDEXES.get(id(catalogue))
    if kept is None or kept[0] is not catalogue:
        kept = (catalogue, OccupationIndex(catalogue))
        _INDEXES[id(catalogue)] = kept
    return kept[1]


def related(code: str, n: int = 10, catalogue: Catalogue | None = None) -> list[Related]:
    """The `n` occupations of `catalogue` (default: the project's) most alike `code`, most alike
    first, each with its similarity (0-1). Raises `KeyError` for a code not in the catalogue."""
    return occupation_index(catalogue).related(code, n)


def wish_similarity(p: PairFrame, matrix: np.ndarray | None = None) -> np.ndarray:
    """For each pair, how alike the workplace's occupation is the nearest of the person's wished
    occupations (the similarity above, or `matrix`: occupations x occupations in the index's
    order): 1 for a wish itself, 0 without wishes. Codes outside the catalogue count through the
    hierarchy alone.

    Not a registered feature (see "Not a model feature" above); `bench/bench_related.py` measures
    it in place of `interest_preferred_occupation` and beside it.

    Vectorised: for the people of these pairs who have wishes, one row per person over the
    catalogue's occupations (the best similarity of any of their wishes), built from the
    similarity matrix; each pair then reads one cell of it.
    """
    index = occupation_index()
    weights = index.matrix if matrix is None else matrix
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
    if len(people) <= PEOPLE_PER_TABLE:  # one table; people without wishes read its last row (zeros)
        table = _wish_table(weights, wish_slot, wish_place, 0, len(people))
        value[:] = table[pair_slot, pair_place]
    else:
        for start in range(0, len(people), PEOPLE_PER_TABLE):
            stop = min(start + PEOPLE_PER_TABLE, len(people))
            table = _wish_table(weights, wish_slot, wish_place, start, stop)
            here = np.flatnonzero((pair_slot >= start) & (pair_slot < stop))
            value[here] = table[pair_slot[here] - start, pair_place[here]]
    outside = pair_place == n_occupations
    unknown_wish = rows[wish_place < 0]
    if len(unknown_wish):
        outside |= np.isin(p.c_idx, unknown_wish)
    if outside.any():  # a code outside the catalogue: alike others through the hierarchy alone
        value[outside] = np.maximum(value[outside], _by_hierarchy(p, outside, rows, codes))
    return value


def _wish_table(
    weights: np.ndarray, wish_slot: np.ndarray, wish_place: np.ndarray, start: int, stop: int
) -> np.ndarray:
    """Rows `start:stop` of the person x occupation table: each person's best value of `weights`
    for each occupation over their wishes in the catalogue, plus a zero column (occupations
    outside the catalogue) and a zero row (people without wishes, slot -1)."""
    table = np.zeros((stop - start + 1, len(weights) + 1), dtype=np.float32)
    mine = (wish_slot >= start) & (wish_slot < stop) & (wish_place >= 0)
    np.maximum.at(table[:-1, :-1], wish_slot[mine] - start, weights[wish_place[mine]].astype(np.float32))
    return table


def _by_hierarchy(p: PairFrame, which: np.ndarray, rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """For the pairs `which`: the similarity to the nearest wish by the hierarchy alone (1 the same
    code)."""
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
