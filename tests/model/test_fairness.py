"""The fairness report: per audit group (age band, gender) of held-out candidates, NDCG@10, the share
with a full shortlist and the expected grade of the top 10, by fairlearn's MetricFrame; ratios to the
best group, flags under 0.8; logged to MLflow and on the model card; none without an audit table."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from matching.candidates import eligible_candidates
from training.fairness import METRICS, THRESHOLD, flag_groups, group_table
from training.lifecycle import model_card
from training.train import train_ranker
from training.trainset import held_out_mask


def held_out_candidates(trained) -> set[str]:
    """Held-out candidates who may get a shortlist, and those with logged held-out pairs."""
    candidates = trained.dataset.candidates.reset_index(drop=True)
    ids = candidates["candidate_id"].to_numpy()
    rows = eligible_candidates(candidates)
    eligible = ids[rows][held_out_mask(ids[rows])]
    return set(eligible) | set(trained.result.held_out.logged.candidate_ids)


def test_the_report_has_every_audit_group_and_the_counts_add_up(trained):
    report = trained.result.fairness
    assert report is not None
    audit = trained.dataset.audit
    held_out = held_out_candidates(trained)
    audited = audit[audit["candidate_id"].isin(held_out)]
    assert report.n_held_out == len(held_out)
    assert report.n_with_audit == len(audited) > 0
    frame = report.frame
    for attribute in ("age_band", "gender"):
        rows = frame[frame["attribute"] == attribute]
        assert set(rows["group"]) == set(audit[attribute]) == set(audited[attribute]), attribute
        assert rows["n_candidates"].sum() == len(audited)
        expected = audited[attribute].value_counts()
        assert dict(zip(rows["group"], rows["n_candidates"], strict=True)) == expected.to_dict()
    assert report.ndcg_protocol == "all_eligible" and report.grade_source == "truth"


def test_ratios_are_to_the_best_group_and_low_ones_are_flagged(trained):
    frame = trained.result.fairness.frame
    for metric in METRICS:
        assert frame[metric].notna().all(), metric
        best = frame.groupby("attribute")[metric].transform("max")
        np.testing.assert_allclose(frame[f"ratio_{metric}"], frame[metric] / best)
        np.testing.assert_allclose(frame.groupby("attribute")[f"ratio_{metric}"].max(), 1.0)
    ratios = frame[[f"ratio_{m}" for m in METRICS]]
    assert (frame["flagged"] == (ratios < THRESHOLD).any(axis=1)).all()
    assert 0 <= frame["full_shortlist_share"].min() and frame["full_shortlist_share"].max() <= 1


def test_the_report_finds_the_generators_age_gap_and_it_is_not_the_ranking(trained):
    # the generator lowers latent readiness in older age bands (60+ most): their expected grades are
    # lower whatever is suggested, while the model orders each person's list as well as anyone's
    frame = trained.result.fairness.frame.set_index(["attribute", "group"])
    oldest = frame.loc[("age_band", "60+")]
    assert oldest["ratio_top10_expected_grade"] < THRESHOLD and oldest["flagged"]
    assert "top10_expected_grade" in oldest["flagged_on"]
    assert (frame["ratio_ndcg_at_10"] > 0.9).all()
    shares = frame.loc["age_band", "top10_of_oracle"]
    assert shares.max() - shares.min() < 0.05
    lines = "\n".join(trained.result.fairness.lines())
    assert "age_band=60+ (top10_expected_grade)" in lines
    assert "\n".join(trained.result.report_lines()).count("Fairness by audit group") == 1


def test_flagging_on_a_constructed_frame():
    frame = pd.DataFrame(
        {
            "attribute": ["a", "a", "a", "b", "b"],
            "group": ["x", "y", "z", "u", "v"],
            "n_candidates": [10, 10, 10, 5, 5],
            "m1": [1.0, 0.79, 0.8, 0.0, 0.0],
            "m2": [0.5, 0.5, 0.25, 2.0, np.nan],
        }
    )
    out = flag_groups(frame, ("m1", "m2"), 0.8).set_index("group")
    assert out.loc["x", "ratio_m1"] == 1.0 and out.loc["y", "ratio_m1"] == pytest.approx(0.79)
    assert out.loc["z", "ratio_m1"] == pytest.approx(0.8) and out.loc["z", "ratio_m2"] == pytest.approx(0.5)
    assert out["flagged"].to_dict() == {"x": False, "y": True, "z": True, "u": False, "v": False}
    assert out.loc["y", "flagged_on"] == "m1" and out.loc["z", "flagged_on"] == "m2"
    # a best value of 0 gives no ratio, a missing value neither; neither is flagged
    assert np.isnan(out.loc["u", "ratio_m1"]) and np.isnan(out.loc["v", "ratio_m2"])
    assert out.loc["u", "ratio_m2"] == 1.0


def test_group_means_ignore_candidates_without_a_value():
    values = pd.DataFrame({"candidate_id": ["c1", "c2", "c3", "c4", "c5"], "m": [1.0, np.nan, 0.5, 0.25, 9.0]})
    audit = pd.DataFrame(
        {"candidate_id": ["c1", "c2", "c3", "c4"], "age_band": ["old", "old", "young", "young"], "gender": "f"}
    )
    table = group_table(values, audit).set_index(["attribute", "group"])
    assert table.loc[("age_band", "old"), "m"] == 1.0 and table.loc[("age_band", "old"), "n_candidates"] == 2
    assert table.loc[("age_band", "young"), "m"] == pytest.approx(0.375)
    # c5 has no audit row: in no group
    assert table.loc[("gender", "f"), "n_candidates"] == 4
    assert table.loc[("gender", "f"), "m"] == pytest.approx(1.75 / 3)


def test_it_is_logged_and_on_the_card_and_in_the_served_model(trained):
    client = MlflowClient(trained.tracking_uri, trained.tracking_uri)
    run = client.get_run(trained.model.run_id)
    for attribute in ("age_band", "gender"):
        for metric in METRICS:
            assert f"fairness.{attribute}.min_ratio.{metric}" in run.data.metrics
    assert run.data.metrics["fairness.age_band.min_ratio.top10_expected_grade"] < THRESHOLD
    artifacts = {a.path for a in client.list_artifacts(trained.model.run_id)}
    assert {"fairness.csv", "model_card.md", "feature_reference.json"} <= artifacts
    card = trained.model.ranker.meta["model_card"]
    assert card == model_card(trained.result)
    for heading in ("Intended use", "Users", "Data", "Metrics against baselines", "Fairness by audit group"):
        assert f"## {heading}" in card
    for words in ("an adviser decides", "screening people out", "age, gender", "all_eligible_by_workplace"):
        assert words in card, words
    assert "| age_band | 60+ |" in card and "**yes**: top10_expected_grade" in card


def test_without_a_truth_file_it_uses_logged_grades(trained):
    dataset = dataclasses.replace(trained.dataset, truth=None)
    result = train_ranker(dataset, seed=0, num_rounds=5, early_stopping=False)
    report = result.fairness
    assert report is not None
    assert report.ndcg_protocol == "logged" and report.grade_source == "logged"
    assert "observed grade of the logged pairs" in "\n".join(report.lines())
    assert "oracle_top10_expected_grade" not in report.frame.columns
    assert report.frame.groupby("attribute")["n_candidates"].sum().eq(report.n_with_audit).all()


def test_no_report_without_an_audit_table(trained):
    dataset = dataclasses.replace(trained.dataset, audit=None)
    result = train_ranker(dataset, seed=0, num_rounds=5, early_stopping=False)
    assert result.fairness is None
    assert "Fairness" not in "\n".join(result.report_lines())
    assert "Not measured: the training data had no `audit` table" in model_card(result, "x", True)
