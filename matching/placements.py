"""Placements: the events of a work trial, as a state machine, and the follow-ups that are due.

A placement moves `none -> contacted -> trial_started -> trial_completed -> hired`; it can end
(with a reason code) from any stage that is not final; `hired` and `ended` are final. At the end of
a trial the employer and the person each give a structured assessment, once the trial was
completed, or when it ended after it had started. `GRADES` grades the furthest stage reached as
data contract v1 does: `grade_of` for a sequence of events, `recorded_grade` for the events as the
store keeps them; `matching.labels` makes the training labels from it (with the assessments, the
person's answer and the waiting time).

A placement holds one of the workplace's slots from the start of its trial until it ends (a hire
keeps it: the person has the job); `slot_change` says whether an event takes one or gives it back.

Follow-up is proactive: `due_followups` compares an inclusion plan's schedule (`matching.inclusion`)
with the follow-ups recorded, and says what is due soon and what is overdue.

Errors: `PlacementError` (a `ValueError`) for an invalid event or state, with `TransitionError`
for an event the placement's stage does not allow (it carries `allowed_next`, for a 409 answer);
`FollowUpError` (a `ValueError`) for invalid follow-up input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from pydantic import Field, ValidationError, model_validator

from matching.frozen import Frozen
from matching.inclusion import Contact, FollowUp

DONE_TOLERANCE_DAYS = 3
DEFAULT_HORIZON_DAYS = 7


class PlacementError(ValueError):
    """An event or a placement state is invalid; the message names the field."""


class TransitionError(PlacementError):
    """An event the placement's current stage does not allow.

    Attributes:
        stage: the placement's stage.
        event: the event refused.
        allowed_next: the events allowed next (empty when nothing more can happen).
    """

    def __init__(self, stage: Stage, event: EventKind, allowed_next: Sequence[EventKind], detail: str = "") -> None:
        self.stage = stage
        self.event = event
        self.allowed_next: tuple[EventKind, ...] = tuple(allowed_next)
        allowed = ", ".join(e.value for e in self.allowed_next) or "nothing (the placement is closed)"
        reason = detail or f"not allowed when the placement is {stage.value}"
        super().__init__(f"event {event.value}: {reason}; allowed next: {allowed}")


class FollowUpError(ValueError):
    """Follow-up input is invalid; the message names the field."""


class Stage(StrEnum):
    """Where a placement stands."""

    NONE = "none"
    CONTACTED = "contacted"
    TRIAL_STARTED = "trial_started"
    TRIAL_COMPLETED = "trial_completed"
    HIRED = "hired"
    ENDED = "ended"


class EventKind(StrEnum):
    """What can happen to a placement."""

    CONTACTED = "contacted"
    TRIAL_STARTED = "trial_started"
    TRIAL_COMPLETED = "trial_completed"
    HIRED = "hired"
    ENDED = "ended"
    ASSESSMENT = "assessment"


class EndReason(StrEnum):
    """Why a placement ended."""

    NOT_PURSUED = "not_pursued"
    PERSON_QUIT = "person_quit"
    EMPLOYER_ENDED = "employer_ended"
    NO_POSITION = "no_position"
    HEALTH = "health"
    MOVED = "moved"
    OTHER = "other"


class AssessmentSource(StrEnum):
    """Who gives an end-of-trial assessment."""

    EMPLOYER = "employer"
    PERSON = "person"


class WouldContinue(StrEnum):
    """Whether the assessor would continue."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


# stage -> the stage an event leads to (the assessment does not move the stage)
_STEPS: dict[Stage, dict[EventKind, Stage]] = {
    Stage.NONE: {EventKind.CONTACTED: Stage.CONTACTED, EventKind.ENDED: Stage.ENDED},
    Stage.CONTACTED: {EventKind.TRIAL_STARTED: Stage.TRIAL_STARTED, EventKind.ENDED: Stage.ENDED},
    Stage.TRIAL_STARTED: {EventKind.TRIAL_COMPLETED: Stage.TRIAL_COMPLETED, EventKind.ENDED: Stage.ENDED},
    Stage.TRIAL_COMPLETED: {EventKind.HIRED: Stage.HIRED, EventKind.ENDED: Stage.ENDED},
    Stage.HIRED: {},
    Stage.ENDED: {},
}
FINAL_STAGES = frozenset({Stage.HIRED, Stage.ENDED})

