"""Expected success: P(hired | score), Platt-calibrated at training and saved with the model, so
capacity-aware allocation can compare pairs across candidates and workplaces."""

from __future__ import annotations

import numpy as np
import pytest

from matching.errors import ModelMismatchError
from matching.model import Ranker
from training.fit import CalibrationError, fit_calibration
from training.trainset import HIRED_GRADE


def test_expected_success_is_monotone_and_a_probability(trained):
    ranker = trained.model.ranker  # as loaded from MLflow: the calibration is saved with the model
    calibration = ranker.meta["calibration"]
    assert calibration["target"] == "hired"
    assert calibration["slope"] > 0
    assert calibration["positives"] > 0 and calibration["pairs"] > calibration["positives"]
    scores = np.sort(ranker.score(trained.result.held_out.logged.matrix))
    p = ranker.expected_success(scores)
    assert p.shape == scores.shape
    assert ((p > 0) & (p < 1)).all()
    assert (np.diff(p) >= 0).all()
    grid = np.linspace(scores.min() - 1, scores.max() + 1, 50)
    assert (np.diff(ranker.expected_success(grid)) > 0).all()
    np.testing.assert_allclose(p, trained.result.ranker.expected_success(scores))


def test_expected_success_is_calibrated_in_the_large_on_held_out_pairs(trained):
    """Held-out candidates were neither fitted nor calibrated on: their mean predicted P(hired)
    must be near the observed hire rate (binomial noise of ~1,900 pairs: a few points)."""
    ranker = trained.model.ranker
    logged = trained.result.held_out.logged
    predicted = ranker.expected_success(ranker.score(logged.matrix)).mean()
    hired = (logged.grade >= HIRED_GRADE).astype(float)
    noise = np.sqrt(hired.mean() * (1 - hired.mean()) / len(hired))
    assert abs(predicted - hired.mean()) <= max(0.025, 3 * noise), (predicted, hired.mean())
    # and higher predicted P(hired) means more hires: top third against bottom third
    order = np.argsort(ranker.score(logged.matrix))
    third = len(order) // 3
    assert hired[order[-third:]].mean() > hired[order[:third]].mean() + 0.05


def test_a_model_without_calibration_raises(trained):
    ranker = trained.result.ranker
    old = Ranker.from_booster(ranker.booster, meta={"run_id": "old"}, linear=ranker.linear)
    with pytest.raises(ModelMismatchError, match="predates calibration"):
        old.expected_success(np.zeros(3))


def test_calibration_refuses_scores_that_do_not_order_hires():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=2000)
    grade = np.where(rng.random(2000) < 1 / (1 + np.exp(-(-2 * scores - 2))), HIRED_GRADE, 1)
    assert fit_calibration(scores, grade, "test")["slope"] < 0
    with pytest.raises(CalibrationError):
        fit_calibration(scores, np.zeros(2000, dtype=int), "test")
