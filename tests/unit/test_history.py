"""The employer history as of a date: a training row never sees an outcome recorded after it,
serving sees every outcome, and `jobmatch validate` warns when the counts look taken from the
outcomes themselves."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from features.compute import compute_features
from features.history import KNOWN_AFTER_DAYS, NOW, EmployerHistory, PairDates, days_of, history_warnings
from features.pairs import PairFrame
from features.registry import feature_names
from jobmatch import main
from matching.candidates import CandidateTable, WorkplacePool, workplaces_with_history
from matching.datasets import Dataset, load_dataset
from matching.paths import project_root
from training.held_out import held_out_eligible
from training.trainset import PairSet, logged_pairs, stored_pairs

SAMPLE = project_root() / "data" / "sample"  # the SYNTHETIC sample dataset
EMPLOYER = ("employer_hire_rate", "employer_experience")


def day(text: str) -> int:
    return int(days_of(np.array([text]))[0])


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return load_dataset(SAMPLE, with_truth=False)


def training_rows(dataset: Dataset) -> tuple[PairSet, pd.DataFrame]:
    """The logged pairs and, per row, its date (the pair's first suggestion)."""
    candidates, pool = CandidateTable.build(dataset.candidates), WorkplacePool(dataset.workplaces)
    pairs = logged_pairs(dataset, candidates, pool)
    assert dataset.outcomes is not None
    first = dataset.outcomes.groupby(["candidate_id", "workplace_id"])["suggested_on"].min()
    keys = pd.MultiIndex.from_arrays([pairs.candidate_ids, pairs.workplace_ids])
    frame = pd.DataFrame(pairs.matrix, columns=feature_names(), index=keys)
    frame["date"] = first.reindex(keys).to_numpy()
    return pairs, frame


def test_counts_as_of_a_date_take_only_outcomes_known_before_it() -> None:
    # workplace 0 recorded 2 trials and 1 hire; outcomes: a hire on 1 Jan, a trial on 1 Mar, a
    # contact (grade 1, no trial) on 1 Feb
    history = EmployerHistory.of(
        np.array([2.0, 0.0]),
        np.array([1.0, 0.0]),
        w_idx=np.array([0, 0, 0]),
        days=days_of(np.array(["2024-01-01", "2024-03-01", "2024-02-01"])),
        grades=np.array([4, 2, 1]),
    )
    known = KNOWN_AFTER_DAYS
    on = np.array([day("2024-01-01") + known, day("2024-01-01") + known + 1, day("2024-03-01") + known + 1, NOW])
    placements, hires = history.as_of(np.zeros(4, dtype=np.int64), on)
    assert placements.tolist() == [2, 3, 4, 4]  # the hire counts from the day after it is known
    assert hires.tolist() == [1, 2, 2, 2]
    now_placements, now_hires = history.now()
    assert now_placements.tolist() == [4, 0] and now_hires.tolist() == [2, 0]
    other, _ = history.as_of(np.array([1]), np.array([NOW]))
    assert other.tolist() == [0]  # the other workplace's history is its own


def test_counts_as_of_agree_with_counting_one_by_one() -> None:
    rng = np.random.default_rng(3)
    n_w, n = 7, 400
    w, grades = rng.integers(0, n_w, n), rng.integers(0, 5, n)
    days = rng.integers(-400, 400, n)  # dates before 1970 too
    recorded = rng.integers(0, 5, n_w).astype(float)
    history = EmployerHistory.of(recorded, recorded / 2, w, days, grades, known_after_days=10)
    q_w = rng.integers(0, n_w, 300)
    q_days = np.where(rng.random(300) < 0.1, NOW, rng.integers(-450, 450, 300))
    placements, hires = history.as_of(q_w, q_days)
    for i in range(300):
        known = (w == q_w[i]) & ((days + 10 < q_days[i]) | (q_days[i] == NOW))
        assert placements[i] == recorded[q_w[i]] + ((grades >= 2) & known).sum()
        assert hires[i] == recorded[q_w[i]] / 2 + ((grades >= 4) & known).sum()


def test_pair_dates_are_the_first_suggestion_else_the_candidate_s() -> None:
    dates = PairDates.of(
        c_idx=np.array([0, 0, 0]),
        w_idx=np.array([1, 1, 2]),
        days=np.array([30, 10, 20]),
        n_candidates=2,
        n_workplaces=3,
    )
    got = dates.days(np.array([0, 0, 0, 1]), np.array([1, 2, 0, 1]))
    assert got.tolist() == [10, 20, 10, NOW]  # pair's first; pair's; candidate's first; never suggested


def test_a_later_outcome_never_changes_an_earlier_row_and_a_later_row_sees_it(sample: Dataset) -> None:
    assert sample.outcomes is not None
    pairs, before = training_rows(sample)
    # the workplace with the most logged rows, and a day in the middle of them
    busiest = pd.Series(pairs.workplace_ids).value_counts().index[0]
    dates = before.xs(busiest, level=1)["date"].sort_values()
    when = dates.iloc[len(dates) // 3]
    newcomer = next(c for c in sample.candidates["candidate_id"] if c not in set(dates.index))
    later = pd.DataFrame(
        {"candidate_id": [newcomer], "workplace_id": [busiest], "suggested_on": [when], "grade": [4], "reason": [""]}
    )
    added = dataclasses.replace(sample, outcomes=pd.concat([sample.outcomes, later], ignore_index=True))
    _, after = training_rows(added)
    after = after.drop(index=(newcomer, busiest))  # the new outcome's own row
    assert after.index.sort_values().equals(before.index.sort_values())
    after = after.loc[before.index]
    known = when + pd.Timedelta(days=KNOWN_AFTER_DAYS)
    earlier = (before["date"] <= known).to_numpy()
    same = (after[feature_names()].to_numpy() == before[feature_names()].to_numpy()).all(axis=1)
    assert earlier.sum() > 100 and same[earlier].all()
    sees = ~earlier & (before.index.get_level_values(1) == busiest)
    assert sees.sum() >= 1
    for name in EMPLOYER:  # one more trial and one more hire than before
        assert (after.loc[sees, name].to_numpy() > before.loc[sees, name].to_numpy()).all()
    elsewhere = before.index.get_level_values(1) != busiest
    assert same[elsewhere].all()


def test_a_row_never_sees_its_own_outcome(sample: Dataset) -> None:
    # the rows of workplaces with a single outcome hold only their own: whatever its grade, the
    # row's employer features are the recorded counts'
    assert sample.outcomes is not None
    outcomes = sample.outcomes
    alone = outcomes.groupby("workplace_id")["workplace_id"].transform("size") == 1
    flipped = outcomes.copy()
    flipped.loc[alone, "grade"] = 4 - flipped.loc[alone, "grade"]
    pairs, a = training_rows(sample)
    _, b = training_rows(dataclasses.replace(sample, outcomes=flipped))
    b = b.loc[a.index]
    rows = a.index.get_level_values(1).isin(outcomes.loc[alone, "workplace_id"])
    assert rows.sum() > 10 and (a.loc[rows, "date"] <= b.loc[rows, "date"]).all()
    recorded = sample.workplaces.set_index("workplace_id")["past_placements"]
    expected = np.log1p(recorded.reindex(a.index.get_level_values(1)[rows]).to_numpy(dtype=float))
    assert np.allclose(a.loc[rows, "employer_experience"].to_numpy(), expected, atol=1e-6)
    for name in EMPLOYER:
        assert np.array_equal(a.loc[rows, name].to_numpy(), b.loc[rows, name].to_numpy())
    assert not np.array_equal(pairs.grade, training_rows(dataclasses.replace(sample, outcomes=flipped))[0].grade)


def test_held_out_eligible_pairs_see_the_history_of_their_candidate_s_first_day(sample: Dataset) -> None:
    assert sample.outcomes is not None
    candidates, pool = CandidateTable.build(sample.candidates), WorkplacePool(sample.workplaces)
    # one held-out candidate never suggested anything
    silent = held_out_eligible(candidates, pool, exclude_unmet_required=True).candidate_ids[0]
    outcomes = sample.outcomes[sample.outcomes["candidate_id"] != silent].reset_index(drop=True)
    logged_pairs(dataclasses.replace(sample, outcomes=outcomes), candidates, pool)  # as training does
    eligible = held_out_eligible(candidates, pool, exclude_unmet_required=True)
    assert len(eligible) > 0
    j = feature_names().index("employer_experience")
    first = outcomes.groupby("candidate_id")["suggested_on"].min()
    pair_first = outcomes.groupby(["candidate_id", "workplace_id"])["suggested_on"].min()
    keys = pd.MultiIndex.from_arrays([eligible.candidate_ids, eligible.workplace_ids])
    own = pair_first.reindex(keys).to_numpy()
    dates = np.where(pd.isna(own), first.reindex(eligible.candidate_ids).to_numpy(), own)
    suggested = ~pd.isna(dates)
    assert (~pd.isna(own)).any()  # some eligible pairs were suggested: their own first day
    assert suggested.any() and (~suggested).any()
    on = np.where(suggested, days_of(np.where(suggested, dates, np.datetime64("2000-01-01"))), NOW)
    placements, _ = pool.history.as_of(eligible.w_idx, on)
    assert np.allclose(eligible.matrix[:, j], np.log1p(placements), atol=1e-6)
    # a candidate never suggested anything sees the history up to now
    now = np.log1p(pool.arrays["past_placements"][eligible.w_idx])
    assert np.allclose(eligible.matrix[~suggested, j], now[~suggested], atol=1e-6)
    assert (eligible.matrix[suggested, j] < now[suggested] - 1e-6).any()


def test_serving_sees_the_recorded_counts_plus_every_outcome(sample: Dataset) -> None:
    assert sample.outcomes is not None
    pool = WorkplacePool(sample.workplaces, outcomes=sample.outcomes)
    trials = sample.outcomes.loc[sample.outcomes["grade"] >= 2, "workplace_id"].value_counts()
    hires = sample.outcomes.loc[sample.outcomes["grade"] >= 4, "workplace_id"].value_counts()
    ids = sample.workplaces["workplace_id"]
    expected = sample.workplaces["past_placements"] + ids.map(trials).fillna(0)
    assert np.array_equal(pool.arrays["past_placements"], expected.to_numpy(dtype=float))
    assert np.array_equal(
        pool.arrays["past_hires"], (sample.workplaces["past_hires"] + ids.map(hires).fillna(0)).to_numpy(dtype=float)
    )
    records = workplaces_with_history(sample.workplaces, sample.outcomes)
    assert np.array_equal(records["past_placements"].to_numpy(), expected.to_numpy(dtype=np.int64))
    # the shortlist's features (`Matcher.score_pairs` reads the pool's arrays) read that history
    candidates = CandidateTable.build(sample.candidates)
    c_idx, w_idx = pool.generate_pairs(candidates.arrays, np.arange(len(candidates.frame)))
    features = compute_features(PairFrame(candidates.arrays, pool.arrays, c_idx, w_idx, pool.catalogue.vocabulary))
    assert np.allclose(features["employer_experience"], np.log1p(expected.to_numpy(dtype=float)[w_idx]), atol=1e-6)


def test_stored_rows_without_feature_values_are_computed_as_of_their_day(sample: Dataset) -> None:
    candidates, pool = CandidateTable.build(sample.candidates), WorkplacePool(sample.workplaces)
    workplace = str(sample.workplaces["workplace_id"].iloc[0])
    people = sample.candidates["candidate_id"].astype(str).tolist()[:3]
    stored = pd.DataFrame(
        {
            "candidate_id": people,
            "workplace_id": [workplace] * 3,
            "suggested_on": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-12-01"]),
            "grade": [4, 4, 0],
        }
    )
    pairs = stored_pairs(stored, candidates, pool)
    j = feature_names().index("employer_experience")
    recorded = float(sample.workplaces["past_placements"].iloc[0])
    by_candidate = dict(zip(pairs.candidate_ids, pairs.matrix[:, j], strict=True))
    assert by_candidate[people[0]] == pytest.approx(np.log1p(recorded))
    assert by_candidate[people[1]] == pytest.approx(np.log1p(recorded))  # the day after: not known yet
    assert by_candidate[people[2]] == pytest.approx(np.log1p(recorded + 2))  # both hires known by December


def test_validate_warns_when_the_counts_equal_the_outcomes(sample: Dataset, tmp_path, capsys) -> None:
    assert sample.outcomes is not None
    assert history_warnings(sample.workplaces, sample.outcomes) == []
    derived = sample.workplaces.copy()
    outcomes = sample.outcomes
    trials = outcomes.loc[outcomes["grade"] >= 2, "workplace_id"].value_counts()
    hires = outcomes.loc[outcomes["grade"] >= 4, "workplace_id"].value_counts()
    derived["past_placements"] = derived["workplace_id"].map(trials).fillna(0).astype(np.int64)
    derived["past_hires"] = derived["workplace_id"].map(hires).fillna(0).astype(np.int64)
    assert len(history_warnings(derived, outcomes)) == 1
    for name, frame in (("workplaces", derived), ("candidates", sample.candidates), ("outcomes", outcomes)):
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    assert main(["validate", "--data", str(tmp_path), "--json"]) == 0  # a warning, not an error
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] and len(report["warnings"]) == 1 and "count them twice" in report["warnings"][0]
    assert main(["validate", "--data", str(SAMPLE), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []
