"""The champion rule's measures and decision on known answers: per-person pairwise order and NDCG,
the paired bootstrap over persons, and which comparisons let a challenger through."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.promotion import (
    Comparison,
    bootstrap,
    compare,
    decide,
    flag_keys,
    ndcg_per_person,
    pairwise_per_person,
    person_measures,
    ratio_interval,
)


def test_pairwise_counts_pairs_of_different_grade_and_halves_ties():
    grades = np.array([2, 0, 1, 3, 3, 0, 4])
    scores = np.array([0.9, 0.1, 0.5, 0.2, 0.2, 0.2, 0.7])
    groups = np.array([0, 0, 0, 1, 1, 1, 2])
    concordant, comparable = pairwise_per_person(grades, scores, groups)
    # person 0: three pairs of different grade, all in order; person 1: 3-3 is not comparable,
    # both 3-0 pairs are ties in score (one half each); person 2 has a single pair: nothing to order
    assert comparable.tolist() == [3.0, 2.0, 0.0]
    assert concordant.tolist() == [3.0, 1.0, 0.0]
    reversed_concordant, _ = pairwise_per_person(grades, -scores, groups)
    assert reversed_concordant.tolist() == [0.0, 1.0, 0.0]


def test_ndcg_per_person_matches_the_definition_and_leaves_all_zero_persons_out():
    grades = np.array([0, 2, 1, 0, 0])
    scores = np.array([0.9, 0.1, 0.5, 0.3, 0.2])
    groups = np.array([0, 0, 0, 1, 1])
    values = ndcg_per_person(grades, scores, groups, k=10)
    dcg = 0 / np.log2(2) + 1 / np.log2(3) + 2 / np.log2(4)
    ideal = 2 / np.log2(2) + 1 / np.log2(3)
    assert values[0] == pytest.approx(dcg / ideal)
    assert np.isnan(values[1])


def _persons(rng: np.random.Generator, n: int, quality: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n persons with 6 graded pairs each; scores follow the grades with the given strength."""
    groups = np.repeat(np.arange(n), 6)
    grades = rng.integers(0, 5, size=len(groups))
    scores = quality * grades + rng.normal(size=len(groups))
    return grades, scores, groups


def test_the_bootstrap_is_paired_seeded_and_finds_a_real_difference():
    rng = np.random.default_rng(1)
    grades, good, groups = _persons(rng, 300, 0.5)
    noise = rng.normal(size=len(grades))
    measures = {
        "model": person_measures(grades, good, groups),
        "champion": person_measures(grades, noise, groups),
        "same": person_measures(grades, good, groups),
    }
    first = compare(measures, resamples=1000, seed=3)
    again = compare(measures, resamples=1000, seed=3)
    assert first == again
    by = {(c.other, c.measure): c for c in first}
    assert by[("champion", "pairwise")].better and by[("champion", "ndcg@10")].better
    # the same scores on the same resamples differ by exactly zero: the pairing is exact
    assert by[("same", "pairwise")].low == by[("same", "pairwise")].high == 0.0
    draws = bootstrap(measures, resamples=200, seed=3)
    assert draws["model"]["pairwise"].shape == (200,)
    assert np.all(draws["model"]["pairwise"] > draws["champion"]["pairwise"])


def test_scores_unrelated_to_the_grades_are_not_better_than_each_other():
    rng = np.random.default_rng(2)
    grades, _, groups = _persons(rng, 300, 0.0)
    measures = {
        "model": person_measures(grades, rng.normal(size=len(grades)), groups),
        "champion": person_measures(grades, rng.normal(size=len(grades)), groups),
    }
    primary = next(c for c in compare(measures, resamples=1000, seed=0) if c.measure == "pairwise")
    assert primary.low < 0 < primary.high


def _c(other: str, measure: str, low: float, high: float) -> Comparison:
    return Comparison(other, measure, 0.6, 0.6 - (low + high) / 2, (low + high) / 2, low, high)


def test_the_rule_asks_for_a_clear_win_on_pairwise_order_and_no_clear_loss_elsewhere():
    win = _c("champion", "pairwise", 0.01, 0.03)
    ndcg_ok = _c("champion", "ndcg@10", -0.01, 0.02)
    rule_ok = _c("rule", "pairwise", -0.02, 0.01)
    assert decide([win, ndcg_ok, rule_ok], set(), set()).promote
    # within noise of the champion: kept
    assert not decide([_c("champion", "pairwise", -0.001, 0.03), ndcg_ok, rule_ok], set(), set()).promote
    # clearly worse on NDCG@10 than the champion: kept
    assert not decide([win, _c("champion", "ndcg@10", -0.03, -0.001), rule_ok], set(), set()).promote
    # a baseline clearly better: kept, and the reason names it
    decision = decide([win, ndcg_ok, _c("logistic", "pairwise", -0.03, -0.002)], set(), set())
    assert not decision.promote and any("baseline logistic" in r for r in decision.reasons)
    # a new fairness flag: kept; a flag the champion has too: promoted
    flag = {"age_band=60+:top10_expected_grade"}
    decision = decide([win, ndcg_ok, rule_ok], flag, set())
    assert not decision.promote and decision.new_flags == sorted(flag)
    assert decide([win, ndcg_ok, rule_ok], flag, set(flag)).promote
    # the champion's flags unknown: taken as none, and said so
    decision = decide([win, ndcg_ok, rule_ok], set(), None)
    assert decision.promote and any("unknown" in r for r in decision.reasons)


def test_flag_keys_name_attribute_group_and_metric():
    frame = pd.DataFrame(
        {
            "attribute": ["age_band", "age_band", "gender"],
            "group": ["60+", "30-39", "woman"],
            "flagged": [True, False, True],
            "flagged_on": ["top10_expected_grade, ndcg_at_10", "", "full_shortlist_share"],
        }
    )
    assert flag_keys(frame) == {
        "age_band=60+:top10_expected_grade",
        "age_band=60+:ndcg_at_10",
        "gender=woman:full_shortlist_share",
    }


def test_a_group_ratio_changes_beyond_noise_only_when_the_group_is_served_clearly_worse():
    rng = np.random.default_rng(4)
    groups = np.array(["a"] * 200 + ["b"] * 200)
    champion = rng.normal(2.0, 1.0, size=400)
    same_world = champion + rng.normal(0.0, 0.05, size=400)
    worse_for_b = champion - np.where(groups == "b", 0.8, 0.0)
    difference, low, high = ratio_interval(same_world, champion, groups, "b", resamples=1000, seed=0)
    assert low <= 0 <= high and abs(difference) < 0.02
    difference, low, high = ratio_interval(worse_for_b, champion, groups, "b", resamples=1000, seed=0)
    assert high < 0 and difference == pytest.approx(-0.8 / champion[groups == "a"].mean(), abs=0.05)
    # a challenger flag whose ratio fell beyond noise counts; one within noise is only reported
    win = [_c("champion", "pairwise", 0.01, 0.03)]
    assert not decide(win, {"g=b:m"}, set(), flag_changes={"g=b:m": (difference, low, high)}).promote
    decision = decide(win, {"g=b:m"}, set(), flag_changes={"g=b:m": (-0.01, -0.05, 0.03)})
    assert decision.promote and any("not decided on" in r for r in decision.reasons)
