"""The ranker against the simplest strong alternative: a plain LightGBM lambdarank tuned by the same
grouped cross-validation, judged over every eligible workplace of held-out candidates (SYNTHETIC
truths), and the explanations and calibration of the Poisson booster."""

from __future__ import annotations

import numpy as np
import pytest

from training.fit import grouped_cv
from training.trainset import held_out_mask


def test_the_report_has_the_tuned_plain_lightgbm_and_the_model_beats_it(trained):
    """On 2,000 x 3,000 standard-truth data the plain lambdarank is in the report, and the model
    ranks all eligible workplaces better than it."""
    result = trained.result
    evaluation = result.evaluation
    plain = evaluation.value("all_eligible", "plain_lgbm")
    assert plain == plain, evaluation.table()
    assert evaluation.value("all_eligible", "model") > plain + 0.01, evaluation.table()
    assert result.tuning is not None and result.tuning.rounds in (100, 200, 400, 600)
    assert any("plain_lgbm" in line for line in result.report_lines())
    assert "grouped cross-validation" in result.report_lines()[0]


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["interactions", "thresholds"])
def test_the_model_beats_the_tuned_plain_lightgbm_where_the_truth_is_not_additive(tmp_path, variant):
    """Truths with interactions and steps, where a linear model falls short: the model still ranks
    all eligible workplaces better than the tuned plain lambdarank and every other baseline."""
    from training.synthetic import generate_dataset
    from training.train import train_ranker

    generate_dataset(tmp_path, 1500, 2000, seed=5, variant=variant)
    evaluation = train_ranker(tmp_path, seed=0).evaluation
    model = evaluation.value("all_eligible", "model")
    for baseline in ("plain_lgbm", "logistic", "rule", "random"):
        assert model > evaluation.value("all_eligible", baseline), (baseline, evaluation.table())


def test_contributions_add_up_to_the_score_of_the_served_model(trained):
    """Reasons come from the model's own contributions: for the Poisson booster they add up to its
    score (the log of the expected grade), by TreeSHAP and by decision path alike."""
    ranker = trained.model.ranker
    matrix = trained.result.held_out.logged.matrix[:200]
    score = ranker.score(matrix)
    np.testing.assert_allclose(ranker.contributions(matrix).sum(axis=1), score, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ranker.path_contributions(matrix).sum(axis=1), score, rtol=1e-6, atol=1e-6)
    assert ranker.meta["objective"] == "poisson" and ranker.meta["monotone"] is True


def test_grouped_cv_prefers_the_setting_that_fits_an_interaction():
    """A truth with a strong interaction: the grouped CV must choose trees deep enough for it, by
    Poisson deviance for a Poisson booster and by NDCG@10 for lambdarank, and its table covers
    every setting and round count it tried."""
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(600), 8)
    x = rng.random((len(groups), 3))
    signal = 4.0 * (x[:, 0] > 0.5) * (x[:, 1] > 0.5) + 0.5 * x[:, 2]
    grade = np.clip(np.round(signal + rng.normal(0, 0.5, len(groups))), 0, 4).astype(int)
    grid = ({"num_leaves": 2}, {"num_leaves": 8})
    for objective, criterion in (("poisson", "-Poisson deviance"), ("lambdarank", "NDCG@10")):
        params = {"objective": objective, "learning_rate": 0.1, "min_data_in_leaf": 20, "verbose": -1}
        result = grouped_cv(x, grade, groups, params, grid=grid, rounds=(20, 80))
        assert result.params == {"num_leaves": 8}, (objective, result)
        assert result.criterion == criterion and len(result.scores) == 4
        assert result.score == max(score for _, _, score in result.scores)
        assert "num_leaves=8" in result.describe()
    assert all(0 < score <= 1 for _, _, score in result.scores)  # NDCG


def test_held_out_candidates_are_not_in_the_plain_baselines_training(trained):
    ids = trained.dataset.outcomes["candidate_id"].to_numpy()
    assert held_out_mask(ids).any() and (~held_out_mask(ids)).any()
