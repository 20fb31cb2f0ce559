"""The review loop in the store: plans keep every revision and need every party's approval again,
placements keep their events and state, follow-ups are listed for the adviser who owes them, and
the record gives back contract outcomes with the features the model saw."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from alembic import command
from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import IntegrityError

from matching.clock import utc_now
from matching.store.db import session_scope
from matching.store.decisions import record_decision
from matching.store.errors import NotFoundError, StoreError
from matching.store.followups import followups_for_adviser, record_followup, schedule_followups
from matching.store.models import Candidate, PlanApproval
from matching.store.outcomes import stored_outcomes
from matching.store.placements import append_event, get_placement, open_placement, placement_events
from matching.store.plans import add_plan_revision, approve_plan, create_plan, get_plan, plan_for_item
from matching.store.schema import alembic_config, current_revision, head_revision
from matching.store.shortlists import get_shortlist, save_shortlist

CANDIDATE = "SYN-C000001"
T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
DRAFT = {
    "purpose": "try_occupation",
    "tasks": ["handling_objects", "using_hands"],
    "hours_per_week": 15,
    "workplace_responsibilities": {"training_in": ["telephone"], "adaptations": ["mentor"]},
    "support_system": {"unmet_needs": [], "outside_work": {"housing": "application in progress"}},
    "followups": [{"due": "2025-03-10", "contact": "person"}],
}
NEW_TABLES = {
    "inclusion_plans",
    "plan_revisions",
    "plan_approvals",
    "placements",
    "placement_events",
    "followups",
    "audit_events",
}


def items(n, features=None):
    return [
        {
            "rank": rank,
            "workplace_id": f"SYN-W{rank:06d}",
            "score": 1.0 - rank / 10,
            "explanation": {"speaks_for": [], "speaks_against": []},
            "features": {"task_coverage": rank / 10, "logistics_hours_fit": 1.0} if features is None else features,
        }
        for rank in range(1, n + 1)
    ]


def shortlist(engine, n=1, created_at=T0, candidate=CANDIDATE, features=None):
    """Save a shortlist of `n` suggestions; the items' ids in rank order."""
    with session_scope(engine) as session:
        shortlist_id = save_shortlist(
            session, candidate, "adviser-7", "jobmatch-ranker", "3", n, items(n, features), created_at=created_at
        )
        return get_shortlist(session, shortlist_id).item_ids


def accepted(engine, rank_items=None):
    item = (rank_items or shortlist(engine))[0]
    with session_scope(engine) as session:
        record_decision(session, item, "accept", "adviser-7", decided_at=T0)
    return item


def new_plan(engine, item=None):
    item = accepted(engine) if item is None else item
    with session_scope(engine) as session:
        return create_plan(session, CANDIDATE, "SYN-W000001", item, DRAFT, "adviser-7", created_at=T0)


def approve_all(engine, plan_id, revision):
    with session_scope(engine) as session:
        for party in ("person", "employer", "adviser"):
            plan = approve_plan(session, plan_id, revision, party, f"{party}-signature")
    return plan


def test_plan_revisions_keep_history_and_a_new_revision_needs_approval_again(loaded):
    item = accepted(loaded)
    plan_id = new_plan(loaded, item)
    assert approve_all(loaded, plan_id, 1)["agreed"] is True
    changed = {**DRAFT, "hours_per_week": 20}
    with session_scope(loaded) as session:
        assert plan_for_item(session, item) == plan_id
        assert (
            add_plan_revision(session, plan_id, changed, "employer-contact-3", changed_at=T0 + dt.timedelta(days=1))
            == 2
        )
        assert add_plan_revision(session, plan_id, {**changed, "tutor": "Kari"}, "adviser-7") == 3
    with session_scope(loaded) as session:
        plan = get_plan(session, plan_id)
    assert (plan["candidate_id"], plan["workplace_id"], plan["shortlist_item_id"]) == (CANDIDATE, "SYN-W000001", item)
    assert plan["revision"] == 3 and plan["body"] == {**changed, "tutor": "Kari"}
    assert [r["number"] for r in plan["revisions"]] == [1, 2, 3]
    assert plan["revisions"][0]["body"] == DRAFT and plan["revisions"][1]["body"] == changed
    assert [r["changed_by"] for r in plan["revisions"]] == ["adviser-7", "employer-contact-3", "adviser-7"]
    assert plan["revisions"][1]["changed_at"] == T0 + dt.timedelta(days=1)
    assert plan["approvals"] == [] and plan["awaiting"] == ["person", "employer", "adviser"]
    assert plan["agreed"] is False
    with session_scope(loaded) as session:  # the approvals of revision 1 are kept, not counted for revision 3
        assert len(session.scalars(select(PlanApproval).where(PlanApproval.plan_id == plan_id)).all()) == 3


