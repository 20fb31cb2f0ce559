"""Pair features, each declared once: name, vectorised computation, reason, direction."""

from features.compute import compute_features, feature_names
from features.registry import FEATURES, Feature, monotone_constraints, registry_fingerprint

__all__ = [
    "FEATURES",
    "Feature",
    "compute_features",
    "feature_names",
    "monotone_constraints",
    "registry_fingerprint",
]
