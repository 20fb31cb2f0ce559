"""Each feature on hand-computed pairs, over a tiny vocabulary so the arithmetic is checkable."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from features import FEATURES, compute_features, feature_names
from features.pairs import PairFrame, candidate_arrays, haversine_km, workplace_arrays

VOC = SimpleNamespace(
    riasec=("r", "i", "a"),
    activities=("lift", "talk"),
    contexts=("stress", "noise"),
    supports=("mentor", "quiet"),
)


def candidates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lat": [59.91, 59.91],
            "lon": [10.75, 10.75],
            "max_commute_km": [10.0, 20.0],
            "desired_hours": [20.0, 30.0],
            "preferred_occupations": [["5223"], []],
            "interest_r": [1.0, 0.0],
            "interest_i": [0.0, 1.0],
            "interest_a": [0.5, 0.5],
            "skill_lift": [0.8, 0.2],
            "skill_talk": [0.2, 0.9],
            "tolerance_stress": [0.3, 0.9],
            "tolerance_noise": [0.5, 0.9],
            "needs_mentor": [2, 0],
            "needs_quiet": [1, 0],
        }
    )


def workplaces() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lat": [59.91, 59.96],
            "lon": [10.75, 10.75],
            "hours_per_week": [20.0, 10.0],
            "slots": [2, 15],
            "past_placements": [5, 0],
            "past_hires": [5, 0],
            "occupation_code": ["5223", "5221"],
            "interest_r": [1.0, 0.0],
            "interest_i": [0.0, 1.0],
            "interest_a": [0.5, 0.5],
            "task_lift": [0.6, 0.0],
            "task_talk": [0.8, 0.4],
            "demand_stress": [0.7, 0.1],
            "demand_noise": [0.4, 0.2],
            "offers_mentor": [False, True],
            "offers_quiet": [True, False],
        }
    )


@pytest.fixture
def pairs() -> PairFrame:
    # pair 0: candidate 0 x workplace 0; pair 1: candidate 0 x workplace 1; pair 2: candidate 1 x workplace 1
    return PairFrame(
        candidate_arrays(candidates(), VOC),
        workplace_arrays(workplaces(), VOC),
        np.array([0, 0, 1]),
        np.array([0, 1, 1]),
        VOC,
    )


def value(pairs: PairFrame, name: str) -> np.ndarray:
    return next(f for f in FEATURES if f.name == name).compute(pairs)


def test_task_coverage_is_share_of_required_levels_mastered(pairs):
    # pair 0: min(.8,.6)+min(.2,.8) = .8 of 1.4; pair 1: min(.8,0)+min(.2,.4) = .2 of .4
    np.testing.assert_allclose(value(pairs, "task_coverage"), [0.8 / 1.4, 0.5, 0.4 / 0.4])


def test_task_largest_gap_counts_only_required_tasks(pairs):
    # pair 0: talk required (.8) skill .2 -> .6; lift .6 vs .8 -> 0. pair 1: nothing >= .5 -> 0
    np.testing.assert_allclose(value(pairs, "task_largest_gap"), [0.6, 0.0, 0.0])


def test_interest_similarity_is_profile_correlation(pairs):
    np.testing.assert_allclose(value(pairs, "interest_similarity"), [1.0, -1.0, 1.0], atol=1e-12)


def test_preferred_occupation_exact_minor_group_and_none(pairs):
    # candidate 0 prefers 5223: workplace 0 is 5223 (exact), workplace 1 is 5221 (same 522 group)
    np.testing.assert_allclose(value(pairs, "interest_preferred_occupation"), [1.0, 0.5, 0.0])


def test_support_needs_covered_weights_required_double(pairs):
    # candidate 0 needs mentor (2) and quiet (1): workplace 0 offers quiet -> 1/3; workplace 1 mentor -> 2/3
    np.testing.assert_allclose(value(pairs, "support_needs_covered"), [1 / 3, 2 / 3, 1.0])


def test_required_needs_unmet_counts_level_two_only(pairs):
    np.testing.assert_allclose(value(pairs, "support_required_unmet"), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(value(pairs, "support_mentor_available"), [0.0, 1.0, 1.0])


def test_demand_over_tolerance_sums_excess(pairs):
    # pair 0: (.7-.3) + 0 = .4; pair 1: 0; pair 2: 0
    np.testing.assert_allclose(value(pairs, "demand_over_tolerance"), [0.4, 0.0, 0.0], atol=1e-12)


def test_commute_ratio_against_the_persons_maximum(pairs):
    d = haversine_km(np.array([59.91]), np.array([10.75]), np.array([59.96]), np.array([10.75]))[0]
    assert 5.5 < d < 5.6  # 0.05 degrees of latitude
    np.testing.assert_allclose(value(pairs, "logistics_commute_ratio"), [0.0, d / 10.0, d / 20.0])


def test_hours_fit(pairs):
    # 20 vs 20 -> 1; 10 vs 20 -> .5; 10 vs 30 -> 1 - 20/30
    np.testing.assert_allclose(value(pairs, "logistics_hours_fit"), [1.0, 0.5, 1 - 20 / 30])


def test_employer_hire_rate_is_smoothed(pairs):
    # (5 + .3*5)/(5 + 5) = .65; no history -> the prior .3
    np.testing.assert_allclose(value(pairs, "employer_hire_rate"), [0.65, 0.3, 0.3])
    np.testing.assert_allclose(value(pairs, "employer_experience"), [np.log(6), 0.0, 0.0])


def test_slots_left_is_capped(pairs):
    np.testing.assert_allclose(value(pairs, "capacity_slots_left"), [2.0, 10.0, 10.0])


def test_compute_features_returns_registry_columns_in_order(pairs):
    frame = compute_features(pairs)
    assert list(frame.columns) == feature_names()
    assert frame.shape == (3, len(FEATURES))
    assert np.isfinite(frame.to_numpy()).all()


def test_every_feature_declares_reason_and_direction():
    names = feature_names()
    assert len(names) == len(set(names))
    for feature in FEATURES:
        assert feature.direction in (-1, 0, 1)
        assert feature.speaks_for and feature.speaks_against
        assert feature.name.startswith(feature.group)
        feature.describe(0.5, True)
        feature.describe(0.5, False)


def _row_sums(values: np.ndarray) -> np.ndarray:
    return values.sum(axis=1)


def test_per_row_values_are_the_transform_of_each_pairs_rows():
    """`PairFrame.per_row` for one person (their row broadcast), several persons, and the
    workplaces (kept in the cache while the array is the same object), whatever the transform's
    output shape."""
    c_arrays = candidate_arrays(candidates(), VOC)
    w_arrays = workplace_arrays(workplaces(), VOC)
    n_w = len(w_arrays["lat"])
    cache: dict[str, object] = {}
    for c_idx, w_idx in [(np.zeros(n_w, np.int64), np.arange(n_w)), (np.array([1, 0, 1]), np.array([0, 1, 1]))]:
        frame = PairFrame(c_arrays, w_arrays, c_idx, w_idx, VOC, workplace_cache=cache)
        np.testing.assert_array_equal(frame.per_row("c", "skill", _row_sums), c_arrays["skill"].sum(axis=1)[c_idx])
        np.testing.assert_array_equal(frame.per_row("c", "skill", np.sqrt), np.sqrt(c_arrays["skill"])[c_idx])
        np.testing.assert_array_equal(frame.per_row("w", "task", _row_sums), w_arrays["task"].sum(axis=1)[w_idx])
    assert [value[0] is w_arrays["task"] for value in cache.values()] == [True]
    moved = {**w_arrays, "task": w_arrays["task"] * 2}  # a new array: computed again, not read from the cache
    frame = PairFrame(c_arrays, moved, np.zeros(n_w, np.int64), np.arange(n_w), VOC, workplace_cache=cache)
    np.testing.assert_array_equal(frame.per_row("w", "task", _row_sums), moved["task"].sum(axis=1))
