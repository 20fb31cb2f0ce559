"""Where each person of a caseload stands, read for the whole caseload at once: their stage in the
loop (from shortlists, the adviser's current decisions, the person's latest answers, plans and
placements) and whether a follow-up of theirs is overdue. A fixed handful of grouped queries per
batch of ids, never one per person.

A person's stage is the furthest one any of their suggestions or placements has reached, in the
order of `STAGES` from the last to the first: a hire outweighs a trial, a trial outweighs a plan,
and so on. An ended placement counts only when nothing else is under way (a new accepted
suggestion waiting for an answer, say), but still outweighs a shortlist with nothing accepted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from matching.store.errors import StoreError
from matching.store.models import (
    Decision,
    Followup,
    InclusionPlan,
    PersonAnswer,
    Placement,
    Shortlist,
    ShortlistItem,
)

ID_BATCH = 500  # ids per IN list (SQLite limits a statement's parameters)

# From the start of the loop to its end; a person's stage is the last one reached (see the docstring).
STAGES: tuple[str, ...] = (
    "no_shortlist",  # no shortlist yet
    "shortlisted",  # a shortlist, but no suggestion accepted (or every accepted one was declined)
    "ended",  # a placement ended and nothing else is under way
    "waiting_answer",  # an accepted suggestion without the person's answer (or with "unsure")
    "plan_to_approve",  # the person is interested; the plan is not yet approved by all three
    "agreed",  # the plan is agreed; the placement is open (contacted or not), no trial yet
    "in_trial",  # the trial has started
    "trial_completed",  # the trial is completed; no hire recorded yet
    "hired",
)
_RANK = {stage: i for i, stage in enumerate(STAGES)}
_PLACEMENT_STAGES = {
    "none": "agreed",
    "contacted": "agreed",
    "trial_started": "in_trial",
    "trial_completed": "trial_completed",
    "hired": "hired",
    "ended": "ended",
}


@dataclass(frozen=True)
class CaseloadStatus:
    """Where one person stands: `stage` (one of `STAGES`), their overdue follow-ups (not done, due
    before the day asked about) and the earliest day among them (None when none is overdue)."""

    candidate_id: str
    stage: str
    overdue_followups: int
    overdue_since: dt.date | None

    @property
    def overdue(self) -> bool:
        return self.overdue_followups > 0


def _batches(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), ID_BATCH):
        yield list(ids[start : start + ID_BATCH])


def _latest(rows: Iterable[Row[int, str]]) -> dict[int, str]:
    """The last value per item of rows already ordered oldest first."""
    latest: dict[int, str] = {}
    for item_id, value in rows:
        latest[item_id] = value
    return latest


def _item_stage(decision: str | None, answer: str | None, placement_state: str | None) -> str:
    if placement_state is not None:
        return _PLACEMENT_STAGES.get(placement_state, "agreed")
    if decision != "accept" or answer == "not_interested":
        return "shortlisted"
    if answer == "interested":
        return "plan_to_approve"
    return "waiting_answer"


def _stages(session: Session, ids: list[str]) -> dict[str, str]:
    """The stage of each person among `ids` (one batch)."""
    stages = {c: "no_shortlist" for c in ids}

    def reach(candidate_id: str, stage: str) -> None:
        if _RANK[stage] > _RANK[stages[candidate_id]]:
            stages[candidate_id] = stage

    items = session.execute(
        select(Shortlist.candidate_id, ShortlistItem.id)
        .outerjoin(ShortlistItem, ShortlistItem.shortlist_id == Shortlist.id)
        .where(Shortlist.candidate_id.in_(ids))
    ).all()
    of_item = {item_id: c for c, item_id in items if item_id is not None}
    for candidate_id, _ in items:
        reach(candidate_id, "shortlisted")
    in_caseload = ShortlistItem.shortlist_id.in_(select(Shortlist.id).where(Shortlist.candidate_id.in_(ids)))
    decisions = _latest(
        session.execute(
            select(Decision.shortlist_item_id, Decision.decision)
            .join(ShortlistItem, ShortlistItem.id == Decision.shortlist_item_id)
            .where(in_caseload)
            .order_by(Decision.shortlist_item_id, Decision.decided_at, Decision.id)
        ).all()
    )
    answers = _latest(
        session.execute(
            select(PersonAnswer.shortlist_item_id, PersonAnswer.answer)
            .join(ShortlistItem, ShortlistItem.id == PersonAnswer.shortlist_item_id)
            .where(in_caseload)
            .order_by(PersonAnswer.shortlist_item_id, PersonAnswer.recorded_at, PersonAnswer.id)
        ).all()
    )
    placed = session.execute(
        select(Placement.candidate_id, Placement.state, InclusionPlan.shortlist_item_id)
        .join(InclusionPlan, InclusionPlan.id == Placement.plan_id)
        .where(Placement.candidate_id.in_(ids))
    ).all()
    placed_items = set()
    for candidate_id, state, item_id in placed:
        reach(candidate_id, _item_stage(None, None, state))
        placed_items.add(item_id)
    for item_id, candidate_id in of_item.items():
        if item_id not in placed_items:
            reach(candidate_id, _item_stage(decisions.get(item_id), answers.get(item_id), None))
    return stages


def _overdue(session: Session, ids: list[str], today: dt.date) -> dict[str, tuple[int, dt.date]]:
    rows = session.execute(
        select(Placement.candidate_id, func.count(Followup.id), func.min(Followup.due_on))
        .join(Placement, Placement.id == Followup.placement_id)
        .where(Placement.candidate_id.in_(ids), Followup.done_on.is_(None), Followup.due_on < today)
        .group_by(Placement.candidate_id)
    ).all()
    return {c: (int(n), first) for c, n, first in rows}


def caseload_status(session: Session, candidate_ids: Iterable[str], today: dt.date) -> dict[str, CaseloadStatus]:
    """Where each person stands, for a whole caseload.

    Args:
        session: the transaction to read in.
        candidate_ids: the persons (unknown ids come back as "no_shortlist", nothing overdue).
        today: a follow-up not done and due before this day is overdue.

    Returns:
        Each person's status, by id.

    Raises:
        StoreError: (field `today`) when `today` is not a date.
    """
    if isinstance(today, dt.datetime) or not isinstance(today, dt.date):
        raise StoreError(f"must be a date, not {today!r}", field="today")
    ids = sorted({str(c) for c in candidate_ids})
    out: dict[str, CaseloadStatus] = {}
    for batch in _batches(ids):
        stages = _stages(session, batch)
        overdue = _overdue(session, batch, today)
        for c in batch:
            count, since = overdue.get(c, (0, None))
            out[c] = CaseloadStatus(candidate_id=c, stage=stages[c], overdue_followups=count, overdue_since=since)
    return out
