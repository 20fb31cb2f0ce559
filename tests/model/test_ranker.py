"""The trained ranker beats its baselines and behaves as advisers rely on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.model import pair_records, score_pair_records
from matching.records import load_catalogue
from matching.shortlist import Matcher


def test_model_beats_every_baseline_and_nears_the_oracle(trained):
    """Over every eligible workplace of held-out candidates (gains: true expected grade), on
    2,000 x 3,000 generated data: at least 0.9 of the oracle and above every baseline. On the
    logged pairs, where a gain is one noisy draw of the outcome, it must at least beat random."""
    evaluation = trained.result.evaluation
    model = evaluation.value("all_eligible", "model")
    assert model >= 0.9 * evaluation.value("all_eligible", "oracle"), evaluation.table()
    for baseline in ("random", "rule", "logistic"):
        assert model > evaluation.value("all_eligible", baseline), (baseline, evaluation.table())
    assert evaluation.value("logged", "model") > evaluation.value("logged", "random") + 0.01


def test_the_pipeline_learns_a_different_ground_truth(tmp_path):
    """Trained on data drawn from another ground truth (interests and hours first, commute as a
    threshold, the employer's record weighing more), the model still clearly beats the baselines,
    including the hand-set rule whose weights suit the standard truth."""
    from training.synthetic import generate_dataset
    from training.train import train_ranker

    generate_dataset(tmp_path, 2000, 3000, seed=8, variant="alternative")
    evaluation = train_ranker(tmp_path, seed=0).evaluation
    model = evaluation.value("all_eligible", "model")
    for baseline in ("random", "rule", "logistic"):
        assert model > evaluation.value("all_eligible", baseline) + 0.01, (baseline, evaluation.table())


def test_no_candidate_is_both_trained_on_and_held_out(trained):
    from training.trainset import held_out_mask

    ids = trained.dataset.outcomes["candidate_id"].to_numpy()
    held = held_out_mask(ids)
    assert set(ids[held]).isdisjoint(set(ids[~held]))
    assert 0.1 < held.mean() < 0.3


def sample_records(trained, n=300):
    dataset = trained.dataset
    rng = np.random.default_rng(3)
    c = rng.integers(0, len(dataset.candidates), n)
    w = rng.integers(0, len(dataset.workplaces), n)
    return pair_records(dataset.candidates, dataset.workplaces, c, w)


def test_identifiers_and_audit_columns_never_change_a_score(trained):
    ranker = trained.model.ranker
    records = sample_records(trained)
    before = score_pair_records(ranker, records)
    changed = records.copy()
    changed["candidate_id"] = [f"other-{i}" for i in range(len(changed))]
    changed["workplace_id"] = "same-id-everywhere"
    changed["employer_id"] = "E"
    changed["adviser_id"] = "someone-else"
    changed["age_band"] = "60+"
    changed["gender"] = "female"
    np.testing.assert_array_equal(before, score_pair_records(ranker, changed))


def test_more_skill_never_lowers_a_score(trained):
    ranker = trained.model.ranker
    records = sample_records(trained)
    before = score_pair_records(ranker, records)
    for activity in load_catalogue().vocabulary.activities:
        raised = records.copy()
        raised[f"skill_{activity}"] = np.minimum(raised[f"skill_{activity}"] + 0.3, 1.0)
        assert (score_pair_records(ranker, raised) >= before - 1e-12).all(), activity


def test_an_unmet_required_need_only_the_workplace_could_give_is_never_shortlisted(trained):
    dataset = trained.dataset
    candidates = CandidateTable.build(dataset.candidates)
    pool = WorkplacePool(dataset.workplaces)
    matcher = Matcher(trained.model.ranker, candidates, pool, exclude_unmet_required=True)
    rows = eligible_candidates(candidates.frame)
    required = candidates.arrays["needs"][rows] >= 2
    rows = rows[required.any(axis=1)][:40]
    assert len(rows) > 10
    for row in rows:
        for item in matcher.shortlist(int(row), 10).items:
            required = [n for n in item["explanation"]["support_needs_unmet"] if n["need"] == "required"]
            assert all(n["arranged_by"] == "support_system" and n["scheme"] for n in required), required
            assert item["features"]["support_required_unmet"] == len(required)


def test_the_pyfunc_scores_raw_records_like_the_ranker(trained):
    import mlflow

    from matching.tracking import configure_tracking

    configure_tracking(trained.tracking_uri)
    pyfunc = mlflow.pyfunc.load_model("models:/jobmatch-ranker@champion")
    records = sample_records(trained, 50)
    out = pyfunc.predict(records)
    np.testing.assert_allclose(out["score"].to_numpy(), score_pair_records(trained.model.ranker, records))
    assert isinstance(out, pd.DataFrame)
