"""The caseload's status, on SQLite and PostgreSQL: each person's stage in the loop (no shortlist,
shortlisted, waiting for an answer, plan to approve, agreed, in trial, trial completed, hired,
ended) and their overdue follow-ups, read for the whole caseload in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from matching.store.caseload import STAGES, caseload_status
from matching.store.db import session_scope
from matching.store.decisions import record_decision, record_person_answer
from matching.store.errors import StoreError
from matching.store.followups import record_followup, schedule_followups
from matching.store.placements import append_event, open_placement
from matching.store.plans import create_plan
from matching.store.shortlists import get_shortlist, save_shortlist

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2025, 3, 20)
DRAFT = {
    "purpose": "try_occupation",
    "tasks": ["handling_objects"],
    "hours_per_week": 15,
    "followups": [{"due": "2025-03-10", "contact": "person"}],
}


def person(n):
    return f"SYN-C{n:06d}"


def items(n):
    return [
        {
            "rank": rank,
            "workplace_id": f"SYN-W{rank:06d}",
            "score": 1.0 - rank / 10,
            "explanation": {"speaks_for": [], "speaks_against": []},
            "features": {"task_coverage": rank / 10},
        }
        for rank in range(1, n + 1)
    ]


def shortlisted(session, candidate, n=2, at=T0):
    shortlist_id = save_shortlist(session, candidate, "adviser-7", "jobmatch-ranker", "3", n, items(n), created_at=at)
    return get_shortlist(session, shortlist_id).item_ids


def accepted(session, candidate, answer=None):
    item = shortlisted(session, candidate)[0]
    record_decision(session, item, "accept", "adviser-7", decided_at=T0)
    if answer is not None:
        record_person_answer(session, item, answer, "adviser-7", T0 + dt.timedelta(hours=1))
    return item


def placed(session, candidate, states=()):
    item = accepted(session, candidate, "interested")
    plan_id = create_plan(session, candidate, "SYN-W000001", item, DRAFT, "adviser-7", created_at=T0)
    placement_id = open_placement(session, plan_id, created_at=T0)
    state = "none"
    for day, new_state in enumerate(states, start=1):
        reason = "health" if new_state == "ended" else None
        append_event(
            session, placement_id, new_state, reason, None, "adviser-7", new_state, T0 + dt.timedelta(days=day), state
        )
        state = new_state
    return placement_id


def test_every_stage_of_the_loop_is_read_for_the_whole_caseload(loaded):
    with session_scope(loaded) as session:
        shortlisted(session, person(2))
        accepted(session, person(3))
        accepted(session, person(4), "unsure")
        accepted(session, person(5), "interested")
        accepted(session, person(6), "not_interested")
        placed(session, person(7))
        placed(session, person(8), ["contacted"])
        placed(session, person(9), ["contacted", "trial_started"])
        placed(session, person(10), ["contacted", "trial_started", "trial_completed"])
        placed(session, person(11), ["contacted", "trial_started", "trial_completed", "hired"])
        placed(session, person(12), ["contacted", "ended"])
        rejected = shortlisted(session, person(13))[0]
        record_decision(session, rejected, "accept", "adviser-7", decided_at=T0)
        record_decision(session, rejected, "reject", "adviser-7", "too_far", decided_at=T0 + dt.timedelta(hours=1))
        changed = accepted(session, person(14), "not_interested")
        record_person_answer(session, changed, "interested", "adviser-7", T0 + dt.timedelta(days=2))
    expected = {
        person(1): "no_shortlist",
        person(2): "shortlisted",
        person(3): "waiting_answer",
        person(4): "waiting_answer",
        person(5): "plan_to_approve",
        person(6): "shortlisted",
        person(7): "agreed",
        person(8): "agreed",
        person(9): "in_trial",
        person(10): "trial_completed",
        person(11): "hired",
        person(12): "ended",
        person(13): "shortlisted",
        person(14): "plan_to_approve",
        "SYN-C999999": "no_shortlist",  # unknown: nothing to say
    }
    with session_scope(loaded, readonly=True) as session:
        status = caseload_status(session, list(expected), TODAY)
    assert {c: s.stage for c, s in status.items()} == expected
    assert set(expected.values()) == set(STAGES)
    assert not any(s.overdue for s in status.values() if s.candidate_id != person(7))


def test_the_furthest_stage_wins_and_an_end_does_not_hide_new_work(loaded):
    with session_scope(loaded) as session:
        placed(session, person(1), ["contacted", "ended"])
        accepted(session, person(1))  # a new suggestion after the end, waiting for the answer
        placed(session, person(2), ["contacted", "ended"])
        shortlisted(session, person(2))  # a new shortlist, nothing accepted: the end still says more
        placed(session, person(3), ["contacted", "trial_started"])
        accepted(session, person(3))  # a trial outweighs a new suggestion
    with session_scope(loaded, readonly=True) as session:
        status = caseload_status(session, [person(1), person(2), person(3)], TODAY)
    assert [status[person(n)].stage for n in (1, 2, 3)] == ["waiting_answer", "ended", "in_trial"]


def test_overdue_follow_ups_are_counted_per_person_whoever_owes_them(loaded):
    with session_scope(loaded) as session:
        first = placed(session, person(1))  # the plan's follow-up on 2025-03-10: overdue on TODAY
        second = placed(session, person(2))
        schedule_followups(
            session,
            second,
            [
                {"due_on": "2025-03-05", "party": "workplace", "contact_id": "adviser-9"},
                {"due_on": "2025-03-20", "party": "person"},  # due today: not overdue
                {"due_on": "2025-03-25", "party": "workplace"},
            ],
        )
        third = placed(session, person(3))
        schedule_followups(session, third, [{"due_on": "2025-03-15", "party": "person"}])
        record_followup(session, placement_id=third, party="person", due_on="2025-03-15", by="adviser-7")
        schedule_followups(session, first, [{"due_on": "2025-03-01", "party": "workplace"}])
    with session_scope(loaded, readonly=True) as session:
        status = caseload_status(session, [person(1), person(2), person(3), person(4)], TODAY)
        earlier = caseload_status(session, [person(1)], dt.date(2025, 3, 2))
    assert (status[person(1)].overdue_followups, status[person(1)].overdue_since) == (1, dt.date(2025, 3, 1))
    assert (status[person(2)].overdue_followups, status[person(2)].overdue_since) == (1, dt.date(2025, 3, 5))
    assert not status[person(3)].overdue and status[person(3)].overdue_since is None
    assert not status[person(4)].overdue
    assert earlier[person(1)].overdue_followups == 1  # only the one due before 2025-03-02


def test_a_large_caseload_takes_a_fixed_number_of_queries(loaded):
    with session_scope(loaded) as session:
        for n in range(1, 21):
            placed(session, person(n), ["contacted"] * (n % 2))
    statements = []

    def count(*_args):
        statements.append(1)

    ids = [person(n) for n in range(1, 201)]
    with session_scope(loaded, readonly=True) as session:
        event.listen(loaded, "before_cursor_execute", count)
        try:
            status = caseload_status(session, ids, TODAY)
        finally:
            event.remove(loaded, "before_cursor_execute", count)
    assert len(status) == 200 and status[person(1)].stage == "agreed"
    assert len(statements) <= 6


def test_today_must_be_a_date(loaded):
    with session_scope(loaded, readonly=True) as session:
        with pytest.raises(StoreError, match="today"):
            caseload_status(session, [person(1)], dt.datetime(2025, 3, 1, tzinfo=dt.UTC))
        assert caseload_status(session, [], TODAY) == {}
