"""NDCG@k on known answers."""

import numpy as np
import pytest

from training.evaluate import ndcg_at_k, ndcg_per_group


def test_perfect_ranking_scores_one():
    gains = np.array([3.0, 2.0, 0.0, 1.0])
    assert ndcg_at_k(gains, gains, np.zeros(4), 10) == pytest.approx(1.0)


def test_reversed_ranking_matches_hand_computation():
    gains = np.array([2.0, 1.0, 0.0])
    scores = np.array([0.0, 1.0, 2.0])  # ranks the 0-gain item first
    dcg = 0 / np.log2(2) + 1 / np.log2(3) + 2 / np.log2(4)
    ideal = 2 / np.log2(2) + 1 / np.log2(3)
    assert ndcg_at_k(gains, scores, np.zeros(3), 3) == pytest.approx(dcg / ideal)


def test_cutoff_ignores_items_below_k():
    gains = np.array([0.0, 5.0])
    scores = np.array([1.0, 0.0])
    assert ndcg_at_k(gains, scores, np.zeros(2), 1) == pytest.approx(0.0)
    assert ndcg_at_k(gains, scores, np.zeros(2), 2) == pytest.approx(1 / np.log2(3))


def test_groups_are_scored_separately_and_all_zero_groups_are_left_out():
    gains = np.array([1.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    scores = np.array([1.0, 0.0, 5.0, 4.0, 0.0, 1.0])
    groups = np.array([7, 7, 8, 8, 9, 9])
    per_group = ndcg_per_group(gains, scores, groups, 10)
    assert len(per_group) == 2  # group 8 has no gain
    np.testing.assert_allclose(per_group, [1.0, 1.0])


def test_ties_keep_input_order():
    gains = np.array([0.0, 1.0])
    assert ndcg_at_k(gains, np.zeros(2), np.zeros(2), 1) == 0.0
