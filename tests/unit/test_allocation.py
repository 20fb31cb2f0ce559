"""Capacity-aware allocation: optimal, within capacity, and the plain top-k when capacity is ample."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from matching.allocation import allocate, capacities, summarise
from matching.shortlist import top_k_per_candidate


def instance(seed: int, n_c: int = 6, n_w: int = 5, density: float = 0.7):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    c, w = np.meshgrid(np.arange(n_c), np.arange(n_w), indexing="ij")
    keep = rng.random(c.size) < density
    return c.ravel()[keep], w.ravel()[keep], np.round(rng.random(keep.sum()), 6), rng.integers(0, 3, n_w)


def best_by_milp(c, w, value, top_k, capacity) -> float:  # type: ignore[no-untyped-def]
    rows = [(c == i).astype(float) for i in np.unique(c)] + [(w == j).astype(float) for j in np.unique(w)]
    upper = [top_k] * len(np.unique(c)) + [capacity[j] for j in np.unique(w)]
    result = milp(
        -value,
        constraints=LinearConstraint(np.array(rows), -np.inf, np.array(upper, dtype=float)),
        integrality=np.ones(len(value)),
        bounds=Bounds(0, 1),
    )
    return float(-result.fun)


@pytest.mark.parametrize("seed", range(8))
def test_allocation_is_optimal_and_within_capacity(seed: int) -> None:
    c, w, value, capacity = instance(seed)
    result = allocate(c, w, value, top_k=2, capacity=capacity)
    chosen = result.chosen
    assert np.bincount(c[chosen], minlength=6).max() <= 2
    assert (np.bincount(w[chosen], minlength=5) <= capacity).all()
    assert result.objective == pytest.approx(value[chosen].sum())
    assert result.objective == pytest.approx(best_by_milp(c, w, value, 2, capacity), abs=1e-5)


def test_ample_capacity_gives_each_candidates_plain_top_k() -> None:
    c, w, value, _ = instance(3, n_c=20, n_w=8, density=0.8)
    result = allocate(c, w, value, top_k=3, capacity=np.full(8, 1000))
    plain, _ = top_k_per_candidate(c, value, 3)
    assert set(np.flatnonzero(result.chosen)) == set(plain)


def test_a_congested_workplace_is_shared_out() -> None:
    # every candidate's best workplace is 0, which has room for two suggestions
    c = np.repeat(np.arange(5), 2)
    w = np.tile([0, 1], 5)
    value = np.tile([0.9, 0.5], 5)
    result = allocate(c, w, value, top_k=1, capacity=np.array([2, 10]))
    assert np.bincount(w[result.chosen], minlength=2).tolist() == [2, 3]
    assert result.objective == pytest.approx(2 * 0.9 + 3 * 0.5)


def test_the_floor_shares_suggestions_before_maximising() -> None:
    # candidates 0-2 have high values everywhere, 3-5 low; two workplaces with room for 4 in all
    c = np.repeat(np.arange(6), 2)
    w = np.tile([0, 1], 6)
    value = np.where(c < 3, 0.9, 0.1)
    plain = allocate(c, w, value, top_k=2, capacity=np.array([2, 2]))
    assert set(c[plain.chosen]) <= {0, 1, 2} and len(set(c[plain.chosen])) == 2, "two people get both places"
    shared = allocate(c, w, value, top_k=2, capacity=np.array([2, 2]), floor=1)
    counts = np.bincount(c[shared.chosen], minlength=6)
    assert counts.sum() == 4 and (counts <= 1).all(), "4 places, one each for 4 people"
    assert counts[:3].tolist() == [1, 1, 1], "then the most expected success"
    assert shared.objective == pytest.approx(3 * 0.9 + 0.1)


def test_capacities_follow_the_slots() -> None:
    assert capacities(np.array([0, 1, 2, 5]), 1.5).tolist() == [0, 1, 3, 7]
    assert capacities(np.array([1]), 0.4).tolist() == [1]  # a free slot can always be suggested once


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        allocate(np.array([0]), np.array([0]), np.array([1.5]), 1, np.array([1]))
    with pytest.raises(ValueError, match="same length"):
        allocate(np.array([0, 1]), np.array([0]), np.array([0.5]), 1, np.array([1]))


def test_summary_counts_what_slots_can_take_up() -> None:
    c = np.array([0, 1, 2, 2])
    w = np.array([0, 0, 0, 1])
    value = np.array([0.5, 0.5, 0.5, 0.2])
    chosen = np.array([True, True, True, False])
    figures = summarise(c, w, value, chosen, top_k=1, slots=np.array([1, 1, 1]), candidates=4, open_workplaces=3)
    assert figures["expected_success"] == pytest.approx(1.5)
    assert figures["expected_hires_within_slots"] == pytest.approx(1.0)  # one slot, three suggestions
    assert figures["full_shortlists"] == pytest.approx(3 / 4)
    assert figures["without_suggestions"] == pytest.approx(1 / 4)
    assert figures["workplaces_suggested"] == pytest.approx(1 / 3)
    assert figures["max_per_slot"] == pytest.approx(3.0)
