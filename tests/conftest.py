"""Shared fixtures: a generated synthetic dataset and a model trained and registered on it, in a
temporary MLflow store (SQLite), made once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from matching.datasets import Dataset, load_dataset
from matching.settings import Settings
from serving.loading import LoadedModel, load_ranker


@dataclass
class Trained:
    data_dir: Path
    dataset: Dataset
    tracking_uri: str
    model: LoadedModel
    result: object

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, tracking_uri=self.tracking_uri)


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.synthetic import generate_dataset

    folder = tmp_path_factory.mktemp("standard")
    generate_dataset(folder, 2000, 3000, seed=7)  # the size the quality target is stated for
    return folder


@pytest.fixture(scope="session")
def trained(small_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    from training.lifecycle import log_and_register
    from training.train import train_ranker

    store = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{store / 'mlflow.db'}"
    result = train_ranker(small_data, seed=0)
    log_and_register(result, uri)
    model = load_ranker("models:/jobmatch-ranker@champion", uri)
    return Trained(small_data, load_dataset(small_data), uri, model, result)
