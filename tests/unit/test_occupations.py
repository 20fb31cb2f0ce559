"""How alike two occupations are (`matching.occupations`), finding them by title or code, when a
suggestion is said to be like a wish, and the similarity to a person's wishes over many pairs at
once: vectorised, and equal to a slow per-pair reference."""

from __future__ import annotations

import numpy as np
import pytest

import matching.occupations as occupations
from features.pairs import PairFrame
from matching.explanation import SimilarToWish
from matching.occupations import (
    DISTINCT_CEILING,
    RELATED_THRESHOLD,
    OccupationIndex,
    hierarchy_part,
    occupation_index,
    shared_digits,
    wish_similarity,
)
from matching.records import load_catalogue

COOKS, KITCHEN_HELPERS, CHEFS, SOFTWARE_DEVELOPERS = "5120", "9412", "3434", "2512"


@pytest.fixture(scope="module")
def index() -> OccupationIndex:
    return occupation_index()


def test_the_similarity_is_symmetric_one_for_the_same_code_and_below_one_otherwise(index: OccupationIndex) -> None:
    matrix = index.matrix
    assert matrix.shape == (388, 388) and len(index) == len(load_catalogue().codes)
    np.testing.assert_array_equal(matrix, matrix.T)
    np.testing.assert_array_equal(np.diag(matrix), 1.0)
    others = matrix[~np.eye(len(matrix), dtype=bool)]
    assert others.min() >= 0.0 and others.max() <= DISTINCT_CEILING < 1.0
    assert index.similarity(COOKS, COOKS) == 1.0
    assert index.similarity(COOKS, KITCHEN_HELPERS) == index.similarity(KITCHEN_HELPERS, COOKS)


def test_a_kitchen_helper_is_nearer_a_cook_than_a_software_developer_is(index: OccupationIndex) -> None:
    # different major groups (5 and 9): only the work itself makes them alike
    helper, developer = index.similarity(COOKS, KITCHEN_HELPERS), index.similarity(COOKS, SOFTWARE_DEVELOPERS)
    assert helper > developer and helper > 0.2
    assert index.similarity(COOKS, CHEFS) > developer
    assert index.similarity(SOFTWARE_DEVELOPERS, "2513") > index.similarity(SOFTWARE_DEVELOPERS, KITCHEN_HELPERS)


def test_the_hierarchy_counts_shared_leading_digits() -> None:
    np.testing.assert_array_equal(
        shared_digits(np.array([5120, 5120, 5120, 5120, 5120, -1]), np.array([5120, 5129, 5131, 5200, 9412, -1])),
        [4, 3, 2, 1, 0, 0],
    )
    # a code outside the catalogue has no profile: alike others through the hierarchy alone
    index = occupation_index()
    assert index.get("5129") is None
    assert index.similarity("5129", COOKS) == pytest.approx(float(hierarchy_part(np.array(3))))
    assert index.similarity("5129", "5129") == 1.0 and index.similarity("5129", "2512") == 0.0


def test_related_lists_the_nearest_other_occupations_most_alike_first(index: OccupationIndex) -> None:
    related = index.related(COOKS, 8)
    assert len(related) == 8 and COOKS not in [r.code for r in related]
    values = [r.similarity for r in related]
    assert values == sorted(values, reverse=True) and all(0.0 <= v <= 1.0 for v in values)
    row = index.matrix[index.positions(np.array([int(COOKS)]))[0]]
    assert values[0] == pytest.approx(np.sort(row)[-2], abs=1e-4)  # the best after the code itself
    assert len(index.related(COOKS, 1000)) == len(index) - 1
    assert occupations.related(COOKS, 8) == related
    with pytest.raises(KeyError):
        index.related("0000", 3)


def test_search_by_norwegian_or_english_title_in_any_order_or_by_code(index: OccupationIndex) -> None:
    assert [o.code for o in index.search("kokker", 10)] == [COOKS, CHEFS]  # "Kokker" starts with it
    assert COOKS in [o.code for o in index.search("KOKK", 10)] and CHEFS in [o.code for o in index.search("kokk", 10)]
    assert [o.code for o in index.search("helpers kitchen", 10)] == [KITCHEN_HELPERS]
    assert [o.code for o in index.search("kjøkkenassistenter", 10)] == [KITCHEN_HELPERS]
    by_code = index.search("512", 10)
    assert by_code[0].code == COOKS and all(o.code.startswith("512") for o in by_code)
    assert [o.code for o in index.search("51", 3)] == ["5111", "5112", "5113"]
    assert len(index.search("a", 5)) == 5 and index.search("   ", 5) == [] and index.search("zzqx", 5) == []


