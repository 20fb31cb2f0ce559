"""Simpler rankers the model must beat: random, pointwise logistic regression, and a plain
LightGBM lambdarank tuned by grouped cross-validation (the simplest strong alternative). Each
follows scikit-learn: `fit` returns self, `score_pairs` ranks a feature matrix. The fourth
baseline, the hand-weighted rule score, is `matching.rules.RuleRanker` (it also serves while the
model is off)."""

from __future__ import annotations

from collections.abc import Callable

import lightgbm as lgb
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from training.fit import CvResult, Params, fit_ranker, grouped_cv, run_lengths

# a baseline's scores of a feature matrix (higher first)
Scorer = Callable[[np.ndarray], np.ndarray]


class RandomRanker:
    """Random scores: the floor any ranking must clear."""

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def fit(self, matrix: np.ndarray, grade: np.ndarray) -> RandomRanker:
        return self

    def score_pairs(self, matrix: np.ndarray) -> np.ndarray:
        return np.random.default_rng(self.random_state).random(len(matrix))


class LogisticRanker:
    """Pointwise logistic regression on "the work trial started" (grade >= 2)."""

    def __init__(self, threshold: int = 2, random_state: int = 0) -> None:
        self.threshold = threshold
        self.random_state = random_state

    def fit(self, matrix: np.ndarray, grade: np.ndarray) -> LogisticRanker:
        target = (np.asarray(grade) >= self.threshold).astype(int)
        self.model_ = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=self.random_state))
        if len(np.unique(target)) < 2:
            self.constant_ = True
            return self
        self.constant_ = False
        self.model_.fit(matrix, target)
        return self

    def score_pairs(self, matrix: np.ndarray) -> np.ndarray:
        if self.constant_:
            return np.zeros(len(matrix))
        return np.asarray(self.model_.predict_proba(matrix)[:, 1])


# plain lambdarank: LightGBM's usual settings, no monotone constraints, no linear base
PLAIN_PARAMS: Params = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [10],
    "label_gain": [0, 1, 2, 3, 4],
    "learning_rate": 0.1,
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
PLAIN_GRID: tuple[Params, ...] = tuple(
    {"num_leaves": leaves, "min_data_in_leaf": rows} for leaves in (3, 7, 15) for rows in (20, 100)
)
PLAIN_ROUNDS = (50, 100, 200, 300)


class PlainLambdaRank:
    """LightGBM lambdarank on the project's features with none of the model's extras (no
    monotone constraints, no linear base, no position correction): leaves, rows per leaf and
    rounds chosen by grouped cross-validation on the training candidates (`training.fit.grouped_cv`).

    `fit` takes the rows grouped by candidate (`groups`: each row's candidate, rows contiguous).
    """

    def __init__(self, random_state: int = 0, grid: tuple[Params, ...] = PLAIN_GRID) -> None:
        self.random_state = random_state
        self.grid = grid

    def fit(
        self, matrix: np.ndarray, grade: np.ndarray, groups: np.ndarray, position: np.ndarray | None = None
    ) -> PlainLambdaRank:
        """Tune and fit; `position` (the rank each pair was shown at) turns on LightGBM's
        position-bias correction in the final fit (the cross-validation runs without it)."""
        self.cv_: CvResult = grouped_cv(
            matrix, grade, groups, PLAIN_PARAMS, self.grid, PLAIN_ROUNDS, seed=self.random_state
        )
        self.booster_: lgb.Booster = fit_ranker(
            (matrix, grade, run_lengths(groups)),
            None,
            params={**PLAIN_PARAMS, **self.cv_.params},
            seed=self.random_state,
            num_rounds=self.cv_.rounds,
            names=[f"f{j}" for j in range(np.asarray(matrix).shape[1])],
            position=position,
        )
        return self

    def score_pairs(self, matrix: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster_.predict(matrix), dtype=np.float64)
