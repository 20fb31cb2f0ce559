"""Follow-ups of a placement: schedule them (each names the adviser who must do it, by default the
person's fixed contact), record that one took place, and list what an adviser has due and overdue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.clock import utc_now
from matching.review import FOLLOWUP_PARTIES
from matching.store.errors import NotFoundError, StoreError
from matching.store.models import Candidate, Followup, Placement
from matching.store.placements import require_placement
from matching.store.values import required_text


@dataclass(frozen=True)
class FollowupRecord:
    """A scheduled follow-up, with the placement's candidate and workplace; done when `done_on` is set."""

    id: int
    placement_id: int
    candidate_id: str
    workplace_id: str
    party: str
    due_on: dt.date
    contact_id: str
    done_on: dt.date | None
    done_by: str | None
    note: str | None


def _day(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise StoreError(f"must be a date, not a time ({value.isoformat()})", field=field)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise StoreError(f"must be a date (YYYY-MM-DD), not {value!r}", field=field)


def _followup_party(party: Any, field: str) -> str:
    if party not in FOLLOWUP_PARTIES:
        raise StoreError(f"must be one of {', '.join(FOLLOWUP_PARTIES)}, not {party!r}", field=field)
    return str(party)


def _followup_records(session: Session, condition: Any) -> list[FollowupRecord]:
    party_order = {party: i for i, party in enumerate(FOLLOWUP_PARTIES)}
    rows = session.execute(
        select(Followup, Placement.candidate_id, Placement.workplace_id)
        .join(Placement, Placement.id == Followup.placement_id)
        .where(condition)
    ).all()
    records = [
        FollowupRecord(
            id=row.id,
            placement_id=row.placement_id,
            candidate_id=candidate_id,
            workplace_id=workplace_id,
            party=row.party,
            due_on=row.due_on,
            contact_id=row.contact_id,
            done_on=row.done_on,
            done_by=row.done_by,
            note=row.note,
        )
        for row, candidate_id, workplace_id in rows
    ]
    return sorted(records, key=lambda r: (r.due_on, party_order.get(r.party, 99), r.id))


def schedule_followups(session: Session, placement_id: int, entries: Sequence[Mapping[str, Any]]) -> list[int]:
    """Schedule follow-ups of a placement.

    An entry already scheduled (same party and day) is kept as it is, so scheduling the same plan
    again is harmless.

    Args:
        session: the transaction to write in.
        placement_id: the placement.
        entries: each with `due_on` (a date or "YYYY-MM-DD"), `party` ("person" or "workplace") and
            optionally `contact_id`, the adviser who must do it (by default the candidate's adviser,
            the fixed contact person).

    Returns:
        The follow-ups' ids, in the order of `entries`.

    Raises:
        NotFoundError: for an unknown placement.
        StoreError: naming the entry's field, for a bad day or party, or an entry already
            scheduled for another contact.
    """
    placement = require_placement(session, placement_id, lock=True)
    adviser = session.scalar(select(Candidate.adviser_id).where(Candidate.candidate_id == placement.candidate_id))
    wanted: list[tuple[dt.date, str, str]] = []
    for i, entry in enumerate(entries):
        where = f"entries[{i}]"
        if not isinstance(entry, Mapping):
            raise StoreError(f"must be a mapping, not {type(entry).__name__}", field=where)
        contact = entry.get("contact_id")
        wanted.append(
            (
                _day(entry.get("due_on"), f"{where}.due_on"),
                _followup_party(entry.get("party"), f"{where}.party"),
                required_text(contact, f"{where}.contact_id") if contact is not None else str(adviser),
            )
        )
    existing = {
        (row.due_on, row.party): row
        for row in session.scalars(select(Followup).where(Followup.placement_id == placement_id))
    }
    ids: list[int] = []
    for i, (due_on, party, contact) in enumerate(wanted):
        row = existing.get((due_on, party))
        if row is None:
            row = Followup(placement_id=placement_id, due_on=due_on, party=party, contact_id=contact)
            session.add(row)
            session.flush()
            existing[(due_on, party)] = row
        elif row.contact_id != contact:
            raise StoreError(
                f"the {party} follow-up on {due_on.isoformat()} is already scheduled for {row.contact_id!r}",
                field=f"entries[{i}].contact_id",
            )
        ids.append(row.id)
    return ids


def record_followup(
    session: Session,
    followup_id: int | None = None,
    *,
    placement_id: int | None = None,
    party: str | None = None,
    due_on: dt.date | str | None = None,
    by: str,
    note: str | None = None,
    done_on: dt.date | None = None,
) -> FollowupRecord:
    """Record that a scheduled follow-up took place.

    Name it by `followup_id`, or by `placement_id`, `party` and `due_on` (the day it was due).

    Args:
        session: the transaction to write in.
        followup_id: the follow-up's id.
        placement_id: with `party` and `due_on`, instead of `followup_id`.
        party: "person" or "workplace".
        due_on: the day it was scheduled for.
        by: who did it.
        note: what came of it (free text).
        done_on: the day it took place; today (UTC) by default.

    Returns:
        The follow-up, done.

    Raises:
        NotFoundError: when no such follow-up is scheduled.
        StoreError: naming the field, when it is named both ways or neither, for an empty `by`,
            or when it was already recorded (field `followup_id`).
    """
    by = required_text(by, "by")
    done = _day(done_on, "done_on") if done_on is not None else utc_now().date()
    text = note.strip() if note and note.strip() else None
    by_key = placement_id is not None or party is not None or due_on is not None
    if (followup_id is None) == (not by_key) or (by_key and (placement_id is None or party is None or due_on is None)):
        raise StoreError("name the follow-up by its id, or by placement_id, party and due_on", field="followup_id")
    if followup_id is not None:
        row = session.get(Followup, followup_id, with_for_update=True)
        if row is None:
            raise NotFoundError(f"unknown follow-up {followup_id!r}", field="followup_id")
    else:
        day = _day(due_on, "due_on")
        kind = _followup_party(party, "party")
        row = session.scalars(
            select(Followup)
            .where(Followup.placement_id == placement_id, Followup.party == kind, Followup.due_on == day)
            .with_for_update()
        ).one_or_none()
        if row is None:
            raise NotFoundError(
                f"placement {placement_id!r} has no {kind} follow-up due on {day.isoformat()}", field="due_on"
            )
    if row.done_on is not None:
        raise StoreError(
            f"follow-up {row.id} was already recorded on {row.done_on.isoformat()} by {row.done_by!r}",
            field="followup_id",
        )
    row.done_on = done
    row.done_by = by
    row.note = text
    session.flush()
    return _followup_records(session, Followup.id == row.id)[0]


def followups_for_adviser(
    session: Session, adviser_id: str, today: dt.date, horizon_days: int = 7
) -> dict[str, list[FollowupRecord]]:
    """The follow-ups an adviser has yet to do: `due` (today <= due_on <= today + horizon_days) and
    `overdue` (due_on < today); the two do not overlap. Each list is by day, then person before
    workplace.

    Raises:
        StoreError: naming the field, for a bad day or a negative horizon.
    """
    day = _day(today, "today")
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 0:
        raise StoreError(f"must be a whole number >= 0, not {horizon_days!r}", field="horizon_days")
    limit = day + dt.timedelta(days=horizon_days)
    records = _followup_records(
        session, (Followup.contact_id == adviser_id) & Followup.done_on.is_(None) & (Followup.due_on <= limit)
    )
    return {
        "due": [r for r in records if r.due_on >= day],
        "overdue": [r for r in records if r.due_on < day],
    }
