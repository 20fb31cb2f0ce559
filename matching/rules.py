"""The transparent rule score: hand-set weights over the registered features, their version, and
`RuleRanker`, the rule score in the ranker's shape.

A baseline the model must beat (training), the ranking that serves while the model is switched
off (serving), and a ranking anyone can check by hand.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from features.registry import feature_names, registry_fingerprint
from matching.errors import ModelMismatchError
from matching.model import Ranker
from matching.records import Catalogue

RULE_WEIGHTS: dict[str, float] = {
    "task_coverage": 2.0,
    "task_largest_gap": -1.0,
    "interest_similarity": 1.0,
    "interest_preferred_occupation": 1.0,
    "support_needs_covered": 1.0,
    "support_required_unmet": -2.0,
    "support_mentor_available": 0.3,
    "demand_over_tolerance": -0.5,
    "logistics_commute_ratio": -1.0,
    "logistics_hours_fit": 0.5,
    "logistics_weekly_hours": 0.0,
    "employer_supports_offered": 0.0,
    "employer_hire_rate": 1.0,
    "employer_experience": 0.1,
    "capacity_slots_left": 0.0,
}
# the weights' own fingerprint: a recorded shortlist names exactly the weights that ranked it
RULE_VERSION = "rules-" + hashlib.sha256(json.dumps(RULE_WEIGHTS, sort_keys=True).encode()).hexdigest()[:12]


def rule_score(matrix: np.ndarray) -> np.ndarray:
    """The weighted sum of a feature matrix's columns (registry order)."""
    weights = np.array([RULE_WEIGHTS.get(name, 0.0) for name in feature_names()])
    return np.asarray(matrix, dtype=np.float64) @ weights


class RuleRanker(Ranker):
    """The transparent rule score in the ranker's shape, so the one shortlist path serves it while
    the model is switched off and training ranks held-out pairs with it as a baseline: the same
    features, the score is the weighted sum `RULE_WEIGHTS . x`, and each feature's contribution is
    its weight times its value (so the reasons add up to the score, like the model's). It has no
    calibrated probability, so `expected_success` refuses and shortlists are ranked by the rule
    score alone."""

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__(
            booster=None,  # type: ignore[arg-type]  # no trees: the score is the weighted sum
            features=feature_names(),
            registry=registry_fingerprint(),
            catalogue=catalogue,
            meta={"rule_weights": dict(RULE_WEIGHTS), "rule_version": RULE_VERSION},
        )
        self.weights = np.array([RULE_WEIGHTS.get(name, 0.0) for name in self.features])

    def check_compatible(self) -> None:
        """Always compatible: the rule is defined over the code's own feature names."""

    def score(self, matrix: np.ndarray) -> np.ndarray:
        if len(matrix) == 0:
            return np.zeros(0)
        return rule_score(matrix)

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """weight x value per feature, and a zero bias column."""
        matrix = np.asarray(matrix, dtype=np.float64).reshape(-1, len(self.features))
        return np.column_stack([matrix * self.weights, np.zeros(len(matrix))])

    def path_contributions(self, matrix: np.ndarray) -> np.ndarray:
        return self.contributions(matrix)

    def expected_success(self, scores: np.ndarray) -> np.ndarray:
        raise ModelMismatchError(
            "the rule score is a hand-weighted sum, not a calibrated probability: it has no expected success"
        )
