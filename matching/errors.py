"""Errors about models, importable without loading MLflow."""

from __future__ import annotations


class ModelLoadError(RuntimeError):
    """The model could not be loaded or may not serve (features differ from the code's)."""


class ModelMismatchError(ModelLoadError):
    """A model was trained on other features than the code computes: it must not serve."""
