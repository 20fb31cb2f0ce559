"""Fields that live in the store only, outside data contract v1: the name an adviser gives a person
(`display_name`, so advisers see people, not ids), the job specialist who works with a workplace
(`job_specialist_id`) and the workplace's tutor (`tutor_name`: the colleague who trains and looks
out for a trainee there; a new plan at the workplace names them). None is loaded, exported,
validated as contract data or used as a feature; a load of a file leaves them as they are. Names
never go into logs or audit details (the audit names the field only); a person's display name is
part of their data export and erased with them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.store.changes import record_changes
from matching.store.errors import NotFoundError, StoreError
from matching.store.models import Candidate, Workplace

MAX_DISPLAY_NAME = 100
ID_BATCH = 500  # ids per IN list (SQLite limits a statement's parameters)


def _optional_text(value: str | None, field: str, limit: int | None = None) -> str | None:
    if value is not None and not isinstance(value, str):
        raise StoreError(f"must be text or None, not {type(value).__name__}", field=field)
    text = (value or "").strip()
    if limit is not None and len(text) > limit:
        raise StoreError(f"must be at most {limit} characters", field=field)
    return text or None


def _set_local(
    session: Session,
    model: type[Candidate] | type[Workplace],
    record_id: str,
    field: str,
    value: str | None,
    source: str,
    limit: int | None = None,
) -> str | None:
    """Set (or clear) one store-only text field of a stored record, in the caller's transaction;
    logs a change when the value changes. Returns the value as stored."""
    text = _optional_text(value, field, limit)
    row = session.get(model, record_id, with_for_update=True)
    if row is None:
        kind = "candidate" if model is Candidate else "workplace"
        raise NotFoundError(f"unknown {kind} {record_id!r}", field=f"{kind}_id")
    if getattr(row, field) != text:
        setattr(row, field, text)
        session.flush()
        record_changes(session, model.__tablename__, [record_id], source)
    return text


def set_display_name(session: Session, candidate_id: str, name: str | None, source: str = "api") -> str | None:
    """Set (or clear) the person's display name, in the caller's transaction; logs a change.

    Args:
        session: the transaction to write in.
        candidate_id: the person.
        name: the name; stripped; empty or None clears it.
        source: what changed it, for the change log.

    Returns:
        The name as stored (None when cleared).

    Raises:
        NotFoundError: for an unknown (or erased) person.
        StoreError: (field `display_name`) for a name over 100 characters or not text.
    """
    return _set_local(session, Candidate, candidate_id, "display_name", name, source, MAX_DISPLAY_NAME)


def set_tutor_name(session: Session, workplace_id: str, name: str | None, source: str = "api") -> str | None:
    """Set (or clear, with None or empty) the workplace's tutor, whom a plan drafted there names;
    logs a change. Raises NotFoundError for an unknown workplace and StoreError (field
    `tutor_name`) for a name over 100 characters or not text."""
    return _set_local(session, Workplace, workplace_id, "tutor_name", name, source, MAX_DISPLAY_NAME)


def display_names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """The display names of those of `ids` that have one (a person without one is left out)."""
    wanted = sorted({str(i) for i in ids})
    names: dict[str, str] = {}
    for start in range(0, len(wanted), ID_BATCH):
        rows = session.execute(
            select(Candidate.candidate_id, Candidate.display_name).where(
                Candidate.candidate_id.in_(wanted[start : start + ID_BATCH]), Candidate.display_name.is_not(None)
            )
        )
        names.update({candidate_id: name for candidate_id, name in rows if name is not None})
    return names


def set_job_specialist(
    session: Session, workplace_id: str, specialist_id: str | None, source: str = "api"
) -> str | None:
    """Set (or clear, with None or empty) the job specialist who works with the workplace; logs a change.

    Returns:
        The specialist's id as stored (None when cleared).

    Raises:
        NotFoundError: for an unknown workplace.
        StoreError: (field `job_specialist_id`) for a value that is not text.
    """
    return _set_local(session, Workplace, workplace_id, "job_specialist_id", specialist_id, source)


def workplaces_of_specialist(session: Session, specialist_id: str) -> list[str]:
    """The ids of the workplaces the job specialist works with, sorted."""
    return sorted(session.scalars(select(Workplace.workplace_id).where(Workplace.job_specialist_id == specialist_id)))


def job_specialist_of(session: Session, workplace_id: str) -> str | None:
    """The job specialist who works with the workplace, or None (none yet, or no such workplace)."""
    return session.scalar(select(Workplace.job_specialist_id).where(Workplace.workplace_id == workplace_id))
