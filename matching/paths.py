"""Where the project keeps its files: the reference catalogue, bundled data, the MLflow store."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The project folder: `JOBMATCH_HOME` if set, else the checkout this code runs from."""
    home = os.environ.get("JOBMATCH_HOME")
    return Path(home).resolve() if home else Path(__file__).resolve().parents[1]


def reference_dir() -> Path:
    """The shipped reference data (catalogue and attribution)."""
    return Path(__file__).resolve().parents[1] / "data" / "reference"


def sample_dir() -> Path:
    """The bundled synthetic sample dataset."""
    return project_root() / "data" / "sample"


def mlruns_dir() -> Path:
    """The local MLflow store: its tracking database and its artifacts."""
    return project_root() / "mlruns"
