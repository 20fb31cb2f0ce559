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
    home: Path

    def settings(self, **changes: object) -> Settings:
        """Settings for an API over this data and model, with its own SQLite store and key file."""
        defaults: dict[str, object] = {
            "data_dir": self.data_dir,
            "tracking_uri": self.tracking_uri,
            "database_url": f"sqlite:///{self.home / 'store.db'}",
            "api_keys_file": self.home / "api-keys.json",
        }
        return Settings(**(defaults | changes))

    def key(self, name: str) -> dict[str, str]:
        """Request headers with the key of a test identity: batch, adviser, other_adviser, dpo, scientist."""
        return {"Authorization": f"Bearer {self.keys[name]}"}

    @property
    def keys(self) -> dict[str, str]:
        from serving.auth import Identity, add_key

        if not hasattr(self, "_keys"):
            path = self.home / "api-keys.json"
            candidates = self.dataset.candidates
            advisers = candidates.loc[candidates["consent"] & candidates["active"], "adviser_id"].drop_duplicates()
            identities = {
                "batch": Identity(name="test-batch", role="batch"),
                "adviser": Identity(name="test-adviser", role="adviser", adviser_id=str(advisers.iloc[0])),
                "other_adviser": Identity(name="test-other", role="adviser", adviser_id=str(advisers.iloc[1])),
                "dpo": Identity(name="test-dpo", role="data_protection_officer"),
                "scientist": Identity(name="test-scientist", role="data_scientist"),
            }
            self._keys = {name: add_key(path, identity) for name, identity in identities.items()}
        return self._keys


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
    trained = Trained(small_data, load_dataset(small_data), uri, model, result, tmp_path_factory.mktemp("service"))
    trained.keys  # noqa: B018  (writes the key file before any app starts)
    return trained
