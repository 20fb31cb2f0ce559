"""Training labels from hand-made histories (`matching.labels`): the stage an event reached, the
assessments' refinement, the person's "not interested", and what is left out until it settles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from matching.labels import (
    AWAITING_FIRST_EVENT,
    LEFT_OUT,
    PLACEMENT_RUNNING,
    History,
    Label,
    LeftOut,
    RecordedEvent,
    label,
)
from matching.placements import INITIAL_STATE, Event, EventKind, PlacementState, Stage, apply_event
from matching.records import table_schemas
from matching.settings import DEFAULT_SETTLE_DAYS, Settings
from tests.unit.test_placements import ev

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
SETTLE = 90
SOON = T0 + 10 * DAY  # within the waiting time of everything recorded at T0
LATER = T0 + (SETTLE + 1) * DAY  # past it


def events(*kinds: str, at: dt.datetime = T0, **assessments: str) -> tuple[RecordedEvent, ...]:
    """Events as the store keeps them, one a day from `at`; `person="no"` and `employer="yes"`
    add the end-of-trial assessments (after the last event) with that `would_continue`."""
    out = [
        RecordedEvent(kind, at + i * DAY, "person_quit" if kind == "ended" else None) for i, kind in enumerate(kinds)
    ]
    for source, would in assessments.items():
        payload = {"reason_text": None, "assessment": {"source": source, "tasks_mastered": 4, "would_continue": would}}
        out.append(RecordedEvent("assessment", at + len(out) * DAY, None, payload))
    return tuple(out)


def accepted(*recorded: RecordedEvent, answer: str | None = "interested", **extra: Any) -> History:
    return History(decision="accept", decided_at=T0, answer=answer, answered_at=T0, events=recorded, **extra)


TRIAL = ("contacted", "trial_started", "trial_completed")


def test_the_grade_is_the_furthest_stage_an_event_recorded():
    assert label(accepted(*events("contacted", "ended")), SOON, SETTLE) == Label(1, "person_quit")
    assert label(accepted(*events("contacted", "trial_started", "ended")), SOON, SETTLE) == Label(2, "person_quit")
    assert label(accepted(*events(*TRIAL, "ended")), SOON, SETTLE) == Label(3, "person_quit")
    assert label(accepted(*events(*TRIAL, "hired")), SOON, SETTLE) == Label(4, None)


def test_an_accepted_suggestion_without_an_event_is_not_employer_contacted():
    # within the waiting time it is left out; after it, nothing happened beyond the suggestion: 0
    assert label(accepted(), SOON, SETTLE) == LeftOut(AWAITING_FIRST_EVENT)
    assert label(accepted(), LATER, SETTLE) == Label(0, "no_event")
    # an end before any stage settles at once, with its reason
    assert label(accepted(*events("ended")), SOON, SETTLE) == Label(0, "person_quit")


def test_a_running_placement_is_left_out_until_it_ends_is_hired_or_the_waiting_time_passes():
    running = accepted(*events("contacted", "trial_started"))
    assert label(running, SOON, SETTLE) == LeftOut(PLACEMENT_RUNNING)
    assert label(running, T0 + SETTLE * DAY, SETTLE) == LeftOut(PLACEMENT_RUNNING)  # the last event is a day later
    assert label(running, LATER + DAY, SETTLE) == Label(2, None)  # counts with the stage it reached
    # the waiting time runs from the last thing recorded: a late assessment restarts it
    completed = accepted(*events(*TRIAL, at=T0 - 200 * DAY), events(employer="yes", at=T0)[0])
    assert label(completed, SOON, SETTLE) == LeftOut(PLACEMENT_RUNNING)
    assert label(completed, LATER, SETTLE) == Label(3, None)
    # and from the latest decision or answer when there is no event
    late_answer = History(decision="accept", decided_at=T0 - 200 * DAY, answer="unsure", answered_at=T0)
    assert label(late_answer, SOON, SETTLE) == LeftOut(AWAITING_FIRST_EVENT)
    # the waiting time is the caller's
    assert label(running, SOON, 5) == Label(2, None)


@pytest.mark.parametrize(
    ("person", "employer", "grade", "reason"),
    [
        ("yes", "yes", 3, None),
        ("yes", "unsure", 3, None),
        ("yes", None, 3, None),
        ("no", "yes", 2, "assessed_stop"),
        ("yes", "no", 2, "assessed_stop"),
        ("no", "no", 2, "assessed_stop"),
    ],
)
def test_a_completed_trial_either_side_would_not_go_on_with_ranks_below_one_both_go_on_with(
    person, employer, grade, reason
):
    said = {"person": person} | ({"employer": employer} if employer else {})
    assert label(accepted(*events(*TRIAL, **said)), T0 + 365 * DAY, SETTLE) == Label(grade, reason)


def test_the_assessments_never_move_a_hire_and_an_end_keeps_its_own_reason():
    stop = events(*TRIAL, person="no", employer="no")
    assert label(accepted(*stop, *events("hired", at=T0 + 10 * DAY)), SOON, SETTLE) == Label(4, None)
    assert label(accepted(*stop, *events("ended", at=T0 + 10 * DAY)), SOON, SETTLE) == Label(2, "person_quit")
    # a trial broken off after its start keeps grade 2, whatever the assessments say
    broken = events("contacted", "trial_started", "ended", person="yes", employer="yes")
    assert label(accepted(*broken), SOON, SETTLE) == Label(2, "person_quit")


def test_the_persons_not_interested_is_a_label_of_its_own():
    # distinct from the adviser's rejection, and it settles at once
    assert label(accepted(answer="not_interested"), SOON, SETTLE) == Label(0, "not_interested")
    undecided = History(answer="not_interested", answered_at=T0)
    assert label(undecided, SOON, SETTLE) == Label(0, "not_interested")
    rejected = History(decision="reject", decision_reason="too_far", decided_at=T0)
    assert label(rejected, SOON, SETTLE) == Label(0, "too_far")
    both = History(decision="reject", decision_reason="person_not_interested", decided_at=T0, answer="not_interested")
    assert label(both, SOON, SETTLE) == Label(0, "not_interested")
    # what happened wins over a later answer: a trial that was completed stays completed
    after_trial = accepted(*events(*TRIAL, "ended"), answer="not_interested")
    assert label(after_trial, SOON, SETTLE) == Label(3, "person_quit")


def test_an_undecided_suggestion_is_no_label():
    assert label(History(), LATER, SETTLE) is None
    assert label(History(answer="interested", answered_at=T0), LATER, SETTLE) is None
    assert label(History(answer="unsure", answered_at=T0), LATER, SETTLE) is None


def test_a_rejection_after_events_keeps_the_stage_and_gives_its_reason_when_no_end_does():
    rejected = History(
        decision="reject", decision_reason="workplace_not_ready", decided_at=T0 + 5 * DAY, events=events("contacted")
    )
    assert label(rejected, SOON, SETTLE) == LeftOut(PLACEMENT_RUNNING)
    assert label(rejected, LATER + 5 * DAY, SETTLE) == Label(1, "workplace_not_ready")


def _sequences() -> list[tuple[EventKind, ...]]:
    """Every sequence of events the state machine allows, assessments from both sides included."""
    found: list[tuple[EventKind, ...]] = []
    frontier: list[tuple[tuple[EventKind, ...], PlacementState]] = [((), INITIAL_STATE)]
    while frontier:
        sequence, state = frontier.pop()
        found.append(sequence)
        for nxt in state.allowed_next:
            frontier.append(((*sequence, nxt), apply_event(state, _event(nxt, state, "yes"))))
    return found


def _event(kind: EventKind, state: PlacementState, would: str) -> Event:
    if kind is not EventKind.ASSESSMENT:
        return ev(kind)
    source = state.missing_assessments[0].value
    return ev(kind, assessment={"source": source, "tasks_mastered": 3, "would_continue": would})


@pytest.mark.parametrize("would", ["yes", "unsure", "no"])
def test_every_possible_history_settles_to_a_contract_grade_its_stage_or_one_below(would):
    allowed = next(c.allowed for c in table_schemas()["outcomes"] if c.name == "grade")
    sequences = _sequences()
    for kinds in sequences:
        recorded, state = [], INITIAL_STATE
        for kind in kinds:
            event = _event(kind, state, would)
            state = apply_event(state, event)
            payload = {"assessment": event.assessment.model_dump(mode="json")} if event.assessment else None
            recorded.append(RecordedEvent(kind.value, T0, event.reason.value if event.reason else None, payload))
        got = label(accepted(*recorded), LATER, SETTLE)
        assert isinstance(got, Label) and got.grade in allowed
        demoted = would == "no" and state.reached is Stage.TRIAL_COMPLETED and bool(state.assessments)
        assert got.grade == state.grade - demoted, kinds
    assert len(sequences) > 15


def test_the_waiting_time_is_a_setting_with_a_documented_default(monkeypatch):
    assert Settings().outcome_settle_days == DEFAULT_SETTLE_DAYS == 90
    monkeypatch.setenv("JOBMATCH_OUTCOME_SETTLE_DAYS", "30")
    assert Settings().outcome_settle_days == 30
    monkeypatch.setenv("JOBMATCH_OUTCOME_SETTLE_DAYS", "0")
    with pytest.raises(ValueError, match="outcome_settle_days"):
        Settings()
    assert set(LEFT_OUT) == {PLACEMENT_RUNNING, AWAITING_FIRST_EVENT}
