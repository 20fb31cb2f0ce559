"""The champion rule on data without a truth file, as on real records: a model fitted on shuffled
outcomes never replaces a real champion, a model fitted on many more persons of the same world
does, and `jobmatch train --force REASON` overrides the rule with the reason on record. Every
decision is made on the same held-out persons' logged pairs and logged to MLflow (a file store
in tmp_path).

On logged pairs the models of this world differ little: the oracle orders about 0.62 of the
pairs of different grade, a model fitted on thousands of persons about 0.59-0.61, one fitted on
30 persons 0.56-0.59. Three times the persons (50 against 150, 30 against 90) was better beyond
noise in only some worlds even with about 1,350 held-out persons, so the "more data" test
compares 30 persons' outcomes with a whole world's (about 8,000 training persons, about 1,700
held-out persons with logged pairs)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from matching.datasets import Dataset, load_dataset
from matching.settings import get_settings
from training.lifecycle import log_and_register
from training.synthetic import generate_dataset
from training.train import train_ranker
from training.trainset import held_out_mask

MODEL = "jobmatch-ranker"


def without_truth(folder: Path) -> Path:
    """The synthetic dataset as real records come: no truth file."""
    (folder / "truth.parquet").unlink()
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    folder = tmp_path_factory.mktemp("world")
    generate_dataset(folder, 1500, 800, seed=11)
    dataset = load_dataset(without_truth(folder))
    assert dataset.truth is None
    return dataset


def shuffled(dataset: Dataset, seed: int, training_only: bool = False) -> Dataset:
    """The dataset with its grades permuted across outcome rows (all rows, or only the training
    persons' rows so that the held-out persons keep their real outcomes)."""
    outcomes = dataset.outcomes
    assert outcomes is not None
    outcomes = outcomes.copy()
    rows = ~held_out_mask(outcomes["candidate_id"].to_numpy()) if training_only else np.ones(len(outcomes), dtype=bool)
    grades = outcomes["grade"].to_numpy().copy()
    grades[rows] = np.random.default_rng(seed).permutation(grades[rows])
    outcomes["grade"] = grades
    return replace(dataset, outcomes=outcomes)


def champion(uri: str) -> str:
    return str(MlflowClient(uri, uri).get_model_version_by_alias(MODEL, "champion").version)


def test_a_model_fitted_on_shuffled_outcomes_never_replaces_a_real_champion(world, tmp_path):
    uri = str(tmp_path / "mlruns")
    first = log_and_register(train_ranker(world, seed=0), uri)
    assert first.promoted and first.version == "1"
    challengers = [(seed, False) for seed in (1, 2, 3)] + [(4, True)]
    for seed, training_only in challengers:
        result = train_ranker(shuffled(world, seed, training_only), seed=0)
        registration = log_and_register(result, uri)
        assert not registration.promoted, registration.message
        assert "champion stays v1" in registration.message
        assert champion(uri) == "1"
        assert registration.outcome is not None and not registration.outcome.decision.promote
    # what a data scientist finds for the last challenger: the intervals, reasons and decision
    client = MlflowClient(uri, uri)
    run = client.get_run(registration.run_id)
    assert run.data.tags["promoted"] == "false"
    assert run.data.tags["promotion.decision"] == "kept champion"
    assert run.data.params["promotion.primary"] == "pairwise"
    for other in ("champion", "rule", "logistic"):
        for suffix in ("difference", "low", "high"):
            assert f"promotion.{other}.pairwise.{suffix}" in run.data.metrics
            assert f"promotion.{other}.ndcg_at_10.{suffix}" in run.data.metrics
    # real outcomes for the held-out persons: the shuffled model orders them worse than the champion
    # (the monotone constraints keep even a fit to noise in the declared directions, so not always
    # beyond noise)
    assert run.data.metrics["promotion.champion.pairwise.difference"] < 0
    assert run.data.metrics["promotion.champion.pairwise.low"] < 0
    # the per-person NDCG@10 averages to the evaluation's logged NDCG@10 of the same model
    assert run.data.metrics["promotion.model.ndcg_at_10"] == pytest.approx(run.data.metrics["logged.model.ndcg_at_10"])
    artifacts = {a.path for a in client.list_artifacts(registration.run_id)}
    assert {"promotion.json", "promotion.md", "fairness.csv", "evaluation.csv", "model_card.md"} <= artifacts
    path = mlflow.artifacts.download_artifacts(
        run_id=registration.run_id, artifact_path="promotion.json", dst_path=str(tmp_path)
    )
    saved = json.loads(Path(path).read_text(encoding="utf-8"))
    assert saved["promoted"] is False and saved["champion_version"] == "1" and saved["reasons"]
    version = client.get_model_version(MODEL, registration.version)
    assert version.tags["promotion.decision"] == "kept champion"
    assert "champion stays v1" in (version.description or "")
    mlflow.set_tracking_uri(None)


def test_a_retrain_of_the_same_quality_does_not_move_the_champion(world, tmp_path):
    uri = str(tmp_path / "mlruns")
    log_and_register(train_ranker(world, seed=0), uri)
    registration = log_and_register(train_ranker(world, seed=1), uri)
    assert not registration.promoted and "champion stays v1" in registration.message
    assert registration.outcome is not None
    primary = registration.outcome.decision.find("champion", "pairwise")
    assert primary is not None and primary.low <= 0 <= primary.high
    mlflow.set_tracking_uri(None)


def test_force_promotes_against_the_rule_and_records_the_reason(world, tmp_path, monkeypatch, capsys):
    from jobmatch import main

    uri = str(tmp_path / "mlruns")
    log_and_register(train_ranker(world, seed=0), uri)
    assert world.path is not None
    folder = str(world.path)  # a retrain of the same data with another seed: no better beyond noise
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    get_settings.cache_clear()
    try:
        forced = ["train", "--data", folder, "--seed", "1", "--quiet", "--force"]
        assert main([*forced, "  "]) == 2  # a reason is required
        assert main([*forced, "rollback test of the pipeline"]) == 0
    finally:
        get_settings.cache_clear()
    printed = capsys.readouterr().out
    assert "forced (rollback test of the pipeline)" in printed
    assert "not better than the champion beyond noise" in printed  # the rule's own verdict is shown too
    assert champion(uri) == "2"
    client = MlflowClient(uri, uri)
    version = client.get_model_version(MODEL, "2")
    assert version.tags["promotion.forced"] == "rollback test of the pipeline"
    assert version.tags["promotion.decision"] == "forced"
    assert "rollback test of the pipeline" in (version.description or "")
    mlflow.set_tracking_uri(None)


def fewer_persons(dataset: Dataset, persons: int, seed: int) -> Dataset:
    """The same world with the outcomes of only `persons` training persons (a seeded draw); the
    held-out persons keep theirs, so both models are judged on the same persons."""
    outcomes = dataset.outcomes
    assert outcomes is not None
    ids = np.unique(outcomes["candidate_id"].to_numpy())
    training = ids[~held_out_mask(ids)]
    keep = np.random.default_rng(seed).choice(training, size=persons, replace=False)
    held = outcomes["candidate_id"].isin(ids[held_out_mask(ids)]) | outcomes["candidate_id"].isin(keep)
    return replace(dataset, outcomes=outcomes[held].reset_index(drop=True))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [22, 24])  # world 23 also promotes, with a thin margin (+0.0016)
def test_a_model_fitted_on_many_more_persons_replaces_a_champion_fitted_on_few(tmp_path, seed):
    """The champion saw the outcomes of 30 training persons; the challenger those of all (the
    held-out persons' outcomes are in both datasets and in neither model's fit)."""
    folder = tmp_path / "world"
    generate_dataset(folder, 10000, 2000, seed=seed)
    dataset = load_dataset(without_truth(folder))
    uri = str(tmp_path / "mlruns")
    few = log_and_register(train_ranker(fewer_persons(dataset, 30, seed), seed=0), uri)
    assert few.promoted and few.version == "1"
    many = train_ranker(dataset, seed=0)
    registration = log_and_register(many, uri)
    assert registration.outcome is not None
    print("\n".join(registration.lines()))
    assert registration.promoted, registration.message
    assert "beats v1" in registration.message
    assert champion(uri) == "2"
    mlflow.set_tracking_uri(None)