# data contract v1: 0 rejected or not pursued, 1 contacted, 2 trial started, 3 trial completed, 4 hired
GRADES: dict[Stage, int] = {
    Stage.NONE: 0,
    Stage.CONTACTED: 1,
    Stage.TRIAL_STARTED: 2,
    Stage.TRIAL_COMPLETED: 3,
    Stage.HIRED: 4,
}
# event kind -> the stage it reaches (an end and an assessment reach none), from the steps above
_REACHES: dict[str, Stage] = {
    event.value: stage for steps in _STEPS.values() for event, stage in steps.items() if stage is not Stage.ENDED
}


# the stages in which a placement holds one of the workplace's slots
HOLDS_SLOT = frozenset({Stage.TRIAL_STARTED, Stage.TRIAL_COMPLETED, Stage.HIRED})


class SlotChange(StrEnum):
    """What an event does to the workplace's free slots."""

    TAKE = "take"
    GIVE_BACK = "give_back"
    NONE = "none"


def slot_change(stage: Stage | str, event: EventKind | str) -> SlotChange:
    """Whether `event`, recorded when the placement is at `stage`, takes a slot (the trial starts),
    gives it back (an end after the trial started, before a hire) or neither (a hire keeps the
    slot; contact, an end before the trial, an assessment).

    Raises:
        PlacementError: an unknown stage or event.
        TransitionError: the event is not allowed at that stage.
    """
    try:
        before, kind = Stage(stage), EventKind(event)
    except ValueError as error:
        raise PlacementError(f"stage, event: {error}") from error
    after = before if kind is EventKind.ASSESSMENT else _STEPS[before].get(kind)
    if after is None:
        raise TransitionError(before, kind, tuple(_STEPS[before]))
    held, holds = before in HOLDS_SLOT, after in HOLDS_SLOT
    return SlotChange.TAKE if holds and not held else SlotChange.GIVE_BACK if held and not holds else SlotChange.NONE


class _Record(Frozen):
    """A placement record: its validation problems raise `_error` (a `PlacementError` by default),
    each located by a dotted path."""

    _error: ClassVar[type[ValueError]] = PlacementError

    @classmethod
    def _invalid(cls, error: ValidationError) -> Exception:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or cls.__name__.lower()
            cause = (item.get("ctx") or {}).get("error")
            problems.append(f"{where}: {cause if isinstance(cause, ValueError) else item['msg']}")
        return cls._error("; ".join(problems))


class Assessment(_Record):
    """A structured end-of-trial assessment, from the employer or from the person."""

    source: AssessmentSource
    tasks_mastered: int = Field(ge=1, le=5, description="how well the tasks are mastered, 1 (not) to 5 (fully)")
    would_continue: WouldContinue
    what_worked: str = ""
    what_to_change: str = ""


class Event(_Record):
    """One thing that happened to a placement, when and by whom it was recorded.

    `ended` needs a `reason` (and `reason_text` when the reason is `other`); `assessment` needs an
    `assessment`; other events carry neither.
    """

    kind: EventKind
    at: datetime
    by: str = Field(min_length=1)
    reason: EndReason | None = None
    reason_text: str | None = None
    assessment: Assessment | None = None

    @model_validator(mode="after")
    def _payload_fits_kind(self) -> Event:
        if self.kind is EventKind.ENDED:
            if self.reason is None:
                raise ValueError("reason: an ended event needs a reason code")
            if self.reason is EndReason.OTHER and not (self.reason_text or "").strip():
                raise ValueError("reason_text: reason 'other' needs a text")
        elif self.reason is not None or self.reason_text is not None:
            raise ValueError(f"reason: only an ended event has a reason, not {self.kind.value}")
        if self.kind is EventKind.ASSESSMENT and self.assessment is None:
            raise ValueError("assessment: an assessment event needs the assessment")
        if self.kind is not EventKind.ASSESSMENT and self.assessment is not None:
            raise ValueError(f"assessment: only an assessment event carries one, not {self.kind.value}")
        return self


