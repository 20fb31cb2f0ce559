"""Training labels from what the record says happened: one place, for every stored suggestion.

A suggestion's history is what was recorded about it: the adviser's current decision (accept or
reject, with a reason code), the person's latest answer (interested, not_interested, unsure), and
the events of the placement that followed it (contacted, trial_started, trial_completed, hired,
ended with a reason, and the end-of-trial assessments of the person and of the employer). `label`
turns one history into a training label, or says why it is left out; `matching.store.outcomes`
reads the histories and gives them to `label`, and nothing else grades a stored suggestion.

**The grade** (data contract v1 `outcomes.grade`, 0-4, what `training.fit` ranks with):

1. A placement event decides first. The grade is the furthest stage an event recorded
   (`matching.placements.GRADES`): contacted 1, trial_started 2, trial_completed 3, hired 4. An end
   keeps the stage it ended from. The reason is the end's reason code, else `assessed_stop` (rule
   2), else the adviser's rejection reason code when the current decision is a rejection.
2. The assessments refine a completed trial: when the trial was completed but no hire followed,
   and the person's or the employer's assessment says they would not go on (`would_continue` =
   "no"), the grade is 2 (trial_started) instead of 3. So a completed trial both sides want to go
   on with (or one of them, the other unsure or not yet assessed) ranks above one where either
   says stop, and below a hire.
   The other parts of an assessment (how well tasks were mastered, what worked, what to change)
   stay in the record and do not move the grade: the contract's grade has no finer steps.
3. Without a stage event (no placement, no event, or an end before any stage) nothing went
   beyond the suggestion itself, so the grade is 0 - never "employer contacted". The reason
   says why, the first that applies:
   - `not_interested`: the person's own latest answer is "not interested" - their label, kept
     apart from an adviser's rejection (even one with reason code `person_not_interested`);
   - the end's reason code, when the placement ended before any stage;
   - the adviser's rejection reason code, when the current decision is a rejection;
   - `no_event`: accepted, but no event followed within the waiting time (below).
4. A suggestion with no decision is not a label, unless the person answered "not interested"
   (rule 3): an unreviewed suggestion says nothing about the match.

**Settled or left out.** Only settled rows become labels; the rest are left out, counted by why
(`LEFT_OUT`), until the record settles them. A row is settled when

- its placement was hired or ended, or
- it has no stage event and its current decision is a rejection, or the person's latest answer is
  "not interested" (the suggestion goes no further), or
- the last thing recorded about it (the latest placement event, decision or answer) is older than
  the waiting time, `settle_days` (setting `JOBMATCH_OUTCOME_SETTLE_DAYS`, default
  `DEFAULT_SETTLE_DAYS`): a placement that has not moved on by then counts with the stage it
  reached (refined as above), and an accepted suggestion with no event counts 0 (`no_event`).

A row not settled is left out as `placement_running` (a stage event, no end or hire, the last
event within the waiting time) or `awaiting_first_event` (accepted, no stage event, within the
waiting time). A later training run reads the record again, so a row left out today counts once
it settles; a decision or answer corrected later changes its label the same way.

**Why the grade stays 0-4.** The contract allows grades 0-4 (`matching.records`, and the store's
`outcomes` table checks it), and the ranker's lambdarank gains are one per grade 0-4
(`training.fit`). So the refinements move a row within that range rather than adding grades or a
column: every existing dataset stays valid, and a stored label means the same as a loaded one.

**Where it is used.** `matching.store.outcomes.stored_labels` reads the histories and keeps the
settled rows with the feature values stored with each suggestion; `jobmatch train --from-db`
trains on them and prints how many were left out and why; `jobmatch export` writes the same
settled rows as the contract's `outcomes`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from matching.placements import GRADES, EventKind, Stage, WouldContinue, recorded_grade
from matching.settings import DEFAULT_SETTLE_DAYS

NOT_INTERESTED = "not_interested"  # the person's own answer, as a reason
ASSESSED_STOP = "assessed_stop"  # a completed trial either side would not go on with
NO_EVENT = "no_event"  # accepted, nothing recorded since, the waiting time passed
PLACEMENT_RUNNING = "placement_running"
AWAITING_FIRST_EVENT = "awaiting_first_event"
LEFT_OUT: dict[str, str] = {
    PLACEMENT_RUNNING: "no end or hire yet, the last event within the waiting time",
    AWAITING_FIRST_EVENT: "accepted, no event yet, the last decision or answer within the waiting time",
}
__all__ = ["DEFAULT_SETTLE_DAYS", "LEFT_OUT", "History", "Label", "LeftOut", "RecordedEvent", "label"]


@dataclass(frozen=True)
class RecordedEvent:
    """One placement event as the store keeps it: kind, when, an end's reason code, its payload
    (an assessment event's payload holds `{"assessment": {"source", "would_continue", ...}}`)."""

    kind: str
    at: dt.datetime
    reason: str | None = None
    payload: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class History:
    """What was recorded about one suggestion.

    Attributes:
        decision: the adviser's current decision ("accept", "reject"), None when undecided.
        decision_reason: the current rejection's reason code.
        decided_at: when the current decision was recorded.
        answer: the person's latest answer ("interested", "not_interested", "unsure"), or None.
        answered_at: when that answer was recorded.
        events: the placement's events, oldest first (empty without a placement).
    """

    decision: str | None = None
    decision_reason: str | None = None
    decided_at: dt.datetime | None = None
    answer: str | None = None
    answered_at: dt.datetime | None = None
    events: Sequence[RecordedEvent] = field(default_factory=tuple)

    def last_recorded(self) -> dt.datetime | None:
        """The time of the latest thing recorded: an event, the decision or the answer."""
        times = [e.at for e in self.events] + [t for t in (self.decided_at, self.answered_at) if t is not None]
        return max(times) if times else None


@dataclass(frozen=True)
class Label:
    """A settled row's grade (0-4) and reason (None when there is none to give)."""

    grade: int
    reason: str | None = None


@dataclass(frozen=True)
class LeftOut:
    """A row left out of training for now; `why` is a key of `LEFT_OUT`."""

    why: str


def _would_stop(events: Sequence[RecordedEvent]) -> bool:
    for event in events:
        if event.kind != EventKind.ASSESSMENT or not event.payload:
            continue
        assessment = event.payload.get("assessment")
        if isinstance(assessment, Mapping) and assessment.get("would_continue") == WouldContinue.NO:
            return True
    return False


def label(history: History, now: dt.datetime, settle_days: float = DEFAULT_SETTLE_DAYS) -> Label | LeftOut | None:
    """The training label of one suggestion's history, as the module docstring says.

    Args:
        history: what was recorded about the suggestion.
        now: the time the record is read at (timezone-aware).
        settle_days: the waiting time, in days.

    Returns:
        A `Label` for a settled row, a `LeftOut` for one not settled yet, None for a suggestion
        that is not a label (undecided, and the person did not say "not interested").
    """
    kinds = [(e.kind, e.reason) for e in history.events]
    reached, end_reason = recorded_grade(kinds)
    ended = any(kind == EventKind.ENDED for kind, _ in kinds)
    last = history.last_recorded()
    waited = last is not None and now - last > dt.timedelta(days=settle_days)
    if reached:  # a stage event: rules 1 and 2
        grade, reason = reached, end_reason
        if grade == GRADES[Stage.TRIAL_COMPLETED] and _would_stop(history.events):
            grade, reason = GRADES[Stage.TRIAL_STARTED], reason or ASSESSED_STOP
        if history.decision == "reject":
            reason = reason or history.decision_reason
        if grade == GRADES[Stage.HIRED] or ended or waited:
            return Label(grade, reason)
        return LeftOut(PLACEMENT_RUNNING)
    # no stage reached: rule 3
    if history.answer == NOT_INTERESTED:
        return Label(0, NOT_INTERESTED)
    if history.decision is None:
        return None
    if ended:
        return Label(0, end_reason)
    if history.decision == "reject":
        return Label(0, history.decision_reason)
    return Label(0, NO_EVENT) if waited else LeftOut(AWAITING_FIRST_EVENT)
