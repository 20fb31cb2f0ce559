"""The synthetic generator: contract-valid, seeded, honest about being synthetic, calibrated."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.pairs import haversine_km
from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.datasets import Dataset, load_dataset
from training.synthetic import VARIANTS, generate_dataset

N_CANDIDATES, N_WORKPLACES, SEED = 500, 700, 3
TABLES = ("workplaces", "candidates", "outcomes", "audit")


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    made = {}
    for name, seed, variant in (
        ("standard", SEED, "standard"),
        ("again", SEED, "standard"),
        ("other_seed", SEED + 1, "standard"),
        ("alternative", SEED, "alternative"),
    ):
        folder = tmp_path_factory.mktemp(name)
        generate_dataset(folder, N_CANDIDATES, N_WORKPLACES, seed, variant=variant)
        made[name] = folder
    return made


@pytest.fixture(scope="module")
def standard(folders: dict[str, Path]) -> Dataset:
    return load_dataset(folders["standard"])


def eligible_pairs(dataset: Dataset) -> tuple[pd.DataFrame, pd.Series]:
    """Every eligible pair (ids) and its distance in km."""
    table = CandidateTable.build(dataset.candidates)
    pool = WorkplacePool(dataset.workplaces)
    c_idx, w_idx = pool.generate_pairs(table.arrays, eligible_candidates(dataset.candidates), True)
    pairs = pd.DataFrame(
        {
            "candidate_id": table.frame["candidate_id"].to_numpy()[c_idx],
            "workplace_id": pool.frame["workplace_id"].to_numpy()[w_idx],
        }
    )
    km = haversine_km(
        table.arrays["lat"][c_idx],
        table.arrays["lon"][c_idx],
        pool.arrays["lat"][w_idx],
        pool.arrays["lon"][w_idx],
    )
    return pairs, pd.Series(km, index=pd.MultiIndex.from_frame(pairs))


def keys(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["candidate_id"].astype(str), frame["workplace_id"].astype(str), strict=True))


def test_generated_data_pass_the_contract(standard: Dataset, folders: dict[str, Path]) -> None:
    assert len(standard.workplaces) == N_WORKPLACES and len(standard.candidates) == N_CANDIDATES
    assert standard.outcomes is not None and len(standard.outcomes) > 0
    assert standard.audit is not None and len(standard.audit) == N_CANDIDATES
    assert standard.truth is not None
    assert set(standard.outcomes["grade"]) <= {0, 1, 2, 3, 4}
    assert set(standard.audit["age_band"]) <= {"18-29", "30-39", "40-49", "50-59", "60+"}
    assert set(standard.audit["gender"]) <= {"female", "male", "other"}
    summary = json.loads((folders["standard"] / "SUMMARY.json").read_text(encoding="utf-8"))
    assert summary["n_candidates"] == N_CANDIDATES and summary["outcomes"] == len(standard.outcomes)


@pytest.mark.parametrize("fmt, sizes", [("csv", (30, 50)), ("parquet", (1, 1)), ("parquet", (5, 2000))])
def test_tiny_and_lopsided_sizes_and_csv_pass_the_contract(tmp_path: Path, fmt: str, sizes: tuple[int, int]) -> None:
    messages: list[str] = []
    summary = generate_dataset(tmp_path, *sizes, seed=1, fmt=fmt, progress=messages.append)
    dataset = load_dataset(tmp_path)
    assert len(dataset.candidates) == sizes[0] and len(dataset.workplaces) == sizes[1]
    assert (tmp_path / f"candidates.{fmt}").exists() and (tmp_path / "truth.parquet").exists()
    assert summary["outcomes"] == (0 if dataset.outcomes is None else len(dataset.outcomes))
    assert len(messages) >= 4


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    assert VARIANTS == ("standard", "alternative", "interactions", "thresholds")
    with pytest.raises(ValueError, match="variant"):
        generate_dataset(tmp_path, 10, 10, seed=0, variant="nonsense")
    with pytest.raises(ValueError, match="fmt"):
        generate_dataset(tmp_path, 10, 10, seed=0, fmt="xlsx")


def test_same_seed_gives_identical_files_and_another_seed_differs(folders: dict[str, Path]) -> None:
    a, b, c = folders["standard"], folders["again"], folders["other_seed"]
    for name in (*TABLES, "truth"):
        path = f"{name}.parquet"
        assert (a / path).read_bytes() == (b / path).read_bytes(), name
        pd.testing.assert_frame_equal(pd.read_parquet(a / path), pd.read_parquet(b / path))
    assert (a / "SUMMARY.json").read_text() == (b / "SUMMARY.json").read_text()
    assert load_dataset(a).fingerprint() == load_dataset(b).fingerprint()
    for name in ("workplaces", "candidates", "outcomes"):
        assert not pd.read_parquet(a / f"{name}.parquet").equals(pd.read_parquet(c / f"{name}.parquet")), name


def test_every_id_says_synthetic_and_the_readme_says_so(standard: Dataset, folders: dict[str, Path]) -> None:
    assert standard.outcomes is not None and standard.audit is not None
    prefixes = {
        "SYN-W": standard.workplaces["workplace_id"],
        "SYN-E": standard.workplaces["employer_id"],
        "SYN-C": pd.concat([standard.candidates["candidate_id"], standard.audit["candidate_id"]]),
        "SYN-A": standard.candidates["adviser_id"],
    }
    for prefix, ids in prefixes.items():
        assert ids.astype(str).str.startswith(prefix).all(), prefix
    assert standard.workplaces["employer_id"].nunique() < len(standard.workplaces)  # some own several
    readme = (folders["standard"] / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and f"seed {SEED}" in readme and "standard" in readme


def test_outcomes_name_only_eligible_pairs_and_mostly_near_ones(standard: Dataset) -> None:
    assert standard.outcomes is not None
    pairs, km = eligible_pairs(standard)
    logged = keys(standard.outcomes)
    assert logged <= keys(pairs)
    assert len(logged) == len(standard.outcomes)  # one suggestion per pair
    per_candidate = standard.outcomes.groupby("candidate_id").size()
    assert per_candidate.min() >= 1 and per_candidate.max() <= 10
    index = pd.MultiIndex.from_frame(standard.outcomes[["candidate_id", "workplace_id"]].astype(str))
    logged_km = km.loc[index]
    assert logged_km.median() < 0.8 * km.median()
    # within each person's own reach, suggestions lean to the nearer half
    own_median = km.groupby(level=0).median().reindex(index.get_level_values(0)).to_numpy()
    assert (logged_km.to_numpy() < own_median).mean() > 0.55
    dates = pd.to_datetime(standard.outcomes["suggested_on"])
    assert dates.min() >= pd.Timestamp("2023-01-01") and dates.max() <= pd.Timestamp("2025-12-31")


def test_truth_covers_every_eligible_pair_of_eligible_candidates(standard: Dataset) -> None:
    assert standard.truth is not None
    pairs, _ = eligible_pairs(standard)
    assert len(standard.truth) == len(pairs)
    assert keys(standard.truth) == keys(pairs)
    grade, hired = standard.truth["expected_grade"], standard.truth["p_hired"]
    assert grade.between(0, 4).all() and hired.between(0, 1).all()
    assert (grade >= 4 * hired - 1e-9).all()


def test_calibration_is_plausible(standard: Dataset, folders: dict[str, Path]) -> None:
    assert standard.outcomes is not None and standard.truth is not None
    hire_rate = float((standard.outcomes["grade"] == 4).mean())
    assert 0.06 <= hire_rate <= 0.25
    truth = standard.truth.sort_values("expected_grade", kind="stable")
    decile = len(truth) // 10
    top, bottom = truth["p_hired"].iloc[-decile:].mean(), truth["p_hired"].iloc[:decile].mean()
    assert top > 3 * bottom and top > 0.15
    calibration = json.loads((folders["standard"] / "SUMMARY.json").read_text(encoding="utf-8"))["calibration"]
    assert calibration["logged_hire_rate"] == pytest.approx(hire_rate, abs=1e-4)
    well, weak = calibration["p_hired_well_matched_supported"], calibration["p_hired_weak_match"]
    assert well is not None and weak is not None and well > 2 * weak
    assert calibration["support_rr_all_needs_met_vs_none"] > 1.3


def test_older_age_bands_have_lower_true_hire_probability(standard: Dataset) -> None:
    assert standard.truth is not None and standard.audit is not None
    person = standard.truth.groupby("candidate_id")["p_hired"].mean().rename("p").reset_index()
    person = person.merge(standard.audit, on="candidate_id")
    young = person.loc[person["age_band"].isin(["18-29", "30-39"]), "p"].mean()
    by_band = person.groupby("age_band")["p"].mean()
    assert by_band["60+"] < 0.5 * young
    assert by_band["60+"] < by_band["50-59"] < young


def test_alternative_variant_changes_only_the_truth_and_the_grades(folders: dict[str, Path]) -> None:
    a, b = folders["standard"], folders["alternative"]
    for name in ("workplaces", "candidates", "audit"):
        assert (a / f"{name}.parquet").read_bytes() == (b / f"{name}.parquet").read_bytes(), name
    out_a, out_b = pd.read_parquet(a / "outcomes.parquet"), pd.read_parquet(b / "outcomes.parquet")
    cols = ["candidate_id", "workplace_id", "suggested_on"]
    pd.testing.assert_frame_equal(out_a[cols], out_b[cols])
    assert not out_a["grade"].equals(out_b["grade"])
    truth_a, truth_b = pd.read_parquet(a / "truth.parquet"), pd.read_parquet(b / "truth.parquet")
    pd.testing.assert_frame_equal(truth_a[["candidate_id", "workplace_id"]], truth_b[["candidate_id", "workplace_id"]])
    rho = truth_a["expected_grade"].corr(truth_b["expected_grade"], method="spearman")
    assert 0.2 < rho < 0.9
    # within a candidate's shortlist the order differs too
    ranks_a = truth_a.groupby("candidate_id")["expected_grade"].rank()
    ranks_b = truth_b.groupby("candidate_id")["expected_grade"].rank()
    assert ranks_a.corr(ranks_b) < 0.9
    assert np.isfinite(truth_b["expected_grade"]).all()
    readme = (b / "README.md").read_text(encoding="utf-8")
    assert "alternative" in readme and "SYNTHETIC" in readme
