"""Placements: the placement that follows a plan, its append-only events and its current state.
Which event may follow which is `matching.placements`' state machine; the store records what it
is given and, asked to, refuses an event when the state moved on since it was checked."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.store.errors import NotFoundError, StoreError
from matching.store.models import Placement, PlacementEvent
from matching.store.plans import require_plan
from matching.store.values import aware, plain_json, required_text


@dataclass(frozen=True)
class PlacementRecord:
    """A placement and its current state (as the domain's state machine named it)."""

    id: int
    plan_id: int
    candidate_id: str
    workplace_id: str
    state: str
    created_at: dt.datetime


@dataclass(frozen=True)
class PlacementEventRecord:
    """One recorded event of a placement."""

    id: int
    placement_id: int
    kind: str
    reason: str | None
    payload: dict[str, Any] | None
    recorded_by: str
    recorded_at: dt.datetime


def require_placement(session: Session, placement_id: int, lock: bool = False) -> Placement:
    placement = session.get(Placement, placement_id, with_for_update=True if lock else None)
    if placement is None:
        raise NotFoundError(f"unknown placement {placement_id!r}", field="placement_id")
    return placement


def open_placement(session: Session, plan_id: int, state: str = "none", created_at: dt.datetime | None = None) -> int:
    """The placement of a plan, opened in `state` if the plan has none yet (so calling again is harmless).

    Args:
        session: the transaction to write in.
        plan_id: the plan; the placement takes its candidate and workplace.
        state: the initial state (the domain's state machine names it; "none" by default).
        created_at: when; now (UTC) by default.

    Returns:
        The placement's id (the existing one when the plan already has a placement).

    Raises:
        NotFoundError: for an unknown plan.
    """
    state = required_text(state, "state")
    at = aware(created_at, "created_at")
    plan = require_plan(session, plan_id, lock=True)
    existing = session.scalar(select(Placement.id).where(Placement.plan_id == plan_id))
    if existing is not None:
        return existing
    placement = Placement(
        plan_id=plan.id, candidate_id=plan.candidate_id, workplace_id=plan.workplace_id, state=state, created_at=at
    )
    session.add(placement)
    session.flush()
    return placement.id


def _placement_record(row: Placement) -> PlacementRecord:
    return PlacementRecord(
        id=row.id,
        plan_id=row.plan_id,
        candidate_id=row.candidate_id,
        workplace_id=row.workplace_id,
        state=row.state,
        created_at=row.created_at,
    )


def get_placement(session: Session, placement_id: int) -> PlacementRecord:
    """A placement with its current state.

    Raises:
        NotFoundError: for an unknown placement.
    """
    return _placement_record(require_placement(session, placement_id))


def append_event(
    session: Session,
    placement_id: int,
    kind: str,
    reason: str | None,
    payload: Mapping[str, Any] | None,
    by: str,
    new_state: str,
    recorded_at: dt.datetime | None = None,
    expected_state: str | None = None,
) -> PlacementEventRecord:
    """Record an event of a placement and set its state, in the caller's transaction.

    The caller has checked the transition (the store does not know the state machine). To make
    that check safe against a concurrent writer, pass the state it was checked against as
    `expected_state`: the placement is locked and the event refused if its state has moved on.

    Args:
        session: the transaction to write in.
        placement_id: the placement.
        kind: the event's kind (e.g. contacted, trial_started, trial_completed, hired, ended, assessment).
        reason: a reason code (for an end), or None.
        payload: structured data (e.g. an end-of-trial assessment), stored as JSON, or None.
        by: who recorded it.
        new_state: the placement's state after the event.
        recorded_at: when; now (UTC) by default.
        expected_state: the state the transition was checked from; None to not check.

    Returns:
        The recorded event.

    Raises:
        NotFoundError: for an unknown placement.
        StoreError: naming the field, for an empty kind, state or `by`, a payload that is not a
            JSON mapping, or (field `state`) a state other than `expected_state`.
    """
    kind = required_text(kind, "kind")
    by = required_text(by, "by")
    new_state = required_text(new_state, "new_state")
    text = reason.strip() if reason and reason.strip() else None
    data: dict[str, Any] | None = None
    if payload is not None:
        if not isinstance(payload, Mapping):
            raise StoreError(f"must be a mapping or None, not {type(payload).__name__}", field="payload")
        data = plain_json(dict(payload), "payload")
    at = aware(recorded_at, "recorded_at")
    placement = require_placement(session, placement_id, lock=True)
    if expected_state is not None and placement.state != expected_state:
        raise StoreError(
            f"placement {placement_id} is in state {placement.state!r}, not {expected_state!r}", field="state"
        )
    row = PlacementEvent(
        placement_id=placement_id, kind=kind, reason=text, payload=data, recorded_by=by, recorded_at=at
    )
    session.add(row)
    placement.state = new_state
    session.flush()
    return _event_record(row)


def _event_record(row: PlacementEvent) -> PlacementEventRecord:
    return PlacementEventRecord(
        id=row.id,
        placement_id=row.placement_id,
        kind=row.kind,
        reason=row.reason,
        payload=copy.deepcopy(row.payload),
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


def placement_events(session: Session, placement_id: int) -> list[PlacementEventRecord]:
    """Every event of a placement, oldest first (by time, then the order recorded).

    Raises:
        NotFoundError: for an unknown placement.
    """
    require_placement(session, placement_id)
    rows = session.scalars(
        select(PlacementEvent)
        .where(PlacementEvent.placement_id == placement_id)
        .order_by(PlacementEvent.recorded_at, PlacementEvent.id)
    )
    return [_event_record(row) for row in rows]


def placement_of_plan(session: Session, plan_id: int) -> int | None:
    """The id of the plan's placement, or None when none was opened (or the plan is unknown)."""
    return session.scalar(select(Placement.id).where(Placement.plan_id == plan_id))
