"""The store's reads for the API (so no module outside the store needs the ORM models): recent
shortlists, an item's shortlist, a workplace's plans, a plan's placement, a person's adviser, a
workplace's employer and record, the latest audit entry of given actions; and the grade of stored
placement events, which must agree with the domain's state machine."""

from __future__ import annotations

import datetime as dt

import pytest

from matching.placements import EventKind, grade_of, recorded_grade
from matching.store.audit import latest_audit_entry, record_audit
from matching.store.db import session_scope
from matching.store.placements import open_placement, placement_of_plan
from matching.store.plans import plans_of_workplace
from matching.store.records import adviser_of, candidate_record, employer_of, workplace_record
from matching.store.shortlists import lock_shortlist, recent_shortlists, shortlist_of_item
from tests.store.test_store_review_loop import CANDIDATE, T0, new_plan, shortlist
from tests.unit.test_placements import PATH, ev

OTHER = "SYN-C000002"
DAY = dt.timedelta(days=1)


def test_recent_shortlists_are_the_caseloads_newest_first(loaded):
    shortlist(loaded, created_at=T0)
    shortlist(loaded, created_at=T0 + 2 * DAY, candidate=OTHER)
    shortlist(loaded, created_at=T0 + DAY)
    shortlist(loaded, created_at=T0 + 3 * DAY, candidate="SYN-C000003")
    with session_scope(loaded, readonly=True) as session:
        recent = recent_shortlists(session, [CANDIDATE, OTHER], 2)
        assert [(r.candidate_id, r.created_at) for r in recent] == [(OTHER, T0 + 2 * DAY), (CANDIDATE, T0 + DAY)]
        assert len(recent_shortlists(session, iter([CANDIDATE, OTHER]), 10)) == 3
        assert recent_shortlists(session, [], 10) == [] and recent_shortlists(session, ["nobody"], 10) == []


def test_an_items_shortlist_and_the_shortlist_lock(loaded):
    first, second = shortlist(loaded, n=2)
    with session_scope(loaded) as session:
        shortlist_id = shortlist_of_item(session, first)
        assert shortlist_id is not None and shortlist_of_item(session, second) == shortlist_id
        assert shortlist_of_item(session, 10**6) is None
        lock_shortlist(session, shortlist_id)
        lock_shortlist(session, 10**6)  # an unknown id locks nothing


def test_a_workplaces_plans_and_a_plans_placement(loaded):
    with session_scope(loaded, readonly=True) as session:
        assert plans_of_workplace(session, "SYN-W000001") == []
    plan_id = new_plan(loaded)
    with session_scope(loaded) as session:
        assert plans_of_workplace(session, "SYN-W000001") == [plan_id]
        assert plans_of_workplace(session, "SYN-W000002") == [] and plans_of_workplace(session, "nowhere") == []
        assert placement_of_plan(session, plan_id) is None
        placement_id = open_placement(session, plan_id, created_at=T0)
    with session_scope(loaded, readonly=True) as session:
        assert placement_of_plan(session, plan_id) == placement_id
        assert placement_of_plan(session, 10**6) is None


def test_a_persons_adviser_and_a_workplaces_employer(loaded):
    with session_scope(loaded, readonly=True) as session:
        person = candidate_record(session, CANDIDATE)
        workplace = workplace_record(session, "SYN-W000001")
        assert person is not None and workplace is not None
        assert adviser_of(session, CANDIDATE) == person["adviser_id"]
        assert employer_of(session, "SYN-W000001") == workplace["employer_id"]
        assert workplace["workplace_id"] == "SYN-W000001" and workplace["hours_per_week"] > 0
        assert adviser_of(session, "nobody") is None and employer_of(session, "nowhere") is None
        assert workplace_record(session, "nowhere") is None


def test_the_latest_audit_entry_of_given_actions(loaded):
    switch = ("scoring_off", "scoring_on")
    with session_scope(loaded) as session:
        assert latest_audit_entry(session, switch, "service", "scoring") is None
        record_audit(session, "ops-1", "operator", "scoring_off", "service", "scoring", {"reason": "a"}, at=T0)
        record_audit(session, "ops-2", "operator", "scoring_on", "service", "scoring", {"reason": "b"}, at=T0 + DAY)
        record_audit(session, "ops-3", "operator", "scoring_off", "service", "scoring", {"reason": "c"}, at=T0 + DAY)
        record_audit(session, "ops-4", "operator", "reload_model", "service", "scoring", at=T0 + 2 * DAY)
        record_audit(session, "ops-5", "operator", "scoring_on", "service", "other", at=T0 + 3 * DAY)
    with session_scope(loaded, readonly=True) as session:
        latest = latest_audit_entry(session, switch, "service", "scoring")
        assert latest is not None  # the same time: the one recorded last
        assert (latest.actor, latest.action, latest.at, latest.detail) == (
            "ops-3",
            "scoring_off",
            T0 + DAY,
            {"reason": "c"},
        )
        anywhere = latest_audit_entry(session, switch)
        assert anywhere is not None and (anywhere.actor, anywhere.subject_id) == ("ops-5", "other")
        assert latest_audit_entry(session, ["scoring_on"], subject_id="scoring").actor == "ops-2"
        assert latest_audit_entry(session, ["erase_person"]) is None


K = EventKind


@pytest.mark.parametrize(
    "kinds",
    [
        [K.ENDED],
        [K.CONTACTED],
        [K.CONTACTED, K.ENDED],
        [K.CONTACTED, K.TRIAL_STARTED, K.ENDED],
        [*PATH[:3], K.ASSESSMENT, K.ENDED],
        PATH,
        [*PATH, K.ASSESSMENT],
    ],
)
def test_stored_events_grade_as_the_state_machine_does(kinds):
    events = [ev(k) for k in kinds]
    grade, reason = recorded_grade((e.kind.value, e.reason.value if e.reason else None) for e in events)
    assert grade == grade_of(events)
    assert reason == ("person_quit" if kinds[-1] is K.ENDED else None)


def test_no_stored_event_is_no_grade_yet():
    assert recorded_grade([]) == (None, None)
    assert recorded_grade([("assessment", None)]) == (None, None)
