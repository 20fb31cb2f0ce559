"""Presentations: an adviser or job specialist presented a person to a workplace. Once per person
and workplace; presenting again keeps the first. The employer side may see a person only when they
were presented there, their latest answer on a suggestion of it is "interested", and they consent
(`employer_may_see`). Erasing the person deletes their presentations (`matching.store.rights`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matching.store.decisions import interested_in
from matching.store.errors import NotFoundError
from matching.store.models import Candidate, Presentation, Workplace
from matching.store.values import aware, required_text


@dataclass(frozen=True)
class PresentationRecord:
    """Who was presented to which workplace, by whom and when."""

    id: int
    candidate_id: str
    workplace_id: str
    presented_by: str
    presented_at: dt.datetime


def _record(row: Presentation) -> PresentationRecord:
    return PresentationRecord(
        id=row.id,
        candidate_id=row.candidate_id,
        workplace_id=row.workplace_id,
        presented_by=row.presented_by,
        presented_at=row.presented_at,
    )


def _existing(session: Session, candidate_id: str, workplace_id: str) -> Presentation | None:
    return session.scalar(
        select(Presentation).where(Presentation.candidate_id == candidate_id, Presentation.workplace_id == workplace_id)
    )


def present(
    session: Session, candidate_id: str, workplace_id: str, by: str, at: dt.datetime | None = None
) -> PresentationRecord:
    """Record that `by` presented the person to the workplace, in the caller's transaction.

    Idempotent: when the person was presented there already (also by a concurrent writer), the
    first presentation stays and is returned.

    Args:
        session: the transaction to write in.
        candidate_id: the person.
        workplace_id: the workplace.
        by: the adviser or job specialist who presented them.
        at: when; now (UTC) by default.

    Returns:
        The presentation (the first one, when there was one).

    Raises:
        NotFoundError: for an unknown (or erased) person or an unknown workplace.
        StoreError: (field `by`) when `by` is empty.
    """
    by = required_text(by, "by")
    when = aware(at, "at")
    if session.get(Candidate, candidate_id) is None:
        raise NotFoundError(f"unknown candidate {candidate_id!r}", field="candidate_id")
    if session.get(Workplace, workplace_id) is None:
        raise NotFoundError(f"unknown workplace {workplace_id!r}", field="workplace_id")
    earlier = _existing(session, candidate_id, workplace_id)
    if earlier is not None:
        return _record(earlier)
    row = Presentation(candidate_id=candidate_id, workplace_id=workplace_id, presented_by=by, presented_at=when)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent writer presented them first: theirs stays
        earlier = _existing(session, candidate_id, workplace_id)
        if earlier is None:
            raise
        return _record(earlier)
    return _record(row)


def is_presented(session: Session, candidate_id: str, workplace_id: str) -> bool:
    """Whether the person was presented to the workplace."""
    return (
        session.scalar(
            select(Presentation.id).where(
                Presentation.candidate_id == candidate_id, Presentation.workplace_id == workplace_id
            )
        )
        is not None
    )


def presented_to(session: Session, workplace_id: str) -> list[str]:
    """The ids of the persons presented to the workplace, in the order they were presented."""
    return list(
        session.scalars(
            select(Presentation.candidate_id)
            .where(Presentation.workplace_id == workplace_id)
            .order_by(Presentation.presented_at, Presentation.id)
        )
    )


def presentations_at(session: Session, workplace_id: str) -> list[PresentationRecord]:
    """Every presentation to the workplace, in the order they were made."""
    rows = session.scalars(
        select(Presentation)
        .where(Presentation.workplace_id == workplace_id)
        .order_by(Presentation.presented_at, Presentation.id)
    )
    return [_record(row) for row in rows]


def presentations_of(session: Session, candidate_id: str) -> list[PresentationRecord]:
    """Every presentation of the person (for their data export), oldest first."""
    rows = session.scalars(
        select(Presentation)
        .where(Presentation.candidate_id == candidate_id)
        .order_by(Presentation.presented_at, Presentation.id)
    )
    return [_record(row) for row in rows]


def employer_may_see(session: Session, candidate_id: str, workplace_id: str) -> bool:
    """Whether the workplace's employer may see the person: they consent, their latest recorded
    answer on a suggestion of the workplace is "interested", and they were presented to it. Any
    of the three missing (or an unknown person), the person does not exist for that employer."""
    person = session.get(Candidate, candidate_id)
    if person is None or not bool(person.consent):
        return False
    return interested_in(session, candidate_id, workplace_id) and is_presented(session, candidate_id, workplace_id)
