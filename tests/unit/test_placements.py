"""Placements: the event state machine, grades as in data contract v1, and due and overdue follow-ups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from matching.inclusion import Contact, FollowUp, FollowUpKind
from matching.placements import (
    INITIAL_STATE,
    Assessment,
    EndReason,
    Event,
    EventKind,
    FollowUpError,
    PlacementError,
    RecordedFollowUp,
    Stage,
    TransitionError,
    apply_event,
    due_followups,
    grade_of,
    replay,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
K = EventKind


def ev(kind: EventKind, **extra: Any) -> Event:
    if kind is K.ENDED:
        extra.setdefault("reason", "person_quit")
    if kind is K.ASSESSMENT:
        extra.setdefault(
            "assessment",
            {"source": "employer", "tasks_mastered": 4, "would_continue": "yes", "what_worked": "the mentor"},
        )
    return Event(kind=kind, at=T0, by="A7", **extra)


def assessment(source: str) -> Event:
    return ev(K.ASSESSMENT, assessment={"source": source, "tasks_mastered": 3, "would_continue": "unsure"})


PATH = [K.CONTACTED, K.TRIAL_STARTED, K.TRIAL_COMPLETED, K.HIRED]


# -- allowed transitions


def test_the_whole_path_to_hired():
    state = INITIAL_STATE
    assert state.stage is Stage.NONE
    for kind in PATH:
        state = apply_event(state, ev(kind))
        assert state.stage.value == kind.value
    assert state.final
    assert state.grade == 4


@pytest.mark.parametrize("steps", range(4))
def test_ended_is_allowed_from_every_non_final_stage(steps):
    state = replay(ev(k) for k in PATH[:steps])
    ended = apply_event(state, ev(K.ENDED, reason="employer_ended"))
    assert ended.stage is Stage.ENDED
    assert ended.end_reason is EndReason.EMPLOYER_ENDED
    assert ended.reached is state.stage  # the grade keeps the furthest stage
    assert ended.final


@pytest.mark.parametrize(
    ("steps", "allowed"),
    [
        (0, (K.CONTACTED, K.ENDED)),
        (1, (K.TRIAL_STARTED, K.ENDED)),
        (2, (K.TRIAL_COMPLETED, K.ENDED)),
        (3, (K.HIRED, K.ENDED, K.ASSESSMENT)),
        (4, (K.ASSESSMENT,)),
    ],
)
def test_allowed_next_at_each_stage(steps, allowed):
    assert replay(ev(k) for k in PATH[:steps]).allowed_next == allowed


def test_assessments_from_employer_and_person_after_completion():
    state = replay(ev(k) for k in PATH[:3])
    state = apply_event(state, assessment("employer"))
    assert K.ASSESSMENT in state.allowed_next
    state = apply_event(state, assessment("person"))
    assert {a.source.value for a in state.assessments} == {"employer", "person"}
    assert state.allowed_next == (K.HIRED, K.ENDED)
    hired = apply_event(state, ev(K.HIRED))
    assert hired.allowed_next == ()


def test_assessment_after_an_end_after_a_start():
    state = replay([ev(K.CONTACTED), ev(K.TRIAL_STARTED), ev(K.ENDED, reason="health")])
    assert state.allowed_next == (K.ASSESSMENT,)
    assert apply_event(state, assessment("person")).assessments[0].tasks_mastered == 3


# -- impossible transitions


@pytest.mark.parametrize(
    ("done", "event", "allowed"),
    [
        ([], K.TRIAL_STARTED, (K.CONTACTED, K.ENDED)),
        ([], K.HIRED, (K.CONTACTED, K.ENDED)),
        ([K.CONTACTED], K.TRIAL_COMPLETED, (K.TRIAL_STARTED, K.ENDED)),
        ([K.CONTACTED], K.CONTACTED, (K.TRIAL_STARTED, K.ENDED)),
        ([K.CONTACTED, K.TRIAL_STARTED], K.HIRED, (K.TRIAL_COMPLETED, K.ENDED)),
        (PATH, K.ENDED, (K.ASSESSMENT,)),
        (PATH, K.CONTACTED, (K.ASSESSMENT,)),
        ([K.ENDED], K.CONTACTED, ()),
        ([K.ENDED], K.ENDED, ()),
    ],
)
def test_impossible_transitions_carry_allowed_next(done, event, allowed):
    state = replay(ev(k) for k in done)
    with pytest.raises(TransitionError) as caught:
        apply_event(state, ev(event))
    assert caught.value.allowed_next == allowed
    assert caught.value.event is event
    assert event.value in str(caught.value)
    assert isinstance(caught.value, PlacementError)


@pytest.mark.parametrize("done", [[], [K.CONTACTED], [K.CONTACTED, K.TRIAL_STARTED], [K.CONTACTED, K.ENDED]])
def test_assessment_before_the_trial_was_completed_or_ended_after_a_start_is_refused(done):
    state = replay(ev(k) for k in done)
    with pytest.raises(TransitionError, match="only after") as caught:
        apply_event(state, assessment("employer"))
    assert K.ASSESSMENT not in caught.value.allowed_next


def test_a_second_assessment_from_the_same_source_is_refused():
    state = apply_event(replay(ev(k) for k in PATH[:3]), assessment("employer"))
    with pytest.raises(TransitionError, match="already recorded") as caught:
        apply_event(state, assessment("employer"))
    assert K.ASSESSMENT in caught.value.allowed_next


# -- event validation


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"kind": "ended"}, "reason"),
        ({"kind": "ended", "reason": "other"}, "reason_text"),
        ({"kind": "ended", "reason": "bored"}, "reason"),
        ({"kind": "contacted", "reason": "health"}, "reason"),
        ({"kind": "assessment"}, "assessment"),
        ({"kind": "teleported"}, "kind"),
        (
            {"kind": "assessment", "assessment": {"source": "person", "tasks_mastered": 6, "would_continue": "yes"}},
            "tasks_mastered",
        ),
        (
            {"kind": "assessment", "assessment": {"source": "person", "tasks_mastered": 2, "would_continue": "maybe"}},
            "would_continue",
        ),
    ],
)
def test_invalid_events_are_refused_naming_the_field(fields, named):
    with pytest.raises(PlacementError, match=named):
        Event(at=T0, by="A7", **fields)


def test_other_reason_with_text_is_accepted():
    state = apply_event(INITIAL_STATE, ev(K.ENDED, reason="other", reason_text="the workplace closed"))
    assert state.end_reason is EndReason.OTHER and state.end_text == "the workplace closed"
    assert isinstance(Assessment(source="person", tasks_mastered=1, would_continue="no"), Assessment)


# -- grades


@pytest.mark.parametrize(
    ("kinds", "grade"),
    [
        ([], 0),
        ([K.ENDED], 0),
        ([K.CONTACTED], 1),
        ([K.CONTACTED, K.ENDED], 1),
        ([K.CONTACTED, K.TRIAL_STARTED], 2),
        ([K.CONTACTED, K.TRIAL_STARTED, K.ENDED], 2),
        (PATH[:3], 3),
        ([*PATH[:3], K.ASSESSMENT, K.ENDED], 3),
        (PATH, 4),
        ([*PATH, K.ASSESSMENT], 4),
    ],
)
def test_grade_is_the_furthest_stage_reached(kinds, grade):
    assert grade_of(ev(k) for k in kinds) == grade


def test_grade_of_an_impossible_sequence_fails():
    with pytest.raises(TransitionError):
        grade_of([ev(K.HIRED)])


# -- follow-ups

START = date(2026, 3, 2)


def schedule(*days: int) -> list[FollowUp]:
    return [
        FollowUp(
            candidate_id="SYN-C1",
            workplace_id="SYN-W1",
            due=START + timedelta(days=d),
            contact=contact,
            by="A7",
            kind=FollowUpKind.FIRST if i == 0 else FollowUpKind.REGULAR,
        )
        for i, d in enumerate(days)
        for contact in Contact
    ]


def done(day: int, contact: str) -> RecordedFollowUp:
    return RecordedFollowUp(on=START + timedelta(days=day), contact=contact, by="A7", note="called")


def test_nothing_is_due_before_the_horizon():
    status = due_followups(schedule(7, 21), [], today=START - timedelta(days=1))
    assert status.due == () and status.overdue == ()


def test_due_within_the_horizon_names_placement_candidate_party_and_date():
    status = due_followups(schedule(7, 21), [], today=START + timedelta(days=3), placement_id="P1")
    assert [(d.contact, d.due) for d in status.due] == [
        (Contact.PERSON, START + timedelta(days=7)),
        (Contact.WORKPLACE, START + timedelta(days=7)),
    ]
    assert all(d.placement_id == "P1" and d.candidate_id == "SYN-C1" and d.by == "A7" for d in status.due)
    assert status.overdue == ()


def test_overdue_when_past_and_not_done_only_for_the_missing_party():
    status = due_followups(schedule(7, 21), [done(6, "person")], today=START + timedelta(days=10))
    assert [(d.contact, d.days_overdue) for d in status.overdue] == [(Contact.WORKPLACE, 3)]
    assert status.due == ()


def test_due_today_is_due_not_overdue():
    status = due_followups(schedule(7), [], today=START + timedelta(days=7))
    assert len(status.due) == 2 and status.overdue == ()


def test_a_follow_up_up_to_three_days_early_counts_as_done():
    early = [done(4, "person"), done(4, "workplace")]
    assert due_followups(schedule(7), early, today=START + timedelta(days=8)).overdue == ()
    too_early = [done(3, "person"), done(3, "workplace")]
    assert len(due_followups(schedule(7), too_early, today=START + timedelta(days=8)).overdue) == 2


def test_a_follow_up_with_the_other_party_does_not_count():
    status = due_followups(schedule(7), [done(7, "workplace")], today=START + timedelta(days=9))
    assert [d.contact for d in status.overdue] == [Contact.PERSON]


def test_horizon_is_configurable_and_checked():
    later = due_followups(schedule(21), [], today=START + timedelta(days=7), horizon_days=14)
    assert len(later.due) == 2
    with pytest.raises(FollowUpError, match="horizon_days"):
        due_followups(schedule(7), [], today=START, horizon_days=-1)


def test_recorded_follow_up_with_unknown_party_is_refused():
    with pytest.raises(FollowUpError, match="contact"):
        RecordedFollowUp(on=START, contact="landlord", by="A7")
