"""Simple rankers the model must beat: random and pointwise logistic regression. Each follows
scikit-learn: `fit` returns self, `score_pairs` ranks a feature matrix. The third baseline, the
hand-weighted rule score, is `matching.rules.RuleRanker` (it also serves while the model is off)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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
