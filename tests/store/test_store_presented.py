"""Presentations, display names and job specialists, on SQLite and PostgreSQL: a person presented
once stays presented by the first; the name an adviser gives a person and a workplace's job
specialist live only in the store (a load keeps them, an export leaves them out) and a display name
goes with the person's data export and their erasure; revision 0004 upgrades a 0003 database."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from alembic import command
from sqlalchemy import inspect, select

from matching.datasets import load_dataset
from matching.store.changes import changes_since, latest_change
from matching.store.contract import export_dataset, load_folder, served_records
from matching.store.db import session_scope
from matching.store.errors import NotFoundError, StoreError
from matching.store.local_fields import (
    display_names,
    set_display_name,
    set_job_specialist,
    set_tutor_name,
    workplaces_of_specialist,
)
from matching.store.models import Candidate, Presentation
from matching.store.presentations import is_presented, present, presented_to
from matching.store.records import workplace_record
from matching.store.rights import erase_person, person_record
from matching.store.schema import alembic_config, current_revision, head_revision

PERSON, OTHER = "SYN-C000001", "SYN-C000002"
PLACE, ELSEWHERE = "SYN-W000001", "SYN-W000002"
KEY = b"test-pseudonym-key"
T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_presenting_twice_keeps_the_first(loaded):
    with session_scope(loaded) as session:
        assert not is_presented(session, PERSON, PLACE)
        first = present(session, PERSON, PLACE, "specialist-3", T0)
        again = present(session, PERSON, PLACE, "adviser-7", T0 + dt.timedelta(days=1))
        present(session, OTHER, PLACE, "adviser-7", T0 + dt.timedelta(hours=1))
        present(session, PERSON, ELSEWHERE, "adviser-7", T0)
    assert again == first and (first.presented_by, first.presented_at) == ("specialist-3", T0)
    with session_scope(loaded, readonly=True) as session:
        assert is_presented(session, PERSON, PLACE) and not is_presented(session, OTHER, ELSEWHERE)
        assert presented_to(session, PLACE) == [PERSON, OTHER]
        assert presented_to(session, "SYN-W000003") == []
        assert len(session.scalars(select(Presentation).where(Presentation.candidate_id == PERSON)).all()) == 2


def test_presenting_needs_a_known_person_workplace_and_presenter(loaded):
    with session_scope(loaded) as session:
        with pytest.raises(NotFoundError, match="candidate_id"):
            present(session, "SYN-C999999", PLACE, "adviser-7")
        with pytest.raises(NotFoundError, match="workplace_id"):
            present(session, PERSON, "SYN-W-UNKNOWN", "adviser-7")
        with pytest.raises(StoreError, match="by"):
            present(session, PERSON, PLACE, "  ")
        assert presented_to(session, PLACE) == []


def test_a_display_name_is_stripped_checked_logged_and_cleared(loaded):
    with session_scope(loaded) as session:
        start = latest_change(session)
        assert set_display_name(session, PERSON, "  Kari Nordmann ") == "Kari Nordmann"
        assert set_display_name(session, OTHER, "Ola") == "Ola"
        assert changes_since(session, start).ids("candidates") == {PERSON, OTHER}
        assert display_names(session, [PERSON, OTHER, "SYN-C000003", "SYN-C999999"]) == {
            PERSON: "Kari Nordmann",
            OTHER: "Ola",
        }
        unchanged = latest_change(session)
        set_display_name(session, PERSON, "Kari Nordmann")  # the same name again logs nothing
        assert latest_change(session) == unchanged
        with pytest.raises(StoreError, match="display_name"):
            set_display_name(session, PERSON, "x" * 101)
        assert set_display_name(session, PERSON, "y" * 100) == "y" * 100
        assert set_display_name(session, OTHER, "   ") is None
        assert set_display_name(session, PERSON, None) is None
        assert display_names(session, [PERSON, OTHER]) == {}
        with pytest.raises(NotFoundError, match="candidate_id"):
            set_display_name(session, "SYN-C999999", "Nobody")


def test_store_only_fields_survive_a_load_and_stay_out_of_exports(loaded, store_data, tmp_path):
    with session_scope(loaded) as session:
        set_display_name(session, PERSON, "Kari Nordmann")
        set_job_specialist(session, PLACE, "specialist-3")
    changed = load_dataset(store_data)
    changed.candidates.loc[changed.candidates["candidate_id"] == PERSON, "desired_hours"] = 11.0
    changed.workplaces.loc[changed.workplaces["workplace_id"] == PLACE, "slots"] = 7
    folder = tmp_path / "changed"
    folder.mkdir()
    for name in ("workplaces", "candidates"):
        getattr(changed, name).to_parquet(folder / f"{name}.parquet", index=False)
    load_folder(loaded, folder)  # the file changes both rows: the store-only fields stay
    with session_scope(loaded, readonly=True) as session:
        assert display_names(session, [PERSON]) == {PERSON: "Kari Nordmann"}
        assert workplaces_of_specialist(session, "specialist-3") == [PLACE]
        assert served_records(session, "candidates", [PERSON])["desired_hours"].tolist() == [11.0]
        assert "display_name" not in served_records(session, "candidates").columns
        assert "job_specialist_id" not in served_records(session, "workplaces").columns
    export_dataset(loaded, tmp_path / "out")
    exported = load_dataset(tmp_path / "out")  # the contract's own validation passes
    assert "display_name" not in exported.candidates.columns
    assert "job_specialist_id" not in exported.workplaces.columns
    assert "Kari Nordmann" not in exported.candidates.to_string()


def test_a_job_specialist_works_with_the_workplaces_set_for_them(loaded):
    with session_scope(loaded) as session:
        start = latest_change(session)
        assert set_job_specialist(session, ELSEWHERE, " specialist-3 ") == "specialist-3"
        set_job_specialist(session, PLACE, "specialist-3")
        set_job_specialist(session, "SYN-W000003", "specialist-4")
        assert changes_since(session, start).ids("workplaces") == {PLACE, ELSEWHERE, "SYN-W000003"}
        assert workplaces_of_specialist(session, "specialist-3") == [PLACE, ELSEWHERE]
        assert set_job_specialist(session, PLACE, None) is None
        assert workplaces_of_specialist(session, "specialist-3") == [ELSEWHERE]
        assert workplaces_of_specialist(session, "nobody") == []
        with pytest.raises(NotFoundError, match="workplace_id"):
            set_job_specialist(session, "SYN-W-UNKNOWN", "specialist-3")


def test_the_persons_export_holds_name_and_presentations_and_erasure_removes_them(loaded):
    with session_scope(loaded) as session:
        set_display_name(session, PERSON, "Kari Zqalpha")
        present(session, PERSON, PLACE, "specialist-3", T0)
        present(session, OTHER, PLACE, "specialist-3", T0)
        record = person_record(session, PERSON)
    json.dumps(record)
    assert record["candidate"]["display_name"] == "Kari Zqalpha"
    assert [(p["workplace_id"], p["presented_by"]) for p in record["presentations"]] == [(PLACE, "specialist-3")]
    assert record["presentations"][0]["presented_at"] == T0.isoformat()
    with session_scope(loaded) as session:
        report = erase_person(session, PERSON, KEY, "dpo-1", "data_protection_officer", "request of 2025-03-02")
    assert report.deleted["presentations"] == 1
    with session_scope(loaded, readonly=True) as session:
        assert presented_to(session, PLACE) == [OTHER]
        assert display_names(session, [PERSON]) == {}
        assert session.scalar(select(Candidate).where(Candidate.display_name == "Kari Zqalpha")) is None


def test_revision_0004_upgrades_a_0003_database_with_its_records(loaded, store_data):
    def migrate(step, target):
        with loaded.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            step(config, target)
            return current_revision(connection)

    with session_scope(loaded) as session:
        before = served_records(session, "candidates"), served_records(session, "workplaces")
    assert migrate(command.downgrade, "0003") == "0003"
    inspector = inspect(loaded)
    assert not {"record_changes", "presentations"} & set(inspector.get_table_names())
    assert "display_name" not in {c["name"] for c in inspector.get_columns("candidates")}
    assert "job_specialist_id" not in {c["name"] for c in inspector.get_columns("workplaces")}

    assert migrate(command.upgrade, "0004") == "0004"
    with session_scope(loaded) as session:
        after = served_records(session, "candidates"), served_records(session, "workplaces")
        assert latest_change(session) == 0  # a fresh log: workers start from a full read
        assert display_names(session, [PERSON]) == {} and workplaces_of_specialist(session, "s") == []
        set_display_name(session, PERSON, "Kari")
        assert changes_since(session, 0).ids("candidates") == {PERSON}
    for old, new in zip(before, after, strict=True):
        assert old.equals(new)
    assert migrate(command.upgrade, "head") == head_revision()  # and on to the newest (0006: the tutor)
    with session_scope(loaded) as session:  # the ORM's workplace is the newest revision's
        set_job_specialist(session, PLACE, "specialist-3")
        set_tutor_name(session, PLACE, "Ola")
        present(session, PERSON, PLACE, "specialist-3")
    load_folder(loaded, store_data)  # loads work on the upgraded store and keep the new fields
    with session_scope(loaded, readonly=True) as session:
        assert display_names(session, [PERSON]) == {PERSON: "Kari"} and is_presented(session, PERSON, PLACE)
        assert workplaces_of_specialist(session, "specialist-3") == [PLACE]
        assert (workplace_record(session, PLACE) or {})["tutor_name"] == "Ola"