def test_approving_an_old_or_unknown_revision_names_the_current_one(loaded):
    plan_id = new_plan(loaded)
    with session_scope(loaded) as session:
        add_plan_revision(session, plan_id, {**DRAFT, "hours_per_week": 10}, "adviser-7")
    for revision in (1, 3):
        with pytest.raises(StoreError, match="current revision is 2") as caught, session_scope(loaded) as session:
            approve_plan(session, plan_id, revision, "person", "adviser-7")
        assert caught.value.field == "revision"
    with pytest.raises(StoreError, match="^party: ") as caught, session_scope(loaded) as session:
        approve_plan(session, plan_id, 2, "tutor", "adviser-7")
    assert caught.value.field == "party"
    with pytest.raises(NotFoundError, match="plan_id"), session_scope(loaded) as session:
        approve_plan(session, 404, 1, "person", "adviser-7")
    with session_scope(loaded) as session:
        assert get_plan(session, plan_id)["approvals"] == []
    row = {"plan_id": plan_id, "revision": 7, "party": "person", "approved_by": "x", "approved_at": T0}
    with pytest.raises(IntegrityError), session_scope(loaded) as session:  # no such revision, past the repository
        session.execute(insert(PlanApproval), [row])


def test_agreed_only_when_person_employer_and_adviser_all_approved(loaded):
    plan_id = new_plan(loaded)
    with session_scope(loaded) as session:
        plan = approve_plan(session, plan_id, 1, "person", "adviser-7", approved_at=T0)
        assert (plan["agreed"], plan["awaiting"]) == (False, ["employer", "adviser"])
        plan = approve_plan(session, plan_id, 1, "adviser", "adviser-7")
        plan = approve_plan(session, plan_id, 1, "person", "someone-else")  # again: changes nothing
        assert (plan["agreed"], plan["awaiting"]) == (False, ["employer"])
        assert [(a["party"], a["approved_by"]) for a in plan["approvals"]] == [
            ("person", "adviser-7"),
            ("adviser", "adviser-7"),
        ]
        assert plan["approvals"][0]["approved_at"] == T0
    with session_scope(loaded) as session:
        plan = approve_plan(session, plan_id, 1, "employer", "employer-contact-3")
    assert plan["agreed"] is True and plan["awaiting"] == []


def test_a_plan_belongs_to_an_accepted_suggestion(loaded):
    first, second = shortlist(loaded, 2)
    with session_scope(loaded) as session:
        record_decision(session, first, "reject", "adviser-7", "too_far")
    with pytest.raises(StoreError, match="rejected") as caught, session_scope(loaded) as session:
        create_plan(session, CANDIDATE, "SYN-W000001", first, DRAFT, "adviser-7")
    assert caught.value.field == "shortlist_item_id"
    with pytest.raises(StoreError, match="undecided"), session_scope(loaded) as session:
        create_plan(session, CANDIDATE, "SYN-W000002", second, DRAFT, "adviser-7")
    with session_scope(loaded) as session:
        record_decision(session, second, "accept", "adviser-7")
    with pytest.raises(StoreError, match="^workplace_id: "), session_scope(loaded) as session:
        create_plan(session, CANDIDATE, "SYN-W000001", second, DRAFT, "adviser-7")
    with pytest.raises(StoreError, match="^candidate_id: "), session_scope(loaded) as session:
        create_plan(session, "SYN-C000002", "SYN-W000002", second, DRAFT, "adviser-7")
    with pytest.raises(StoreError, match="^body: "), session_scope(loaded) as session:
        create_plan(session, CANDIDATE, "SYN-W000002", second, {"hours": float("nan")}, "adviser-7")
    with pytest.raises(NotFoundError), session_scope(loaded) as session:
        create_plan(session, CANDIDATE, "SYN-W000002", 404, DRAFT, "adviser-7")
    with session_scope(loaded) as session:
        plan_id = create_plan(session, CANDIDATE, "SYN-W000002", second, DRAFT, "adviser-7")
    with pytest.raises(StoreError, match=f"already has plan {plan_id}"), session_scope(loaded) as session:
        create_plan(session, CANDIDATE, "SYN-W000002", second, DRAFT, "adviser-7")


