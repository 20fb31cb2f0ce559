"""One contract record at a time: a person's or a workplace's stored row, who a person's adviser
(fixed contact) is, which employer a workplace belongs to, and whether the fairness table holds
a person. What the API needs to check access and draft a plan, without the ORM."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from matching.store.base import Base, table_of
from matching.store.models import Audit, Candidate, Workplace

_CANDIDATES = table_of(Candidate).c
_ADVISER_OF = select(_CANDIDATES.adviser_id).where(_CANDIDATES.candidate_id == bindparam("candidate_id"))  # Core


def _every_column(row: Base) -> dict[str, Any]:
    return {column.name: copy.deepcopy(getattr(row, column.name)) for column in row.__table__.columns}


def candidate_record(session: Session, candidate_id: str) -> dict[str, Any] | None:
    """The person's contract record (every stored column), or None when the store has no such person."""
    row = session.get(Candidate, candidate_id)
    return None if row is None else _every_column(row)


def has_fairness_record(session: Session, candidate_id: str) -> bool:
    """Whether the contract `audit` table (age band and gender, for fairness reports only) holds the person."""
    return session.get(Audit, candidate_id) is not None


def workplace_record(session: Session, workplace_id: str) -> dict[str, Any] | None:
    """The workplace's contract record (every stored column), or None when the store has no such workplace."""
    row = session.get(Workplace, workplace_id)
    return None if row is None else _every_column(row)


def adviser_of(session: Session, candidate_id: str) -> str | None:
    """The person's adviser (their fixed contact), or None when the store has no such person."""
    return session.scalar(_ADVISER_OF, {"candidate_id": candidate_id})


def employer_of(session: Session, workplace_id: str) -> str | None:
    """The employer a workplace belongs to, or None when the store has no such workplace."""
    return session.scalar(select(Workplace.employer_id).where(Workplace.workplace_id == workplace_id))
