"""Errors about models, importable without loading MLflow."""

from __future__ import annotations


class ModelLoadError(RuntimeError):
    """The model could not be loaded or may not serve (features differ from the code's)."""


class ModelMismatchError(ModelLoadError):
    """A model was trained on other features than the code computes: it must not serve."""


class TrackingStoreError(ModelLoadError):
    """The tracking store itself could not be read (no permission, a damaged file, a server that does
    not answer), as opposed to a store that answered that the model is missing or unfit: a fault
    that may pass, so the service serves the rule score meanwhile and looks again."""
