"""Load and export: idempotent upserts in one transaction, the contract's errors, a round trip."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from sqlalchemy import select

from jobmatch import main
from matching.datasets import TABLES, load_dataset, write_table
from matching.records import DataContractError
from matching.store import contract
from matching.store.contract import export_dataset, load_folder
from matching.store.db import session_scope
from matching.store.models import CONTRACT_MODELS


def snapshot(engine):
    """Every stored contract row, per table, in key order."""
    with session_scope(engine) as session:
        return {
            name: [tuple(row) for row in session.execute(select(CONTRACT_MODELS[name].__table__)).all()]
            for name in TABLES
        }


def table_sizes(dataset):
    return {name: len(getattr(dataset, name)) for name in TABLES}


def copy_with(source, target, name, change):
    """A copy of dataset `source` in `target` with table `name` changed by `change(frame)`."""
    shutil.copytree(source, target)
    frame = pd.read_parquet(target / f"{name}.parquet")
    write_table(change(frame), target, name)
    return target


def test_loading_twice_changes_nothing_the_second_time(engine, store_data):
    sizes = table_sizes(load_dataset(store_data))
    first = load_folder(engine, store_data)
    assert {name: c.inserted for name, c in first.tables.items()} == sizes
    stored = snapshot(engine)
    second = load_folder(engine, store_data)
    assert second.changed == 0
    assert {name: c.unchanged for name, c in second.tables.items()} == sizes
    assert snapshot(engine) == stored


def test_a_changed_row_is_updated_and_a_new_one_inserted(loaded, store_data, tmp_path):
    def change(frame):
        frame.loc[3, "skill_caring"] = 0.123
        extra = frame.iloc[[0]].copy()
        extra["candidate_id"] = "SYN-C999999"
        return pd.concat([frame, extra], ignore_index=True)

    changed = copy_with(store_data, tmp_path / "changed", "candidates", change)
    report = load_folder(loaded, changed)
    counts = report.tables["candidates"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 1, 199)
    assert report.tables["workplaces"].unchanged == 300 and report.tables["outcomes"].updated == 0
    export_dataset(loaded, tmp_path / "out")
    candidates = load_dataset(tmp_path / "out").candidates.set_index("candidate_id")
    expected = load_dataset(changed).candidates.set_index("candidate_id")
    assert candidates.loc[expected.index[3], "skill_caring"] == 0.123
    assert "SYN-C999999" in candidates.index


def test_a_bad_row_rejects_the_whole_load_with_the_contract_message(loaded, store_data, tmp_path):
    def change(frame):
        frame.loc[5, "needs_mentor"] = 3  # out of the contract's 0/1/2
        frame.loc[0, "skill_caring"] = 0.5  # a valid change that must not be written either
        return frame

    bad = copy_with(store_data, tmp_path / "bad", "candidates", change)
    before = snapshot(loaded)
    with pytest.raises(DataContractError) as from_validate:
        load_dataset(bad)
    with pytest.raises(DataContractError) as from_load:
        load_folder(loaded, bad)
    assert str(from_load.value) == str(from_validate.value)
    assert "candidates.needs_mentor row 5: must be one of 0, 1, 2" in str(from_load.value)
    assert snapshot(loaded) == before


def test_a_failure_half_way_leaves_the_store_as_it_was(engine, store_data, monkeypatch):
    real = contract.upsert_table

    def fail_on_audit(session, name, frame):
        if name == "audit":
            raise RuntimeError("disk full")
        return real(session, name, frame)

    monkeypatch.setattr(contract, "upsert_table", fail_on_audit)
    with pytest.raises(RuntimeError, match="disk full"):
        load_folder(engine, store_data)
    assert all(rows == [] for rows in snapshot(engine).values())


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_generate_load_export_round_trip_gives_the_same_fingerprint(engine, tmp_path, fmt):
    from training.synthetic import generate_dataset

    source = tmp_path / "source"
    generate_dataset(source, 200, 300, seed=1, fmt=fmt)
    load_folder(engine, source)
    written = export_dataset(engine, tmp_path / "out", fmt)
    original, exported = load_dataset(source), load_dataset(tmp_path / "out")
    assert written == table_sizes(original)
    assert exported.truth is None
    assert exported.fingerprint() == original.fingerprint()


def test_load_and_export_commands(database_url, store_data, tmp_path, capsys):
    assert main(["db", "upgrade", "--database-url", database_url]) == 0
    assert main(["load", "--data", str(store_data), "--database-url", database_url]) == 0
    assert "candidates: 200 inserted, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert main(["load", "--data", str(store_data), "--database-url", database_url]) == 0
    assert "candidates: 0 inserted, 0 updated, 200 unchanged" in capsys.readouterr().out
    out = tmp_path / "export"
    assert main(["export", "--out", str(out), "--format", "csv", "--database-url", database_url]) == 0
    assert "200 candidates" in capsys.readouterr().out
    assert (out / "candidates.csv").exists() and not (out / "candidates.parquet").exists()


def test_load_command_reports_bad_data_like_validate(database_url, store_data, tmp_path, capsys):
    bad = copy_with(store_data, tmp_path / "bad", "workplaces", lambda f: f.assign(slots=f["slots"] - 1000))
    assert main(["db", "upgrade", "--database-url", database_url]) == 0
    assert (
        main(["load", "--data", str(bad), "--database-url", database_url]) == 1
    )  # invalid data, as `jobmatch validate`
    assert "workplaces.slots row 0: must be >= 0" in capsys.readouterr().err
