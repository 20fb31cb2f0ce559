"""The person's rights in the store, on SQLite and PostgreSQL: everything held about a person comes
out in one record; erasure deletes it all in one transaction, leaves only pseudonymised audit
entries, and a register that keeps the person out of later loads; audit retention purges old
entries (a dry run deletes nothing)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Text, cast, func, or_, select

from jobmatch import main
from matching.datasets import load_dataset
from matching.settings import MIN_AUDIT_RETENTION_DAYS, Settings, get_settings, key_id
from matching.store.audit import apply_audit_retention, query_audit, record_audit
from matching.store.contract import load_folder, upsert_table
from matching.store.db import session_scope
from matching.store.decisions import record_decision, record_person_answer
from matching.store.errors import NotFoundError, StoreError
from matching.store.followups import record_followup, schedule_followups
from matching.store.models import AuditEvent, Base, Candidate, Erasure, Outcome
from matching.store.placements import append_event, open_placement
from matching.store.plans import add_plan_revision, approve_plan, create_plan
from matching.store.rights import (
    ERASED_DETAIL_KEYS,
    erase_person,
    erased_among,
    is_erased,
    person_record,
    pseudonym,
    subject_hash,
)
from matching.store.shortlists import get_shortlist, latest_shortlist, save_shortlist

PERSON = "SYN-C000001"
OTHER = "SYN-C000002"
KEY = b"test-pseudonym-key"
MARK = {PERSON: "zqalpha", OTHER: "zqbeta"}  # in each person's free text, to find it again
T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def items(n):
    return [
        {
            "rank": rank,
            "workplace_id": f"SYN-W{rank:06d}",
            "employer_id": "SYN-E00001",
            "occupation_code": "5223",
            "distance_km": 2.5 * rank,
            "score": 1.0 - rank / 10,
            "explanation": {"speaks_for": [{"feature": "task_coverage", "sentence": "x", "contribution": 0.2}]},
            "features": {"task_coverage": 0.9 - rank / 10, "logistics_hours_fit": 1.0},
        }
        for rank in range(1, n + 1)
    ]


def record_everything(engine, candidate=PERSON, at=T0):
    """A shortlist, answers, decisions, a plan with two revisions and three approvals, a placement
    with an event and a done follow-up, and audit entries: what the review loop records."""
    mark = MARK[candidate]
    with session_scope(engine) as session:
        shortlist_id = save_shortlist(session, candidate, "adviser-7", "jobmatch-ranker", "3", 2, items(2), at)
        first, second = get_shortlist(session, shortlist_id).item_ids
        record_person_answer(session, first, "interested", "adviser-7", at)
        record_decision(session, first, "accept", "adviser-7", decided_at=at)
        record_decision(session, second, "reject", "adviser-7", "other", f"hates early mornings {mark}", at)
        draft = {"candidate_id": candidate, "tutor_name": f"Kari {mark}", "needs_outside_work": f"housing {mark}"}
        plan_id = create_plan(session, candidate, "SYN-W000001", first, draft, "adviser-7", at)
        add_plan_revision(session, plan_id, {**draft, "hours_per_week": 20}, "adviser-7", at)
        for party in ("person", "employer", "adviser"):
            approve_plan(session, plan_id, 2, party, f"{party}-signature", at)
        placement_id = open_placement(session, plan_id, created_at=at)
        payload = {"reason_text": f"phoned {mark}"}
        append_event(session, placement_id, "contacted", None, payload, "adviser-7", "contacted")
        schedule_followups(session, placement_id, [{"due_on": "2025-03-08", "party": "person"}])
        note = f"doing well {mark}"
        record_followup(
            session, placement_id=placement_id, party="person", due_on="2025-03-08", by="adviser-7", note=note
        )
        subject = {"shortlist_id": shortlist_id, "decisions": [[2, "reject", "other"]], "items": 2}
        record_audit(session, "adviser-7", "adviser", "decide", "candidate", candidate, subject, at)
        record_audit(session, "adviser-7", "adviser", "note", "shortlist", shortlist_id, {"candidate_id": candidate})
    return shortlist_id, plan_id, placement_id


def rows_naming(engine, text):
    """Table -> rows with `text` in any column (every column cast to text), over the whole schema."""
    found = {}
    with session_scope(engine, readonly=True) as session:
        for table in Base.metadata.sorted_tables:
            condition = or_(*[cast(column, Text).contains(text, autoescape=True) for column in table.c])
            count = session.scalar(select(func.count()).select_from(table).where(condition))
            if count:
                found[table.name] = count
    return found


def test_the_record_of_a_person_holds_everything_stored_about_them_and_nobody_else(loaded):
    shortlist_id, plan_id, placement_id = record_everything(loaded)
    record_everything(loaded, OTHER)
    with session_scope(loaded) as session:
        record = person_record(session, PERSON)
        with pytest.raises(NotFoundError, match="candidate_id"):
            person_record(session, "SYN-C999999")
    json.dumps(record)  # JSON-ready as it is
    assert record["candidate"]["candidate_id"] == PERSON and "needs_mentor" in record["candidate"]
    assert record["fairness_audit"]["candidate_id"] == PERSON and "gender" in record["fairness_audit"]
    assert record["outcomes"] and all(o["candidate_id"] == PERSON for o in record["outcomes"])
    (shortlist,) = record["shortlists"]
    assert shortlist["id"] == shortlist_id and [i["rank"] for i in shortlist["items"]] == [1, 2]
    first, second = shortlist["items"]
    assert first["features"]["task_coverage"] == pytest.approx(0.8) and first["explanation"]["speaks_for"]
    assert [a["answer"] for a in first["answers"]] == ["interested"]
    assert second["decisions"][0]["reason_text"] == "hates early mornings zqalpha"
    (plan,) = record["plans"]
    assert plan["id"] == plan_id and [r["number"] for r in plan["revisions"]] == [1, 2]
    assert len(plan["approvals"]) == 3
    (placement,) = record["placements"]
    assert placement["id"] == placement_id and placement["events"][0]["payload"]["reason_text"] == "phoned zqalpha"
    assert placement["followups"][0]["note"] == "doing well zqalpha"
    assert plan["revisions"][1]["body"]["tutor_name"] == "Kari zqalpha"
    assert {e["action"] for e in record["audit_trail"]} == {"decide", "note"}
    assert OTHER not in json.dumps(record) and "zqbeta" not in json.dumps(record)


def test_latest_shortlist_is_the_newest_or_none(loaded):
    with session_scope(loaded) as session:
        assert latest_shortlist(session, PERSON) is None
        older = save_shortlist(session, PERSON, "a", "m", "1", 1, items(1), T0)
        newer = save_shortlist(session, PERSON, "a", "m", "2", 1, items(1), T0 + dt.timedelta(days=1))
        save_shortlist(session, OTHER, "a", "m", "3", 1, items(1), T0 + dt.timedelta(days=2))
        assert latest_shortlist(session, PERSON).id == newer != older


def test_erasure_deletes_every_record_of_the_person_and_pseudonymises_the_audit_trail(loaded):
    record_everything(loaded)
    record_everything(loaded, OTHER)
    before_other = rows_naming(loaded, OTHER)
    with session_scope(loaded) as session:
        report = erase_person(session, PERSON, KEY, "dpo-1", "data_protection_officer", "request of 2025-03-02")
    alias = pseudonym(PERSON, KEY)
    assert report.pseudonym == alias and alias.startswith("erased:") and PERSON not in alias
    assert report.deleted["candidates"] == 1 and report.deleted["shortlist_items"] == 2
    for table in ("decisions", "person_answers", "plan_revisions", "plan_approvals", "placements", "followups"):
        assert report.deleted[table] >= 1, table
    assert report.deleted["outcomes"] >= 1 and report.deleted["audit"] == 1 and report.audit_pseudonymised == 2

    assert rows_naming(loaded, PERSON) == {}  # not in any column of any table
    assert rows_naming(loaded, "zqalpha") == {}  # nor their free text (decisions, plans, events, notes)
    assert set(rows_naming(loaded, "zqbeta")) == {"decisions", "plan_revisions", "placement_events", "followups"}
    assert rows_naming(loaded, OTHER) == before_other  # nobody else's records changed
    with session_scope(loaded) as session:
        assert session.get(Candidate, PERSON) is None
        with pytest.raises(NotFoundError):
            person_record(session, PERSON)
        about = query_audit(session, subject_id=alias)
        note = query_audit(session, subject_type="shortlist")
        (erasure,) = session.scalars(select(Erasure)).all()
    assert [e.action for e in about] == ["decide", "erase_person"]
    assert set(about[0].detail) <= ERASED_DETAIL_KEYS and "decisions" not in about[0].detail
    assert about[1].actor == "dpo-1" and about[1].detail["erasure_id"] == erasure.id
    assert {e.detail["candidate_id"] for e in note} == {alias, OTHER}
    assert erasure.subject_hash == subject_hash(PERSON, KEY) and erasure.key_id == key_id(KEY)
    assert (erasure.erased_by, erasure.reason) == ("dpo-1", "request of 2025-03-02")


def test_erasure_refuses_unknown_already_erased_and_unexplained(loaded):
    with pytest.raises(NotFoundError, match="candidate_id"), session_scope(loaded) as session:
        erase_person(session, "SYN-C999999", KEY, "dpo-1", "dpo", "asked")
    with pytest.raises(StoreError, match="^reason: "), session_scope(loaded) as session:
        erase_person(session, PERSON, KEY, "dpo-1", "dpo", "  ")
    with session_scope(loaded) as session:
        assert session.get(Candidate, PERSON) is not None  # nothing happened
        erase_person(session, PERSON, KEY, "dpo-1", "dpo", "asked")
    with pytest.raises(StoreError, match="already erased") as caught, session_scope(loaded) as session:
        erase_person(session, PERSON, KEY, "dpo-1", "dpo", "asked")
    assert caught.value.field == "candidate_id"
    with pytest.raises(StoreError, match="pseudonym key") as caught, session_scope(loaded) as session:
        erase_person(session, OTHER, b"another key", "dpo-1", "dpo", "asked")
    assert caught.value.field == "pseudonym_key"


def test_a_failed_erasure_changes_nothing(loaded, monkeypatch):
    record_everything(loaded)
    before = rows_naming(loaded, PERSON)
    import matching.store.rights as repository

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(repository, "record_audit", broken)
    with pytest.raises(RuntimeError), session_scope(loaded) as session:
        erase_person(session, PERSON, KEY, "dpo-1", "dpo", "asked")
    assert rows_naming(loaded, PERSON) == before
    with session_scope(loaded) as session:
        assert session.scalar(select(func.count()).select_from(Erasure)) == 0


def test_reloading_the_same_data_does_not_bring_an_erased_person_back(loaded, store_data):
    with session_scope(loaded) as session:
        erase_person(session, PERSON, KEY, "dpo-1", "dpo", "asked")
        assert is_erased(session, PERSON, KEY) and not is_erased(session, OTHER, KEY)
        assert erased_among(session, [PERSON, OTHER, "x"], KEY) == {PERSON}
    report = load_folder(loaded, store_data, pseudonym_key=KEY)
    assert report.erased_ids == {PERSON}
    assert report.tables["candidates"].skipped_erased == 1 and report.tables["candidates"].inserted == 0
    assert report.tables["outcomes"].skipped_erased >= 1 and report.tables["audit"].skipped_erased == 1
    assert "1 skipped (erased persons)" in report.lines()[1]
    assert rows_naming(loaded, PERSON) == {}
    with session_scope(loaded) as session:  # nor does an upsert of the person's record
        frame = load_dataset(store_data).candidates
        counts = upsert_table(session, "candidates", frame[frame["candidate_id"] == PERSON], KEY)
        assert (counts.inserted, counts.skipped_erased) == (0, 1)
        assert session.scalar(select(func.count()).select_from(Outcome).where(Outcome.candidate_id == PERSON)) == 0


def test_a_load_with_another_or_no_key_fails_and_writes_nothing(loaded, store_data, monkeypatch, tmp_path):
    with session_scope(loaded) as session:
        erase_person(session, PERSON, KEY, "dpo-1", "dpo", "asked")
        session.get(Candidate, OTHER).desired_hours = 39.0  # a load would set it back
    with pytest.raises(StoreError, match="written with pseudonym key") as caught:
        load_folder(loaded, store_data, pseudonym_key=b"a lost key's successor")
    assert caught.value.field == "pseudonym_key"
    monkeypatch.delenv("JOBMATCH_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("JOBMATCH_PSEUDONYM_KEY_FILE", str(tmp_path / "missing.key"))
    get_settings.cache_clear()
    try:
        with pytest.raises(StoreError, match="no pseudonym key is set"):
            load_folder(loaded, store_data)
        monkeypatch.setenv("JOBMATCH_PSEUDONYM_KEY", KEY.decode())
        get_settings.cache_clear()
        with session_scope(loaded) as session:
            assert session.get(Candidate, OTHER).desired_hours == 39.0  # the failed loads wrote nothing
        assert load_folder(loaded, store_data).erased_ids == {PERSON}  # the settings' key by default
        with session_scope(loaded) as session:
            frame = load_dataset(store_data).candidates.set_index("candidate_id")
            assert session.get(Candidate, OTHER).desired_hours == frame.loc[OTHER, "desired_hours"] != 39.0
    finally:
        get_settings.cache_clear()
    assert rows_naming(loaded, PERSON) == {}


def audit_at(engine, *ages_in_days, now):
    with session_scope(engine) as session:
        return [
            record_audit(session, "adviser-7", "adviser", "read", "candidate", PERSON, at=now - dt.timedelta(days=d))
            for d in ages_in_days
        ]


def test_retention_purges_entries_older_than_the_period_and_records_that_it_ran(engine):
    now = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    old, edge, recent = audit_at(engine, 400, 183, 10, now=now)
    older = audit_at(engine, 184, now=now)
    with session_scope(engine) as session:
        dry = apply_audit_retention(session, 183, "cli:ops", "cli", now=now, dry_run=True)
    assert (dry.entries, dry.dry_run, dry.cutoff) == (2, True, now - dt.timedelta(days=183))
    with session_scope(engine) as session:
        assert [e.id for e in query_audit(session)] == [old, *older, edge, recent]  # a dry run deletes nothing
    with session_scope(engine) as session:
        done = apply_audit_retention(session, 183, "cli:ops", "cli", now=now)
    assert done.entries == 2 and not done.dry_run
    with session_scope(engine) as session:
        left = query_audit(session)
    assert [e.id for e in left[:2]] == [edge, recent]
    assert (left[2].action, left[2].actor, left[2].detail["deleted"], left[2].at) == ("purge_audit", "cli:ops", 2, now)


def test_retention_keeps_the_standing_scoring_switch(engine):
    # the model was switched off (then on, then off again) long ago: the latest switch is state, not history
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with session_scope(engine) as session:
        switches = [
            record_audit(session, "ds", "data_scientist", action, "service", "scoring", {"reason": "review"}, at=at)
            for action, at in (
                ("scoring_off", now - dt.timedelta(days=500)),
                ("scoring_on", now - dt.timedelta(days=450)),
                ("scoring_off", now - dt.timedelta(days=400)),
            )
        ]
    with session_scope(engine) as session:
        assert apply_audit_retention(session, 183, "cli:ops", "cli", now=now, dry_run=True).entries == 2
        assert apply_audit_retention(session, 183, "cli:ops", "cli", now=now).entries == 2
    with session_scope(engine) as session:
        left = [e.id for e in query_audit(session) if e.subject_type == "service"]
    assert left == [switches[-1]]


def test_retention_under_six_months_needs_an_explicit_override(engine, monkeypatch):
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    audit_at(engine, 40, 10, now=now)
    with pytest.raises(StoreError, match="six months") as caught, session_scope(engine) as session:
        apply_audit_retention(session, 30, "ops", "cli", now=now)
    assert caught.value.field == "retention_days"
    with session_scope(engine) as session:
        assert apply_audit_retention(session, 30, "ops", "cli", now=now, allow_short=True).entries == 1
    assert Settings().audit_retention_days == MIN_AUDIT_RETENTION_DAYS == 183
    monkeypatch.setenv("JOBMATCH_AUDIT_RETENTION_DAYS", "30")
    with pytest.raises(ValueError, match="shorter than the minimum of 183 days"):
        Settings()
    assert Settings(allow_short_audit_retention=True).audit_retention_days == 30
    monkeypatch.setenv("JOBMATCH_AUDIT_RETENTION_DAYS", "400")
    assert Settings().audit_retention_days == 400


def test_the_commands_export_erase_and_purge(loaded, database_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JOBMATCH_PSEUDONYM_KEY", KEY.decode())
    get_settings.cache_clear()
    try:
        record_everything(loaded)
        out = tmp_path / "person.json"
        args = ["--candidate-id", PERSON, "--database-url", database_url]
        assert main(["export-person", *args, "--out", str(out), "--actor", "dpo-cli"]) == 0
        exported = json.loads(out.read_text(encoding="utf-8"))
        assert exported["candidate"]["candidate_id"] == PERSON and len(exported["shortlists"]) == 1
        assert "export_person" in {e["action"] for e in exported["audit_trail"]}
        assert out.stat().st_mode & 0o077 == 0
        assert main(["erase", *args, "--reason", "request of 2025-03-02", "--actor", "dpo-cli"]) == 0
        printed = capsys.readouterr()
        assert f"erased {PERSON}" in printed.out and pseudonym(PERSON, KEY) in printed.out
        assert "running API" in printed.err
        assert main(["erase", *args, "--reason", "again"]) == 2
        assert "already erased" in capsys.readouterr().err
        assert main(["export-person", *args, "--out", str(tmp_path / "again.json")]) == 2
        assert rows_naming(loaded, PERSON) == {}

        assert main(["audit", "purge", "--dry-run", "--database-url", database_url]) == 0
        assert "audit entries older than 183 days" in capsys.readouterr().out
        with session_scope(loaded) as session:
            record_audit(session, "a", "adviser", "read", "candidate", OTHER, at=T0 - dt.timedelta(days=1000))
            total = session.scalar(select(func.count()).select_from(AuditEvent))
        assert main(["audit", "purge", "--dry-run", "--database-url", database_url]) == 0
        assert "would delete" in capsys.readouterr().out
        with session_scope(loaded) as session:
            assert session.scalar(select(func.count()).select_from(AuditEvent)) == total
        assert main(["audit", "purge", "--database-url", database_url, "--actor", "ops"]) == 0
        purged = capsys.readouterr().out
        assert "deleted" in purged and "dry run" not in purged
        with session_scope(loaded) as session:
            assert query_audit(session, actor="ops")[0].action == "purge_audit"
        monkeypatch.setenv("JOBMATCH_AUDIT_RETENTION_DAYS", "30")
        get_settings.cache_clear()
        assert main(["audit", "purge", "--dry-run", "--database-url", database_url]) == 2
        assert "shorter than the minimum" in capsys.readouterr().err
        assert main(["audit", "purge", "--dry-run", "--allow-short-retention", "--database-url", database_url]) == 0
        assert "older than 30 days" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