def test_placement_events_are_kept_in_order_and_move_the_state(loaded):
    plan_id = new_plan(loaded)
    with session_scope(loaded) as session:
        placement_id = open_placement(session, plan_id, created_at=T0)
        assert open_placement(session, plan_id) == placement_id  # once per plan
    assessment = {"source": "employer", "would_continue": "yes", "note": "punctual"}
    steps = [
        ("contacted", None, None, "contacted"),
        ("trial_started", None, None, "trial_started"),
        ("assessment", None, assessment, "trial_started"),
        ("ended", "health", None, "ended"),
    ]
    state = "none"
    for day, (kind, reason, payload, new_state) in enumerate(steps):
        with session_scope(loaded) as session:
            event = append_event(
                session,
                placement_id,
                kind,
                reason,
                payload,
                "adviser-7",
                new_state,
                recorded_at=T0 + dt.timedelta(days=day),
                expected_state=state,
            )
            assert get_placement(session, placement_id).state == new_state
        assert event.kind == kind and event.placement_id == placement_id
        state = new_state
    with pytest.raises(StoreError, match="'ended', not 'trial_started'") as caught, session_scope(loaded) as session:
        append_event(
            session,
            placement_id,
            "trial_completed",
            None,
            None,
            "adviser-7",
            "trial_completed",
            expected_state="trial_started",
        )
    assert caught.value.field == "state"
    with pytest.raises(StoreError, match="^payload: "), session_scope(loaded) as session:
        append_event(session, placement_id, "assessment", None, {"score": float("inf")}, "adviser-7", "ended")
    with session_scope(loaded) as session:
        events = placement_events(session, placement_id)
        placement = get_placement(session, placement_id)
    assert [(e.kind, e.reason, e.payload) for e in events] == [(k, r, p) for k, r, p, _ in steps]
    assert [e.recorded_at for e in events] == [T0 + dt.timedelta(days=d) for d in range(4)]
    assert (placement.plan_id, placement.candidate_id, placement.workplace_id) == (plan_id, CANDIDATE, "SYN-W000001")
    assert placement.state == "ended" and placement.created_at == T0
    with pytest.raises(NotFoundError, match="placement_id"), session_scope(loaded) as session:
        placement_events(session, 404)


def test_followups_due_and_overdue_for_the_adviser_who_owes_them(loaded):
    today = dt.date(2025, 3, 20)
    with session_scope(loaded) as session:
        adviser = session.scalar(select(Candidate.adviser_id).where(Candidate.candidate_id == CANDIDATE))
    plan_id = new_plan(loaded)
    with session_scope(loaded) as session:
        placement_id = open_placement(session, plan_id)
    entries = [
        {"due_on": dt.date(2025, 3, 10), "party": "person"},  # overdue
        {"due_on": "2025-03-10", "party": "workplace"},  # overdue, done below
        {"due_on": dt.date(2025, 3, 20), "party": "workplace"},  # due today
        {"due_on": dt.date(2025, 3, 20), "party": "person"},  # due today, person first
        {"due_on": dt.date(2025, 3, 27), "party": "person"},  # due in 7 days
        {"due_on": dt.date(2025, 3, 28), "party": "person"},  # beyond the week
        {"due_on": dt.date(2025, 3, 21), "party": "person", "contact_id": "stand-in-9"},  # someone else's
    ]
    with session_scope(loaded) as session:
        ids = schedule_followups(session, placement_id, entries)
        assert schedule_followups(session, placement_id, entries[:2]) == ids[:2]  # again: the same ones
        done = record_followup(
            session,
            placement_id=placement_id,
            party="workplace",
            due_on="2025-03-10",
            by=adviser,
            note=" went well ",
            done_on=dt.date(2025, 3, 11),
        )
        listed = followups_for_adviser(session, adviser, today)
    assert (done.id, done.done_on, done.done_by, done.note) == (ids[1], dt.date(2025, 3, 11), adviser, "went well")
    assert [(f.due_on.isoformat(), f.party) for f in listed["overdue"]] == [("2025-03-10", "person")]
    assert [(f.due_on.isoformat(), f.party) for f in listed["due"]] == [
        ("2025-03-20", "person"),
        ("2025-03-20", "workplace"),
        ("2025-03-27", "person"),
    ]
    first = listed["overdue"][0]
    assert (first.candidate_id, first.workplace_id, first.contact_id, first.placement_id) == (
        CANDIDATE,
        "SYN-W000001",
        adviser,
        placement_id,
    )
    with session_scope(loaded) as session:
        assert [f.id for f in followups_for_adviser(session, "stand-in-9", today)["due"]] == [ids[6]]
        record_followup(session, ids[0], by=adviser)
        assert followups_for_adviser(session, adviser, today)["overdue"] == []
    with pytest.raises(StoreError, match="already recorded") as caught, session_scope(loaded) as session:
        record_followup(session, ids[0], by=adviser)
    assert caught.value.field == "followup_id"
    with pytest.raises(StoreError, match="^followup_id: "), session_scope(loaded) as session:
        record_followup(session, ids[0], placement_id=placement_id, by=adviser)
    with pytest.raises(NotFoundError, match="^due_on: "), session_scope(loaded) as session:
        record_followup(session, placement_id=placement_id, party="person", due_on="2025-01-01", by=adviser)
    with pytest.raises(StoreError, match=r"^entries\[0\].party: "), session_scope(loaded) as session:
        schedule_followups(session, placement_id, [{"due_on": "2025-04-01", "party": "employer"}])
    with pytest.raises(StoreError, match=r"^entries\[0\].contact_id: "), session_scope(loaded) as session:
        schedule_followups(session, placement_id, [{**entries[0], "contact_id": "stand-in-9"}])


