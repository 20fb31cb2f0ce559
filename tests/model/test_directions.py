"""Both directions: the evaluation also ranks each workplace's held-out candidates (an employer's
shortlist); the candidate direction still decides promotion; a workplace-grouped ranker trains."""

from __future__ import annotations

import numpy as np
import pytest
from mlflow import MlflowClient

from training.evaluate import ndcg_at_k
from training.held_out import ALL_ELIGIBLE_BY_WORKPLACE, LOGGED_BY_WORKPLACE, by_workplace
from training.lifecycle import model_card
from training.train import train_ranker
from training.trainset import PairSet

METHODS = ("model", "rule", "logistic", "plain_lgbm", "random", "oracle")


def test_the_evaluation_has_both_directions(trained):
    evaluation = trained.result.evaluation
    frame = evaluation.frame()
    for protocol in ("logged", "all_eligible", LOGGED_BY_WORKPLACE, ALL_ELIGIBLE_BY_WORKPLACE):
        assert set(frame.loc[frame["protocol"] == protocol, "method"]) == set(METHODS), protocol
        assert f"{protocol}:" in evaluation.table()
    assert evaluation.value(ALL_ELIGIBLE_BY_WORKPLACE, "oracle") == pytest.approx(1.0)


def test_the_model_beats_random_in_both_directions(trained):
    evaluation = trained.result.evaluation
    for protocol in ("all_eligible", ALL_ELIGIBLE_BY_WORKPLACE):
        assert evaluation.value(protocol, "model") > evaluation.value(protocol, "random") + 0.1, evaluation.table()
        assert evaluation.value(protocol, "model") > evaluation.value(protocol, "rule"), evaluation.table()
    assert evaluation.value(LOGGED_BY_WORKPLACE, "model") > evaluation.value(LOGGED_BY_WORKPLACE, "random")


def test_the_candidate_direction_still_decides_promotion(trained):
    protocol, pairs, _ = trained.result.held_out.primary()
    assert protocol == "all_eligible"
    assert (np.diff(pairs.c_idx) >= 0).all()


def test_the_workplace_direction_is_logged_and_on_the_card(trained):
    client = MlflowClient(trained.tracking_uri, trained.tracking_uri)
    run = client.get_run(trained.model.run_id)
    for protocol in (ALL_ELIGIBLE_BY_WORKPLACE, LOGGED_BY_WORKPLACE):
        assert f"{protocol}.model.ndcg_at_10" in run.data.metrics
    assert run.data.metrics["calibration.slope"] > 0
    assert run.data.params["group_by"] == "candidate"
    card = model_card(trained.result, "x", True)
    assert f"| {ALL_ELIGIBLE_BY_WORKPLACE} | model |" in card
    assert "Expected success P(hired | score)" in card


def pairs_of(c_idx, w_idx, truth):
    n = len(c_idx)
    return PairSet(
        np.array([f"C{c}" for c in c_idx]),
        np.array([f"W{w}" for w in w_idx]),
        np.asarray(c_idx),
        np.asarray(w_idx),
        np.arange(n, dtype=np.float64).reshape(-1, 1),
        truth=np.asarray(truth, dtype=np.float64),
    )


def test_by_workplace_groups_rows_and_leaves_out_single_pairs():
    # workplace 5 has one pair; workplace 9 has all-zero gains; workplace 2 has two equal gains
    pairs = pairs_of([0, 0, 0, 1, 1, 2, 2], [2, 5, 9, 2, 7, 9, 7], [1, 3, 0, 1, 2, 0, 0])
    grouped, gains = by_workplace(pairs, pairs.truth)
    assert grouped.w_idx.tolist() == [2, 2, 7, 7, 9, 9]
    assert grouped.c_idx.tolist() == [0, 1, 1, 2, 0, 2]
    np.testing.assert_array_equal(gains, grouped.truth)
    assert grouped.group_sizes("workplace").tolist() == [2, 2, 2]
    # as ndcg_at_k does: all-zero groups (9) are left out, all-equal gains (2) score 1 in any order;
    # ranking each group's last row first puts workplace 7's gain-2 candidate second
    last_first = np.arange(len(gains), dtype=np.float64)
    expected = np.mean([1.0, 1 / np.log2(3)])
    assert ndcg_at_k(gains, last_first, grouped.group_keys("workplace"), 10) == pytest.approx(expected)


def test_a_workplace_grouped_ranker_trains_and_evaluates(tmp_path):
    from training.synthetic import generate_dataset

    generate_dataset(tmp_path, 600, 900, seed=5)
    result = train_ranker(tmp_path, seed=0, group_by="workplace", num_rounds=20)
    assert result.ranker.meta["group_by"] == "workplace"
    assert result.ranker.meta["calibration"]["slope"] > 0
    evaluation = result.evaluation
    for protocol in ("all_eligible", ALL_ELIGIBLE_BY_WORKPLACE):
        assert evaluation.value(protocol, "model") > evaluation.value(protocol, "random"), evaluation.table()
    with pytest.raises(ValueError, match="group_by"):
        train_ranker(tmp_path, seed=0, group_by="employer", num_rounds=2)  # type: ignore[arg-type]