def test_a_suggestion_is_like_a_wish_only_above_the_threshold_and_when_not_itself_a_wish(
    index: OccupationIndex,
) -> None:
    catalogue = load_catalogue()
    near = index.related(COOKS, 1)[0]
    assert near.similarity >= RELATED_THRESHOLD
    similar = SimilarToWish.of(near.code, [SOFTWARE_DEVELOPERS, COOKS], catalogue)
    assert similar is not None and similar.code == COOKS and similar.similarity == near.similarity
    assert similar.sentence == "like the wished occupation: cooks"
    assert SimilarToWish.of(near.code, [near.code, COOKS], catalogue) is None  # itself a wish
    assert SimilarToWish.of(SOFTWARE_DEVELOPERS, [COOKS], catalogue) is None  # not alike enough
    assert SimilarToWish.of(KITCHEN_HELPERS, [COOKS], catalogue) is None  # alike, but below the threshold
    assert SimilarToWish.of(near.code, [], catalogue) is None and SimilarToWish.of(near.code, None, catalogue) is None


def _pairs(seed: int, n_people: int = 60, n_workplaces: int = 80, n_pairs: int = 3000) -> PairFrame:
    """Random people with 0-3 wishes (some outside the catalogue, some malformed) and workplaces
    (some with an occupation outside the catalogue), and random pairs of them."""
    rng = np.random.default_rng(seed)
    codes = np.array(sorted(int(c) for c in load_catalogue().codes))
    pool = np.r_[codes, [5129, 9419, 1000]]  # the last three are not in the catalogue
    wishes = rng.integers(0, 4, size=n_people)
    rows = np.repeat(np.arange(n_people), wishes)
    wished = rng.choice(pool, size=len(rows))
    wished[rng.random(len(rows)) < 0.05] = -1  # a malformed code
    occupations = rng.choice(pool, size=n_workplaces)
    return PairFrame(
        candidates={"lat": np.zeros(n_people), "preferred_rows": rows, "preferred_codes": wished},
        workplaces={"occupation": occupations},
        c_idx=rng.integers(0, n_people, size=n_pairs),
        w_idx=rng.integers(0, n_workplaces, size=n_pairs),
        vocabulary=load_catalogue().vocabulary,
    )


def _slow(pairs: PairFrame) -> np.ndarray:
    """Pair by pair: the best similarity of any of the person's wishes."""
    index = occupation_index()
    rows, codes = pairs.candidates["preferred_rows"], pairs.candidates["preferred_codes"]
    out = []
    for c, w in zip(pairs.c_idx, pairs.w_idx, strict=True):
        occupation = int(pairs.workplaces["occupation"][w])
        best = 0.0
        for wish in codes[rows == c]:
            if wish >= 0 and occupation >= 0:
                best = max(best, index.similarity(f"{int(wish):04d}", f"{occupation:04d}"))
        out.append(best)
    return np.array(out)


@pytest.mark.parametrize("table_rows", [occupations.PEOPLE_PER_TABLE, 7])
def test_the_similarity_to_the_wishes_over_many_pairs_equals_the_slow_reference(
    table_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(occupations, "PEOPLE_PER_TABLE", table_rows)  # 7: many tables, one per few people
    for seed in (1, 2):
        pairs = _pairs(seed)
        fast = wish_similarity(pairs)
        np.testing.assert_allclose(fast, _slow(pairs), atol=1e-6)
        assert fast.min() >= 0.0 and fast.max() == 1.0 and len(np.unique(fast)) > 20  # graded, not 0/0.5/1


def test_the_similarity_to_the_wishes_is_one_for_a_wish_zero_without_and_graded_between() -> None:
    position = {code: i for i, code in enumerate((COOKS, KITCHEN_HELPERS, SOFTWARE_DEVELOPERS))}
    pairs = PairFrame(
        candidates={"lat": np.zeros(2), "preferred_rows": np.array([0]), "preferred_codes": np.array([int(COOKS)])},
        workplaces={"occupation": np.array([int(c) for c in position])},
        c_idx=np.array([0, 0, 0, 1, 1]),
        w_idx=np.array([0, 1, 2, 0, 1]),
        vocabulary=load_catalogue().vocabulary,
    )
    cook, helper, developer, nobody, nobody_helper = wish_similarity(pairs)
    assert cook == 1.0 and nobody == 0.0 and nobody_helper == 0.0
    assert 0.0 <= developer < helper < 1.0
    empty = PairFrame(pairs.candidates, pairs.workplaces, np.zeros(0, int), np.zeros(0, int), pairs.vocabulary)
    assert wish_similarity(empty).shape == (0,)
