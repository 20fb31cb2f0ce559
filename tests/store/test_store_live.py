"""The store is the record, on SQLite and PostgreSQL: every change of a person or a workplace is
logged, so a worker can tell from one read whether its copy is current and read back only what
changed; a load and a live edit both leave their change, and the later wins; the served records
come back from the store as `load_dataset` gives them; erasure leaves no id in the log."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
from sqlalchemy import func, select

from matching.datasets import load_dataset
from matching.store.changes import ChangeSet, changes_since, latest_change, record_changes
from matching.store.contract import load_folder, served_records, upsert_table
from matching.store.db import session_scope
from matching.store.errors import StoreError
from matching.store.models import RecordChange
from matching.store.rights import erase_person, pseudonym

PERSON = "SYN-C000001"
PLACE = "SYN-W000001"
KEY = b"test-pseudonym-key"


def one_row(frame, column, value):
    return frame[frame[column] == value].reset_index(drop=True)


def logged(engine, **where):
    with session_scope(engine, readonly=True) as session:
        statement = select(RecordChange.table_name, RecordChange.record_id, RecordChange.source)
        for name, value in where.items():
            statement = statement.where(getattr(RecordChange, name) == value)
        return [tuple(row) for row in session.execute(statement.order_by(RecordChange.id))]


def test_an_empty_log_is_at_zero_and_changes_come_back_by_table(engine):
    with session_scope(engine) as session:
        assert latest_change(session) == 0
        assert changes_since(session, 0) == ChangeSet(
            latest=0, changed={"candidates": frozenset(), "workplaces": frozenset()}
        )
        first = record_changes(session, "candidates", ["C1", "C2"], "api")
        second = record_changes(session, "workplaces", ["W1"], "slot")
        third = record_changes(session, "candidates", ["C2"], "api")
        assert record_changes(session, "candidates", [], "api") == third  # nothing to log
    assert 0 < first < second < third
    with session_scope(engine, readonly=True) as session:
        assert latest_change(session) == third
        everything = changes_since(session, 0)
        assert everything.latest == third and not everything.reload and not everything.empty
        assert everything.ids("candidates") == {"C1", "C2"} and everything.ids("workplaces") == {"W1"}
        later = changes_since(session, first)
        assert later.ids("candidates") == {"C2"} and later.ids("workplaces") == {"W1"}
        assert changes_since(session, third).empty
        replaced = changes_since(session, third + 100)  # a worker ahead of the log: the store was replaced
        assert replaced.reload == {"candidates", "workplaces"} and replaced.latest == third


def test_the_log_refuses_other_tables_and_an_empty_source(engine):
    with session_scope(engine) as session:
        with pytest.raises(StoreError, match="table"):
            record_changes(session, "outcomes", ["C1"], "load")
        with pytest.raises(StoreError, match="source"):
            record_changes(session, "candidates", ["C1"], " ")
        with pytest.raises(StoreError, match="table"):
            served_records(session, "audit")


def test_a_load_logs_every_inserted_and_updated_person_and_workplace_and_nothing_when_equal(engine, store_data):
    dataset = load_dataset(store_data)
    load_folder(engine, store_data)
    assert len(logged(engine, table_name="candidates", source="load")) == len(dataset.candidates)
    assert len(logged(engine, table_name="workplaces", source="load")) == len(dataset.workplaces)
    with session_scope(engine, readonly=True) as session:
        after_first = latest_change(session)
    load_folder(engine, store_data)  # the same data again: nothing changed, nothing logged
    with session_scope(engine, readonly=True) as session:
        assert latest_change(session) == after_first
        assert changes_since(session, after_first).empty


def test_a_load_after_a_live_edit_logs_both_and_the_later_wins(loaded, store_data):
    candidates = load_dataset(store_data).candidates
    edited = one_row(candidates, "candidate_id", PERSON).assign(desired_hours=12.5, consent=False)
    with session_scope(loaded) as session:
        start = latest_change(session)
        counts = upsert_table(session, "candidates", edited, source="api")
        assert (counts.updated, counts.inserted) == (1, 0)
    with session_scope(loaded, readonly=True) as session:
        seen = changes_since(session, start)
        assert seen.ids("candidates") == {PERSON} and not seen.ids("workplaces")
        row = served_records(session, "candidates", [PERSON]).iloc[0]
        assert (row["desired_hours"], row["consent"]) == (12.5, False)  # the live edit is served
    load_folder(loaded, store_data)  # the upstream file, later: it wins, and both are on record
    assert logged(loaded, record_id=PERSON)[-2:] == [("candidates", PERSON, "api"), ("candidates", PERSON, "load")]
    with session_scope(loaded, readonly=True) as session:
        row = served_records(session, "candidates", [PERSON]).iloc[0]
        original = one_row(candidates, "candidate_id", PERSON).iloc[0]
        assert (row["desired_hours"], row["consent"]) == (original["desired_hours"], original["consent"])
        start = latest_change(session)
    with session_scope(loaded) as session:  # and a live edit after the load wins in its turn
        upsert_table(session, "candidates", edited, source="api")
    with session_scope(loaded, readonly=True) as session:
        assert served_records(session, "candidates", [PERSON]).iloc[0]["desired_hours"] == 12.5
        assert changes_since(session, start).ids("candidates") == {PERSON}


def test_a_new_workplace_through_the_api_is_logged_and_served(loaded, store_data):
    workplaces = load_dataset(store_data).workplaces
    new = one_row(workplaces, "workplace_id", PLACE).assign(workplace_id="SYN-W999999", slots=3)
    with session_scope(loaded) as session:
        start = latest_change(session)
        assert upsert_table(session, "workplaces", new, source="api").inserted == 1
    with session_scope(loaded, readonly=True) as session:
        assert changes_since(session, start).ids("workplaces") == {"SYN-W999999"}
        served = served_records(session, "workplaces", ["SYN-W999999", "SYN-W-UNKNOWN"])
    assert served["workplace_id"].tolist() == ["SYN-W999999"] and served["slots"].tolist() == [3]


def test_served_records_are_the_loaded_dataset_in_contract_order_and_types(loaded, store_data):
    dataset = load_dataset(store_data)
    with session_scope(loaded, readonly=True) as session:
        for table, key in (("candidates", "candidate_id"), ("workplaces", "workplace_id")):
            expected = getattr(dataset, table).sort_values(key).reset_index(drop=True)
            served = served_records(session, table)
            assert list(served.columns) == list(expected.columns)
            assert served.dtypes.to_dict() == expected.dtypes.to_dict()
            pd.testing.assert_frame_equal(served, expected, check_dtype=True)
            some = expected[key].iloc[[3, 1, 7]].tolist()
            part = served_records(session, table, some)
            pd.testing.assert_frame_equal(part, expected[expected[key].isin(some)].reset_index(drop=True))
        assert served_records(session, "candidates", []).empty


def test_many_ids_are_read_in_batches(loaded):
    with session_scope(loaded, readonly=True) as session:
        everyone = served_records(session, "candidates")["candidate_id"].tolist()
        asked = everyone + [f"SYN-X{i:06d}" for i in range(1200)]  # more ids than one IN list takes
        assert served_records(session, "candidates", asked)["candidate_id"].tolist() == everyone


def test_an_erased_person_is_not_served_and_leaves_no_id_in_the_log(loaded):
    with session_scope(loaded) as session:
        start = latest_change(session)
        erase_person(session, PERSON, KEY, "dpo-1", "data_protection_officer", "request of 2025-03-02")
    alias = pseudonym(PERSON, KEY)
    assert logged(loaded, record_id=PERSON) == []  # the load's change of them is gone too
    assert logged(loaded, record_id=alias) == [("candidates", alias, "erasure")]
    with session_scope(loaded, readonly=True) as session:
        seen = changes_since(session, start)
        assert seen.reload == {"candidates"} and seen.latest > start and PERSON not in seen.ids("candidates")
        assert PERSON not in served_records(session, "candidates")["candidate_id"].tolist()
        assert served_records(session, "candidates", [PERSON]).empty


def test_change_ids_are_committed_in_their_order(engine):
    """A second writer waits for the first to commit, so a reader never sees a later change id
    while an earlier one is still to come (a worker would skip it for good)."""
    first_logged, second_done = threading.Event(), threading.Event()
    ids: dict[str, int] = {}

    def second_writer():
        first_logged.wait(10)
        with session_scope(engine) as session:
            ids["second"] = record_changes(session, "workplaces", ["W2"], "api")
        second_done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    with session_scope(engine) as session:
        ids["first"] = record_changes(session, "workplaces", ["W1"], "api")
        first_logged.set()
        time.sleep(0.5)
        assert not second_done.is_set()  # it waits for this transaction
        with session_scope(engine, readonly=True) as reader:
            assert latest_change(reader) == 0  # nothing committed yet, nothing visible
    thread.join(10)
    assert second_done.is_set() and ids["first"] < ids["second"]
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(RecordChange)) == 2
