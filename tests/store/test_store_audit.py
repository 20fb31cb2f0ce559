"""The audit trail: who did what to which record and when, queryable, purgeable, and never holding
support needs or other personal fields."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from matching.store.audit import purge_audit, query_audit, record_audit
from matching.store.db import session_scope
from matching.store.errors import StoreError
from matching.store.models import AuditEvent

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def trail(engine):
    """Five entries, one hour apart, by two actors about two candidates and a shortlist."""
    entries = [
        ("adviser-7", "adviser", "read_candidate", "candidate", "SYN-C000001", None),
        ("adviser-7", "adviser", "create_shortlist", "shortlist", 12, {"candidate_id": "SYN-C000001", "top_k": 5}),
        ("adviser-7", "adviser", "decide", "shortlist", 12, {"item": 3, "decision": "reject", "reason": "too_far"}),
        ("dpo-1", "data_protection", "read_candidate", "candidate", "SYN-C000002", None),
        ("scientist-2", "data_scientist", "export", "store", "all", {"tables": ["outcomes"], "rows": 42}),
    ]
    with session_scope(engine) as session:
        return [record_audit(session, *entry, at=T0 + dt.timedelta(hours=i)) for i, entry in enumerate(entries)]


def test_entries_are_recorded_and_queried_by_subject_actor_and_time(engine):
    ids = trail(engine)
    with session_scope(engine, readonly=True) as session:
        everything = query_audit(session)
        shortlist = query_audit(session, subject_type="shortlist", subject_id=12)
        by_actor = query_audit(session, actor="adviser-7")
        window = query_audit(session, since=T0 + dt.timedelta(hours=1), until=T0 + dt.timedelta(hours=3))
        first_two = query_audit(session, limit=2)
        candidate = query_audit(session, subject_type="candidate", subject_id="SYN-C000002")
    assert [e.id for e in everything] == ids
    assert [e.action for e in shortlist] == ["create_shortlist", "decide"]
    assert shortlist[1].detail == {"item": 3, "decision": "reject", "reason": "too_far"}
    assert shortlist[0].subject_id == "12"
    assert [e.action for e in by_actor] == ["read_candidate", "create_shortlist", "decide"]
    assert [e.id for e in window] == ids[1:3]
    assert [e.id for e in first_two] == ids[:2]
    assert [(e.actor, e.role, e.at) for e in candidate] == [("dpo-1", "data_protection", T0 + dt.timedelta(hours=3))]
    assert all(e.at.tzinfo is not None for e in everything)


def test_an_entry_is_stamped_now_when_no_time_is_given(engine):
    before = dt.datetime.now(dt.UTC)
    with session_scope(engine) as session:
        record_audit(session, "adviser-7", "adviser", "answer", "shortlist_item", 5)
    with session_scope(engine) as session:
        (entry,) = query_audit(session)
    assert before - dt.timedelta(seconds=1) <= entry.at <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    assert entry.detail is None


def test_purge_deletes_only_entries_older_than_the_cutoff(engine):
    ids = trail(engine)
    with session_scope(engine) as session:
        assert purge_audit(session, T0 + dt.timedelta(hours=2)) == 2
        assert purge_audit(session, T0 + dt.timedelta(hours=2)) == 0
    with session_scope(engine) as session:
        assert [e.id for e in query_audit(session)] == ids[2:]
    with pytest.raises(StoreError, match="^older_than: "), session_scope(engine) as session:
        purge_audit(session, dt.datetime(2025, 1, 1))  # naive


@pytest.mark.parametrize(
    "detail",
    [
        {"needs_mentor": 2},
        {"skill_telephone": 0.4},
        {"tolerance_stress": 0.1},
        {"interest_social": 0.9},
        {"lat": 59.9},
        {"lon": 10.7},
        {"preferred_occupations": ["5223"]},
        {"age_band": "25-34"},
        {"gender": "f"},
        {"candidate": {"Needs_Quiet_Workspace": 1}},  # at any depth, any case
        {"changes": [{"field": "hours"}, {"gender": "m"}]},
    ],
)
def test_personal_fields_are_refused_in_the_detail(engine, detail):
    with pytest.raises(StoreError, match="^detail: ") as caught, session_scope(engine) as session:
        record_audit(session, "adviser-7", "adviser", "read_candidate", "candidate", "SYN-C000001", detail)
    assert caught.value.field == "detail"
    assert "personal field" in str(caught.value)
    for value in ("59.9", "25-34", "5223"):
        assert value not in str(caught.value)  # the message names the key, never the value
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_bad_entries_and_queries_name_the_field(engine):
    with pytest.raises(StoreError, match="^actor: "), session_scope(engine) as session:
        record_audit(session, " ", "adviser", "decide", "shortlist", 1)
    with pytest.raises(StoreError, match="^detail: "), session_scope(engine) as session:
        record_audit(session, "a", "adviser", "decide", "shortlist", 1, {"x": float("nan")})
    with pytest.raises(StoreError, match="^limit: "), session_scope(engine) as session:
        query_audit(session, limit=0)
    with pytest.raises(StoreError, match="^since: "), session_scope(engine) as session:
        query_audit(session, since=dt.datetime(2025, 1, 1))


def test_reads_audited_together_are_each_committed_before_their_caller_goes_on(engine):
    """Many readers at once: every entry is in the trail, each one already committed (visible to
    another transaction) when its caller returns; an entry with a personal field is refused at
    once and nothing of it is written."""
    import threading

    from matching.store.audit import AuditBatcher

    batcher = AuditBatcher(engine)
    seen_at_return: dict[int, bool] = {}

    def read(i: int) -> None:
        batcher.record("reader", "adviser", "read_shortlist", "candidate", f"C{i}", {"shortlist_id": i})
        with session_scope(engine, readonly=True) as session:
            seen_at_return[i] = bool(query_audit(session, subject_type="candidate", subject_id=f"C{i}"))

    threads = [threading.Thread(target=read, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen_at_return == {i: True for i in range(40)}
    with pytest.raises(StoreError, match="personal field"):
        batcher.record("reader", "adviser", "read", "candidate", "C1", {"needs_mobility": 1})
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 40