class PlacementState(_Record):
    """Where a placement stands: its stage, the furthest stage reached, why it ended, its assessments."""

    stage: Stage = Stage.NONE
    reached: Stage = Stage.NONE
    end_reason: EndReason | None = None
    end_text: str | None = None
    assessments: tuple[Assessment, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> PlacementState:
        if self.reached is Stage.ENDED:
            raise ValueError("reached: the furthest stage is one before the end")
        if self.stage is not Stage.ENDED and self.stage is not self.reached:
            raise ValueError(f"reached: must equal stage ({self.stage.value}) until the placement ends")
        if (self.stage is Stage.ENDED) != (self.end_reason is not None):
            raise ValueError("end_reason: given exactly when the placement has ended")
        sources = [a.source for a in self.assessments]
        if len(set(sources)) != len(sources):
            raise ValueError("assessments: at most one from each source")
        if sources and not self.may_assess:
            raise ValueError("assessments: only after the trial was completed, or ended after a start")
        return self

    @property
    def final(self) -> bool:
        """Whether the placement is hired or ended (only assessments can still be added)."""
        return self.stage in FINAL_STAGES

    @property
    def grade(self) -> int:
        """The furthest stage reached, graded as in data contract v1 (0-4)."""
        return GRADES[self.reached]

    @property
    def may_assess(self) -> bool:
        """Whether end-of-trial assessments can be given: after completion, or an end after a start."""
        if self.stage is Stage.ENDED:
            return GRADES[self.reached] >= GRADES[Stage.TRIAL_STARTED]
        return GRADES[self.stage] >= GRADES[Stage.TRIAL_COMPLETED]

    @property
    def missing_assessments(self) -> tuple[AssessmentSource, ...]:
        """The sources whose assessment is still missing (empty while assessments are not possible)."""
        if not self.may_assess:
            return ()
        given = {a.source for a in self.assessments}
        return tuple(s for s in AssessmentSource if s not in given)

    @property
    def allowed_next(self) -> tuple[EventKind, ...]:
        """The events allowed next, in the order of the process."""
        allowed = list(_STEPS[self.stage])
        if self.missing_assessments:
            allowed.append(EventKind.ASSESSMENT)
        return tuple(allowed)


INITIAL_STATE = PlacementState()


def apply_event(state: PlacementState, event: Event) -> PlacementState:
    """The placement's state after `event`.

    Args:
        state: the state before (`INITIAL_STATE` for a new placement).
        event: the event.

    Returns:
        The new state (the old one is unchanged).

    Raises:
        TransitionError: the event is not allowed now; `allowed_next` lists what is.
    """
    if event.kind is EventKind.ASSESSMENT:
        assessment = event.assessment
        if assessment is None:  # Event's validation guarantees it; kept for the type checker
            raise PlacementError("assessment: an assessment event needs the assessment")
        if not state.may_assess:
            detail = "only after the trial was completed, or when it ended after it had started"
            raise TransitionError(state.stage, event.kind, state.allowed_next, detail)
        if assessment.source not in state.missing_assessments:
            detail = f"an assessment from the {assessment.source.value} is already recorded"
            raise TransitionError(state.stage, event.kind, state.allowed_next, detail)
        return state.model_copy(update={"assessments": (*state.assessments, assessment)})
    target = _STEPS[state.stage].get(event.kind)
    if target is None:
        raise TransitionError(state.stage, event.kind, state.allowed_next)
    if target is Stage.ENDED:
        return state.model_copy(
            update={"stage": Stage.ENDED, "end_reason": event.reason, "end_text": event.reason_text}
        )
    return state.model_copy(update={"stage": target, "reached": target})


def replay(events: Iterable[Event], state: PlacementState = INITIAL_STATE) -> PlacementState:
    """The state after each of `events` in turn.

    Raises:
        TransitionError: one of the events was not allowed where it came.
    """
    for event in events:
        state = apply_event(state, event)
    return state


def grade_of(events: Iterable[Event]) -> int:
    """The furthest stage a placement's events reached, as data contract v1 grades it.

    0 rejected or not pursued (no events, or ended before contact), 1 employer contacted, 2 trial
    started, 3 trial completed, 4 hired. An end keeps the grade of the stage it ended from.

    Raises:
        TransitionError: the events are not a possible sequence.
    """
    return replay(events).grade


def recorded_grade(events: Iterable[tuple[str, str | None]]) -> tuple[int | None, str | None]:
    """The grade of the furthest stage a placement's recorded events reached, and why it ended.

    The events are read as the store keeps them, `(kind, reason)` oldest first, without checking
    the sequence again: an event that reaches a stage counts with that stage's grade (`GRADES`),
    an end keeps the grade reached before it (0 when it came before any stage) and gives its
    reason, and any other kind (an assessment) does not count. The training label built on it
    is `matching.labels.label`.

    Returns:
        The grade, None when no event reached a stage or ended; the reason of the (last) end,
        None when the placement did not end.
    """
    reached: int | None = None
    ended: str | None = None
    for kind, reason in events:
        stage = _REACHES.get(kind)
        if stage is not None:
            reached = max(reached or 0, GRADES[stage])
        elif kind == EventKind.ENDED:
            ended = reason
            reached = reached or 0
    return reached, ended


class RecordedFollowUp(_Record):
    """A follow-up that took place: when, with whom (person or workplace), by whom, and a note."""

    _error: ClassVar[type[ValueError]] = FollowUpError

    on: date
    contact: Contact
    by: str = Field(min_length=1)
    note: str = ""


class DueFollowUp(_Record):
    """A planned follow-up not done yet: which placement and candidate, whom to contact, by whom, and when."""

    _error: ClassVar[type[ValueError]] = FollowUpError

    placement_id: str | None
    candidate_id: str
    workplace_id: str
    contact: Contact
    by: str
    due: date
    days_overdue: int


class FollowUpStatus(_Record):
    """What is due within the horizon (from today on) and what is overdue (before today)."""

    _error: ClassVar[type[ValueError]] = FollowUpError

    due: tuple[DueFollowUp, ...] = ()
    overdue: tuple[DueFollowUp, ...] = ()


def is_done(entry: FollowUp, recorded: Iterable[RecordedFollowUp], tolerance_days: int = DONE_TOLERANCE_DAYS) -> bool:
    """Whether a follow-up with the entry's party was recorded on or after (due date - tolerance)."""
    earliest = entry.due - timedelta(days=tolerance_days)
    return any(r.contact is entry.contact and r.on >= earliest for r in recorded)


def due_followups(
    schedule: Sequence[FollowUp],
    recorded: Sequence[RecordedFollowUp],
    today: date,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    placement_id: str | None = None,
    tolerance_days: int = DONE_TOLERANCE_DAYS,
) -> FollowUpStatus:
    """The follow-ups of one plan that are due soon or overdue, and not done.

    An entry counts as done when a follow-up with the same party (person or workplace) was
    recorded on or after its due date minus `tolerance_days`. The two lists do not overlap.

    Args:
        schedule: the plan's schedule (`PlanDraft.followups` of the agreed revision).
        recorded: the follow-ups recorded against the plan.
        today: the day asked about.
        horizon_days: how far ahead "due" looks.
        placement_id: the placement the plan belongs to, named in each entry.
        tolerance_days: how early a follow-up may take place and still count.

    Returns:
        `due` (today <= date <= today + horizon) and `overdue` (date < today), each by date, then
        person before workplace.

    Raises:
        FollowUpError: a negative horizon or tolerance.
    """
    if horizon_days < 0:
        raise FollowUpError(f"horizon_days: must be >= 0, got {horizon_days}")
    if tolerance_days < 0:
        raise FollowUpError(f"tolerance_days: must be >= 0, got {tolerance_days}")
    limit = today + timedelta(days=horizon_days)
    order = {c: i for i, c in enumerate(Contact)}
    due: list[DueFollowUp] = []
    overdue: list[DueFollowUp] = []
    for entry in sorted(schedule, key=lambda e: (e.due, order[e.contact])):
        if entry.due > limit or is_done(entry, recorded, tolerance_days):
            continue
        item = DueFollowUp(
            placement_id=placement_id,
            candidate_id=entry.candidate_id,
            workplace_id=entry.workplace_id,
            contact=entry.contact,
            by=entry.by,
            due=entry.due,
            days_overdue=max((today - entry.due).days, 0),
        )
        (overdue if entry.due < today else due).append(item)
    return FollowUpStatus(due=tuple(due), overdue=tuple(overdue))
