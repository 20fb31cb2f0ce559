"""A workplace's free slots, kept true: a trial that starts takes one, a placement that ends after
its trial started gives it back (`matching.placements.slot_change` says which event does what).

Each function locks the workplace's row for the rest of the transaction (`SELECT ... FOR UPDATE`
on PostgreSQL; SQLite's writing transactions are serial already), so two trials starting at once
cannot both take the last slot. Every change of slots is logged in the change log (source
`slot`), so every worker's candidate generation sees it at once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.placements import EventKind, SlotChange, Stage, slot_change
from matching.store.changes import record_changes
from matching.store.errors import NotFoundError, StoreError
from matching.store.models import Workplace

SLOT_SOURCE = "slot"


def _locked_workplace(session: Session, workplace_id: str) -> Workplace:
    row = session.scalars(
        select(Workplace)
        .where(Workplace.workplace_id == workplace_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"unknown workplace {workplace_id!r}", field="workplace_id")
    return row


def take_slot(session: Session, workplace_id: str) -> int:
    """Take one of the workplace's free slots (a trial starts), in the caller's transaction.

    Returns:
        The free slots left afterwards.

    Raises:
        NotFoundError: for an unknown workplace.
        StoreError: (field `slots`) when the workplace has no free slot; nothing changes.
    """
    row = _locked_workplace(session, workplace_id)
    if row.slots < 1:
        raise StoreError(f"workplace {workplace_id!r} has no free slot", field="slots")
    row.slots -= 1
    session.flush()
    record_changes(session, "workplaces", [workplace_id], SLOT_SOURCE)
    return row.slots


def give_back_slot(session: Session, workplace_id: str) -> int:
    """Give a slot back to the workplace (a placement ended after its trial started).

    Returns:
        The free slots afterwards.

    Raises:
        NotFoundError: for an unknown workplace.
    """
    row = _locked_workplace(session, workplace_id)
    row.slots += 1
    session.flush()
    record_changes(session, "workplaces", [workplace_id], SLOT_SOURCE)
    return row.slots


def follow_placement_event(
    session: Session, workplace_id: str, kind: EventKind | str, stage_before: Stage | str
) -> int | None:
    """Take or give back the workplace's slot as a placement event demands (`slot_change`).

    Call it in the transaction that records the event, with the placement's stage before it.

    Returns:
        The free slots afterwards, or None when the event neither takes nor gives back a slot.

    Raises:
        NotFoundError: for an unknown workplace.
        StoreError: (field `slots`) when a trial starts at a workplace without a free slot.
        PlacementError: for an unknown stage or event, or an event the stage does not allow.
    """
    change = slot_change(stage_before, kind)
    if change is SlotChange.TAKE:
        return take_slot(session, workplace_id)
    if change is SlotChange.GIVE_BACK:
        return give_back_slot(session, workplace_id)
    return None
