"""Point MLflow at the configured store, whether a directory or a `sqlite:///` database."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import mlflow

from matching.paths import mlruns_dir


def is_directory_store(uri: str) -> bool:
    """True for a plain path or a `file:` URI (MLflow's file store)."""
    scheme = urlparse(uri).scheme
    return scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt")


def configure_tracking(uri: str) -> str:
    """Use `uri` for tracking and the model registry; returns the URI MLflow will use.

    A directory becomes a file store (MLflow 3.17+ asks for `MLFLOW_ALLOW_FILE_STORE=true`);
    a `sqlite:///` database gets its folder created.
    """
    if is_directory_store(uri):
        path = Path(urlparse(uri).path if uri.startswith("file:") else uri).expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        uri = path.as_uri()
    elif uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def artifact_location(uri: str) -> str | None:
    """Where a new experiment keeps artifacts: beside a database store, under `mlruns/artifacts`
    for the default store; None lets MLflow choose (a file store keeps them inside itself)."""
    if is_directory_store(uri):
        return None
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).parent / "artifacts").resolve().as_uri()
    return (mlruns_dir() / "artifacts").resolve().as_uri()
