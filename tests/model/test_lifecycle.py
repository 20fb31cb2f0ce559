"""Registration and the champion rule: `champion` moves only for a model that wins on the same
held-out data; a directory works as the MLflow store as well as a SQLite database."""

from __future__ import annotations

import mlflow
from mlflow import MlflowClient

from serving.loading import load_ranker
from training.lifecycle import log_and_register
from training.synthetic import generate_dataset
from training.train import train_ranker


def test_champion_moves_only_when_the_new_model_wins(tmp_path, small_data):
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    other = tmp_path / "other"
    generate_dataset(other, 800, 1200, seed=3, variant="alternative")
    weak = train_ranker(other, seed=0, num_rounds=1, early_stopping=False)
    # the weak model is fitted on another ground truth and another dataset: on this run's held-out
    # candidates it must lose to a model fitted on the data itself
    first = log_and_register(weak, uri)
    assert first.promoted and first.version == "1"
    strong = train_ranker(small_data, seed=0)
    second = log_and_register(strong, uri)
    assert second.promoted, second.message
    assert "beats v1" in second.message
    third = log_and_register(train_ranker(small_data, seed=0), uri)
    assert not third.promoted and "champion stays v2" in third.message
    client = MlflowClient(uri, uri)
    assert str(client.get_model_version_by_alias("jobmatch-ranker", "champion").version) == "2"
    run = client.get_run(second.run_id)
    assert run.data.tags["dataset.fingerprint"] == strong.dataset.fingerprint()
    assert "all_eligible.model.ndcg_at_10" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(second.run_id)}
    assert {"model_card.md", "feature_importance.png", "evaluation.csv"} <= artifacts


def test_a_directory_works_as_the_tracking_store(tmp_path, small_data, monkeypatch):
    store = tmp_path / "runs"
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    result = train_ranker(small_data, seed=0, num_rounds=5, early_stopping=False)
    registration = log_and_register(result, str(store))
    assert registration.promoted
    loaded = load_ranker("models:/jobmatch-ranker@champion", str(store))
    assert loaded.version == "1"
    assert any(store.iterdir())
    mlflow.set_tracking_uri(None)
