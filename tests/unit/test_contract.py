"""Contract errors name table, column, row and rule; good data in either format loads the same."""

import pandas as pd
import pytest

from matching.datasets import load_dataset
from matching.records import DataContractError
from tests.contract_data import tiny_tables, write_tiny


def problems_of(folder):
    with pytest.raises(DataContractError) as caught:
        load_dataset(folder)
    return [(p.table, p.column, p.row, p.rule) for p in caught.value.problems]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_valid_dataset_loads_with_contract_types(tmp_path, fmt):
    dataset = load_dataset(write_tiny(tmp_path, fmt))
    assert len(dataset.workplaces) == 3 and len(dataset.candidates) == 2
    assert dataset.candidates["preferred_occupations"].tolist() == [["5223"], []]
    assert dataset.workplaces["offers_mentor"].dtype == bool
    assert dataset.workplaces["slots"].tolist() == [2, 1, 3]


def test_csv_and_parquet_give_the_same_fingerprint(tmp_path):
    a = load_dataset(write_tiny(tmp_path / "a", "csv"))
    b = load_dataset(write_tiny(tmp_path / "b", "parquet"))
    assert a.fingerprint() == b.fingerprint()


def test_every_kind_of_problem_is_listed_with_table_column_row_and_rule(tmp_path):
    tables = tiny_tables()
    w, c, o = tables["workplaces"], tables["candidates"], tables["outcomes"]
    w.loc[1, "occupation_code"] = "0001"
    w.loc[2, "task_caring"] = 1.5
    w.loc[0, "past_hires"] = 9
    c.loc[1, "candidate_id"] = "C1"
    c.loc[0, "preferred_occupations"] = ["9999"]
    c = c.drop(columns=["desired_hours"])
    o.loc[2, "candidate_id"] = "C404"
    found = problems_of(write_tiny(tmp_path, "parquet", workplaces=w, candidates=c, outcomes=o))
    assert ("workplaces", "occupation_code", 1, "unknown occupation code") in found
    assert ("workplaces", "task_caring", 2, "must be <= 1") in found
    assert ("workplaces", "past_hires", 0, "past_hires > past_placements") in found
    assert ("candidates", "candidate_id", 1, "duplicate id") in found
    assert ("candidates", "preferred_occupations", 0, "unknown occupation code") in found
    assert ("candidates", "desired_hours", None, "missing column") in found
    assert ("outcomes", "candidate_id", 2, "names an unknown candidate") in found


def test_bad_values_in_csv_are_named(tmp_path):
    write_tiny(tmp_path, "csv")
    text = (tmp_path / "workplaces.csv").read_text().replace("True", "maybe", 1)
    (tmp_path / "workplaces.csv").write_text(text)
    cands = pd.read_csv(tmp_path / "candidates.csv", dtype=str)
    cands.loc[0, "max_commute_km"] = "far"
    cands.loc[1, "needs_mentor"] = "3"
    cands.to_csv(tmp_path / "candidates.csv", index=False)
    found = problems_of(tmp_path)
    assert any(t == "workplaces" and r == 0 and rule.startswith("not a boolean") for t, _, r, rule in found)
    assert ("candidates", "max_commute_km", 0, "not a number") in found
    assert ("candidates", "needs_mentor", 1, "must be one of 0, 1, 2") in found


def test_missing_tables_and_unreadable_files_are_reported(tmp_path):
    (tmp_path / "workplaces.parquet").write_text("not parquet")
    found = problems_of(tmp_path)
    assert any(t == "workplaces" and rule.startswith("cannot read") for t, _, _, rule in found)
    assert any(t == "candidates" and rule.startswith("missing table") for t, _, _, rule in found)


def test_a_table_in_both_formats_is_ambiguous(tmp_path):
    write_tiny(tmp_path, "csv")
    write_tiny(tmp_path, "parquet")
    found = problems_of(tmp_path)
    assert any("keep one" in rule for *_, rule in found)


def test_commute_must_be_positive_and_hours_within_1_to_40(tmp_path):
    tables = tiny_tables()
    tables["candidates"].loc[0, "max_commute_km"] = 0.0
    tables["workplaces"].loc[0, "hours_per_week"] = 41.0
    found = problems_of(write_tiny(tmp_path, "parquet", **tables))
    assert ("candidates", "max_commute_km", 0, "must be > 0") in found
    assert ("workplaces", "hours_per_week", 0, "must be <= 40") in found


def test_fingerprint_ignores_file_format_and_row_order(tmp_path):
    from training.synthetic import generate_dataset

    generate_dataset(tmp_path / "p", 30, 50, seed=2, fmt="parquet")
    generate_dataset(tmp_path / "c", 30, 50, seed=2, fmt="csv")
    parquet, csv = load_dataset(tmp_path / "p"), load_dataset(tmp_path / "c")
    assert parquet.fingerprint() == csv.fingerprint()
    parquet.outcomes = parquet.outcomes.iloc[::-1]
    assert parquet.fingerprint() == csv.fingerprint()
    parquet.outcomes = parquet.outcomes.iloc[1:]
    assert parquet.fingerprint() != csv.fingerprint()
