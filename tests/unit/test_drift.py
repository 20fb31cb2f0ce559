"""Feature drift: PSI per feature against the reference a model keeps of the pairs it was trained for."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from matching.datasets import load_dataset
from matching.drift import (
    EPSILON,
    bin_counts,
    describe_column,
    drift_report,
    feature_reference,
    psi,
    psi_value,
    verdict,
)
from matching.errors import ModelMismatchError


def reference_of(*columns: np.ndarray) -> dict:
    return feature_reference(np.column_stack(columns), [f"f{j}" for j in range(len(columns))], "test pairs")


def test_psi_is_about_zero_for_the_same_distribution_and_large_for_a_shifted_one():
    rng = np.random.default_rng(0)
    reference = reference_of(rng.normal(size=50_000), rng.uniform(size=50_000))
    same = psi(reference, np.column_stack([rng.normal(size=50_000), rng.uniform(size=50_000)]))
    assert (same["psi"] < 0.01).all() and (same["verdict"] == "stable").all()
    assert same["kind"].tolist() == ["numeric", "numeric"] and same["bins"].tolist() == [10, 10]
    shifted = psi(reference, np.column_stack([rng.normal(1.0, 1.0, size=50_000), rng.uniform(size=50_000)]))
    assert shifted.loc[0, "psi"] > 0.25 and shifted.loc[0, "verdict"] == "drifted"
    assert shifted.loc[1, "verdict"] == "stable"
    slightly = psi(reference, np.column_stack([rng.normal(0.4, 1.0, size=50_000), rng.uniform(size=50_000)]))
    assert slightly.loc[0, "verdict"] == "moderate", slightly


def test_verdict_thresholds_and_a_known_value():
    assert verdict(0.0) == "stable" and verdict(0.0999) == "stable"
    assert verdict(0.1) == "moderate" and verdict(0.2499) == "moderate"
    assert verdict(0.25) == "drifted" and verdict(3.0) == "drifted"
    expected = -0.25 * np.log(0.5) + 0.25 * np.log(1.5)
    assert psi_value(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(expected)
    # an empty bin counts as EPSILON, so the value stays finite; empty on both sides adds nothing
    assert psi_value(np.array([1.0, 0.0, 0.0]), np.array([0.5, 0.5, 0.0])) == pytest.approx(
        -0.5 * np.log(0.5) + (0.5 - EPSILON) * np.log(0.5 / EPSILON)
    )


def test_binary_and_few_valued_features_are_categories():
    rng = np.random.default_rng(1)
    flag = (rng.random(20_000) < 0.3).astype(np.float32)
    slots = rng.integers(1, 6, size=20_000).astype(np.float32)
    constant = np.zeros(20_000, dtype=np.float32)
    reference = reference_of(flag, slots, constant)
    columns = reference["features"]
    assert columns["f0"]["kind"] == "categorical" and columns["f0"]["values"] == [0.0, 1.0]
    assert columns["f0"]["shares"][:2] == pytest.approx([0.7, 0.3], abs=0.02)
    assert columns["f0"]["shares"][2] == 0.0  # values never seen at training
    assert columns["f1"]["values"] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert columns["f2"]["values"] == [0.0]
    json.dumps(reference)  # it goes into the model's JSON metadata

    same = psi(reference, np.column_stack([(rng.random(20_000) < 0.3), slots, constant]))
    assert (same["verdict"] == "stable").all(), same
    flipped = np.column_stack([(rng.random(20_000) < 0.7), np.ones(20_000), np.ones(20_000)])
    drifted = psi(reference, flipped)
    assert (drifted["verdict"] == "drifted").all(), drifted
    # a value never seen at training (the constant flag now 1) falls in the `other` bin
    assert bin_counts(columns["f2"], np.ones(5)).tolist() == [0, 5, 0]


def test_numeric_bins_with_ties_and_missing_values():
    rng = np.random.default_rng(2)
    values = np.where(rng.random(30_000) < 0.6, 0.0, rng.uniform(size=30_000))
    values[:300] = np.nan
    column = describe_column(values)
    assert column["kind"] == "numeric"
    assert column["edges"][0] == 0.0 and len(column["edges"]) == len(set(column["edges"]))
    assert column["shares"][0] == pytest.approx(0.6, abs=0.02)  # the bin (-inf, 0]
    assert column["missing"] == pytest.approx(0.01)
    assert sum(column["shares"]) + column["missing"] == pytest.approx(1.0)
    counts = bin_counts(column, np.array([np.nan, -1.0, 0.0, 1e-9, 2.0]))
    assert counts[-1] == 1 and counts[0] == 2 and counts[-2] == 1 and counts.sum() == 5


def test_the_training_data_itself_is_stable(trained):
    ranker = trained.model.ranker  # loaded from the registry: the reference travels with the model
    reference = ranker.meta["feature_reference"]
    assert list(reference["features"]) == ranker.features
    assert reference["source"].startswith("eligible pairs of the training candidates")
    report = drift_report(trained.dataset, ranker)
    assert not report.sampled and report.pairs > reference["pairs"]
    assert (report.frame["verdict"] == "stable").all(), "\n".join(report.lines())
    assert report.frame["psi"].max() < 0.01
    assert report.drifted == [] and "no feature drifted" in report.lines()[-1]


def test_shifted_candidates_and_workplaces_drift(trained):
    dataset = trained.dataset
    candidates = dataset.candidates.copy()
    skills = [c for c in candidates.columns if c.startswith("skill_")]
    candidates[skills] = (candidates[skills] - 0.25).clip(0.0, 1.0)
    candidates["desired_hours"] = 10.0
    workplaces = dataset.workplaces.copy()
    workplaces["slots"] = 1
    shifted = dataclasses.replace(dataset, candidates=candidates, workplaces=workplaces)
    report = drift_report(shifted, trained.model.ranker)
    lines = "\n".join(report.lines())
    assert set(report.drifted) == {"task_coverage", "task_largest_gap", "logistics_hours_fit", "capacity_slots_left"}, (
        lines
    )
    frame = report.frame.set_index("feature")
    for feature in ("interest_similarity", "logistics_commute_ratio", "employer_hire_rate"):
        assert frame.loc[feature, "verdict"] == "stable", lines
    assert "drifted (PSI >= 0.25): task_coverage" in lines


def test_another_truth_over_the_same_records_shows_no_feature_drift(trained, tmp_path):
    # the `alternative` variant shares the records (same seed): PSI sees covariates, not outcomes
    from training.synthetic import generate_dataset

    generate_dataset(tmp_path, 2000, 3000, seed=7, variant="alternative")
    report = drift_report(load_dataset(tmp_path, with_truth=False), trained.model.ranker)
    assert report.drifted == [] and report.frame["psi"].max() < 0.01


def test_too_many_pairs_are_sampled_by_candidate(trained):
    report = drift_report(trained.dataset, trained.model.ranker, max_pairs=20_000)
    assert report.sampled and 0 < report.pairs <= 20_000
    assert report.candidates < report.eligible_candidates
    assert "random sample" in report.lines()[0]


def test_a_model_without_a_reference_must_be_retrained(trained):
    ranker = trained.model.ranker
    old = dataclasses.replace(ranker, meta={k: v for k, v in ranker.meta.items() if k != "feature_reference"})
    with pytest.raises(ModelMismatchError, match="retrain"):
        drift_report(trained.dataset, old)