def test_stored_outcomes_grade_each_decided_suggestion_by_the_furthest_stage(loaded):
    ids = shortlist(loaded, 8)
    stages = {
        2: [],  # accepted, nothing since: no stage reached (`no_event` once the waiting time passed)
        3: ["contacted", "trial_started"],
        4: ["contacted", "trial_started", "trial_completed", "assessment"],
        5: ["contacted", "trial_started", "trial_completed", "hired"],
        6: ["contacted", "trial_started", "ended"],  # ended after the start keeps grade 2
        7: ["ended"],  # ended before the employer was contacted: not pursued
    }
    with session_scope(loaded) as session:
        record_decision(session, ids[0], "accept", "adviser-7", decided_at=T0)
        record_decision(session, ids[0], "reject", "adviser-7", "workplace_not_ready", decided_at=T0 + dt.timedelta(1))
        for rank, kinds in stages.items():
            item = ids[rank - 1]
            record_decision(session, item, "accept", "adviser-7")
            plan_id = create_plan(session, CANDIDATE, f"SYN-W{rank:06d}", item, DRAFT, "adviser-7")
            if rank == 2:
                continue
            placement_id = open_placement(session, plan_id)
            for kind in kinds:
                reason = "employer_ended" if kind == "ended" else None
                append_event(session, placement_id, kind, reason, None, "adviser-7", kind)
        # rank 8 stays undecided: not an outcome
    later = shortlist(loaded, 1, created_at=T0 + dt.timedelta(days=30), features={"task_coverage": 0.5, "extra": 2})
    with session_scope(loaded) as session:
        record_decision(session, later[0], "reject", "adviser-7", "too_far")
        settled = utc_now() + dt.timedelta(days=365)  # past the waiting time of every running placement
        outcomes = stored_outcomes(session, now=settled)
        with_features = stored_outcomes(session, with_features=True, now=settled)
    assert list(outcomes.columns) == ["candidate_id", "workplace_id", "suggested_on", "grade", "reason"]
    assert outcomes["suggested_on"].dtype == "datetime64[ns]" and outcomes["grade"].dtype == "int64"
    got = {(r.workplace_id, r.suggested_on.date().isoformat()): (r.grade, r.reason) for r in outcomes.itertuples()}
    assert got == {
        ("SYN-W000001", "2025-03-01"): (0, "workplace_not_ready"),
        ("SYN-W000002", "2025-03-01"): (0, "no_event"),
        ("SYN-W000003", "2025-03-01"): (2, None),
        ("SYN-W000004", "2025-03-01"): (3, None),
        ("SYN-W000005", "2025-03-01"): (4, None),
        ("SYN-W000006", "2025-03-01"): (2, "employer_ended"),
        ("SYN-W000007", "2025-03-01"): (0, "employer_ended"),
        ("SYN-W000001", "2025-03-31"): (0, "too_far"),
    }
    assert (outcomes["candidate_id"] == CANDIDATE).all()
    assert list(with_features.columns[:6]) == [*outcomes.columns, "shortlist_item_id"]
    assert list(with_features.columns[6:]) == ["task_coverage", "logistics_hours_fit", "extra"]
    by_item = with_features.set_index("shortlist_item_id")
    assert by_item.loc[ids[2], "task_coverage"] == pytest.approx(0.3)
    assert by_item.loc[later[0], "task_coverage"] == 0.5 and pd.isna(by_item.loc[ids[2], "extra"])
    assert set(by_item.index) == set(ids[:7]) | set(later)


def test_stored_outcomes_of_an_empty_record_is_an_empty_contract_table(engine):
    with session_scope(engine) as session:
        frame = stored_outcomes(session, with_features=True)
    assert frame.empty and list(frame.columns) == [
        "candidate_id",
        "workplace_id",
        "suggested_on",
        "grade",
        "reason",
        "shortlist_item_id",
    ]


def test_revision_0002_downgrades_to_0001_and_upgrades_again(engine):
    def migrate(step, target):
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            step(config, target)
            return current_revision(connection)

    assert migrate(command.downgrade, "0001") == "0001"
    tables = set(inspect(engine).get_table_names())
    assert not tables & NEW_TABLES and {"shortlist_items", "decisions", "person_answers"} <= tables
    assert migrate(command.upgrade, "head") == head_revision()
    assert NEW_TABLES <= set(inspect(engine).get_table_names())
