"""The trees compiled to native code (`matching.compiled`) score exactly as LightGBM does, and are
set aside, leaving LightGBM's predict, whenever they would not."""

from __future__ import annotations

import logging
import sys

import lightgbm as lgb
import numpy as np
import pytest

from features.pairs import PairFrame
from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.compiled import CompiledTrees, check_rows, compile_trees
from tests.conftest import Trained


def _raw(booster: lgb.Booster, matrix: np.ndarray) -> np.ndarray:
    return np.asarray(booster.predict(matrix, raw_score=True, validate_features=False), dtype=np.float64)


def test_a_loaded_model_scores_every_pair_as_lightgbm_does(trained: Trained) -> None:
    ranker = trained.model.ranker
    assert ranker.compiled is not None, "a registered model loads with its trees compiled"
    candidates = CandidateTable.build(trained.dataset.candidates)
    pool = WorkplacePool(trained.dataset.workplaces, outcomes=trained.dataset.outcomes)
    c_idx, w_idx = pool.generate_pairs(candidates.arrays, eligible_candidates(candidates.frame))
    matrix = ranker.features_of(PairFrame(candidates.arrays, pool.arrays, c_idx, w_idx, pool.catalogue.vocabulary))
    assert len(matrix) > 10_000
    np.testing.assert_array_equal(ranker.tree_scores(matrix), _raw(ranker.booster, matrix))
    np.testing.assert_array_equal(ranker.tree_scores(matrix[::-7]), _raw(ranker.booster, matrix[::-7]))


def test_a_large_forest_with_missing_values_compiles_to_the_same_scores() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4000, 12)).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.nan
    y = np.nansum(x[:, :4], axis=1) + rng.normal(scale=0.3, size=len(x))
    booster = lgb.train(
        {"objective": "regression", "num_leaves": 31, "verbose": -1, "seed": 3}, lgb.Dataset(x, y), num_boost_round=200
    )
    compiled = compile_trees(booster)
    assert compiled is not None
    fresh = rng.normal(size=(5000, 12)).astype(np.float32)
    fresh[rng.random(fresh.shape) < 0.1] = np.nan
    np.testing.assert_array_equal(compiled.predict(fresh), _raw(booster, fresh))
    edges = check_rows(booster, seed=5)
    np.testing.assert_array_equal(compiled.predict(edges), _raw(booster, edges))
    with pytest.raises(ValueError, match="12 feature values"):
        compiled.predict(fresh[:, :5])


def test_trees_that_would_score_differently_are_not_used(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, trained: Trained
) -> None:
    real = CompiledTrees.predict
    monkeypatch.setattr(CompiledTrees, "predict", lambda self, m: np.nextafter(real(self, m), np.inf))
    with caplog.at_level(logging.WARNING, logger="jobmatch.matching"):
        assert compile_trees(trained.model.ranker.booster) is None
    assert "differ from LightGBM" in caplog.text


def test_without_lleaves_lightgbm_scores(monkeypatch: pytest.MonkeyPatch, trained: Trained) -> None:
    monkeypatch.setitem(sys.modules, "lleaves", None)  # an import of it now fails
    assert compile_trees(trained.model.ranker.booster) is None
