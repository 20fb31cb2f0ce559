"""Position bias: SYNTHETIC logs where the shown rank changes what advisers pursue, its estimate in
the training report, and the optional `outcomes.shown_rank` column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matching.datasets import load_dataset
from matching.records import validate_table
from training.synthetic import generate_dataset


@pytest.fixture(scope="module")
def biased(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("biased")
    generate_dataset(folder, 1500, 2000, seed=4, position_bias=1.0)
    return folder


def test_by_default_outcomes_have_no_rank_and_do_not_change(tmp_path):
    plain, ranked = tmp_path / "plain", tmp_path / "ranked"
    generate_dataset(plain, 200, 300, seed=2)
    generate_dataset(ranked, 200, 300, seed=2, position_bias=0.0)
    a, b = pd.read_parquet(plain / "outcomes.parquet"), pd.read_parquet(ranked / "outcomes.parquet")
    assert "shown_rank" not in a.columns
    # rank given without an effect: the same outcomes, plus where each was shown
    pd.testing.assert_frame_equal(a, b.drop(columns="shown_rank"))
    ranks = b.groupby("candidate_id")["shown_rank"].agg(["min", "max", "count"])
    assert (ranks["min"] == 1).all() and (ranks["max"] == ranks["count"]).all()


def test_a_dataset_with_ranks_is_valid_and_ranks_lower_the_grades(biased, tmp_path):
    dataset = load_dataset(biased)  # validates against the contract
    assert dataset.outcomes is not None and "shown_rank" in dataset.outcomes.columns
    _, problems = validate_table("outcomes", pd.read_parquet(biased / "outcomes.parquet"))
    assert problems == []
    unbiased = tmp_path / "unbiased"
    generate_dataset(unbiased, 1500, 2000, seed=4, position_bias=0.0)
    a = pd.read_parquet(unbiased / "outcomes.parquet")
    b = dataset.outcomes
    late = b["shown_rank"].to_numpy() >= 4
    # same suggestions; from rank 4 on, many fewer are pursued than without the bias
    assert (a["grade"].to_numpy()[late] >= 1).mean() > 2 * (b["grade"].to_numpy()[late] >= 1).mean()
    early = b["shown_rank"].to_numpy() == 1
    assert (a["grade"].to_numpy()[early] == b["grade"].to_numpy()[early]).all()


@pytest.mark.slow
def test_training_estimates_the_ranks_own_effect(biased, tmp_path):
    """With r ** -1 the chance of being taken up at rank r, the estimate (features held equal) must
    find rank 2 near 1/2 and ranks 5+ well under 1/3 of rank 1; without a bias, ranks change little."""
    from training.train import train_ranker

    result = train_ranker(biased, seed=0, plain_baseline=False)
    effect = result.position
    assert effect is not None and effect.ranks[0] == 1
    relative = dict(zip(effect.ranks, effect.relative_pursued, strict=True))
    assert 0.35 < relative[2] < 0.7, relative
    assert relative[5] < 0.33, relative
    assert any("Position effect" in line for line in result.report_lines())
    fair = tmp_path / "fair"
    generate_dataset(fair, 1500, 2000, seed=4, position_bias=0.0)
    effect = train_ranker(fair, seed=0, plain_baseline=False).position
    assert effect is not None
    assert all(0.7 < v < 1.4 for v in effect.relative_pursued[:5]), effect


def test_the_correction_fits_net_of_the_rank(biased):
    """With shown ranks the ranker boosts from the estimated per-rank offsets and says so in its
    meta; turned off, the rank's effect is still estimated."""
    from training.train import train_ranker

    corrected = train_ranker(
        biased, seed=0, plain_baseline=False, early_stopping=False, num_rounds=30, position_correction=True
    )
    assert corrected.ranker.meta["position_correction"] is True
    assert corrected.params["position_correction"] is True
    off = train_ranker(
        biased, seed=0, plain_baseline=False, early_stopping=False, num_rounds=30, position_correction=False
    )
    assert off.ranker.meta["position_correction"] is False
    assert off.position is not None  # estimated even when not corrected
