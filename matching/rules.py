"""The transparent rule score: hand-set weights over the registered features.

A baseline the model must beat, and a ranking anyone can check by hand.
"""

from __future__ import annotations

import numpy as np

from features.registry import feature_names

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


def rule_score(matrix: np.ndarray) -> np.ndarray:
    """The weighted sum of a feature matrix's columns (registry order)."""
    weights = np.array([RULE_WEIGHTS.get(name, 0.0) for name in feature_names()])
    return np.asarray(matrix, dtype=np.float64) @ weights
