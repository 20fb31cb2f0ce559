"""A placement, from the agreed plan on: its events (contacted, trial started, trial completed,
hired, ended, assessments) checked against the placement's state machine, and proactive
follow-up (the contacts scheduled with the person and the workplace, and what is due or overdue
for an adviser). The employer sees a placement only while they may see its person (interested and
presented: `serving.api.plans.check_access`); otherwise 404."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from matching.clock import utc_now
from matching.placements import Assessment, Event, EventKind, TransitionError, apply_event, replay
from matching.store.audit import record_audit
from matching.store.capacity import follow_placement_event
from matching.store.db import session_scope
from matching.store.decisions import current_decision, person_answer_history
from matching.store.errors import NotFoundError, StoreError
from matching.store.followups import followups_for_adviser, record_followup
from matching.store.placements import PlacementRecord, append_event, get_placement, placement_events
from matching.store.plans import get_plan
from serving.api.plans import RESPONSES, check_access
from serving.auth import Identity
from serving.deps import State
from serving.paths import AdviserId, StoreId
from serving.roles import Adviser, AdviserOrEmployer
from serving.schemas.common import unprocessable
from serving.schemas.plans import EventIn, FollowUpIn, PlacementOut, day_problem, size_problems

router = APIRouter(tags=["plans and placements"])


def _events(session: Session, placement_id: int) -> list[Event]:
    out = []
    for row in placement_events(session, placement_id):
        payload = row.payload or {}
        out.append(
            Event.model_validate(
                {
                    "kind": row.kind,
                    "at": row.recorded_at,
                    "by": row.recorded_by,
                    "reason": row.reason,
                    "reason_text": payload.get("reason_text"),
                    "assessment": payload.get("assessment"),
                }
            )
        )
    return out


def _placement_out(session: Session, placement_id: int) -> PlacementOut:
    record = get_placement(session, placement_id)
    events = _events(session, placement_id)
    current = replay(events)
    return PlacementOut(
        placement_id=record.id,
        plan_id=record.plan_id,
        candidate_id=record.candidate_id,
        workplace_id=record.workplace_id,
        stage=current.stage.value,
        grade=current.grade,
        allowed_next=[k.value for k in current.allowed_next],
        events=[e.model_dump(mode="json") for e in events],
    )


def _load_placement(session: Session, placement_id: int, caller: Identity) -> PlacementRecord:
    try:
        record = get_placement(session, placement_id)
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    check_access(session, caller, record.candidate_id, record.workplace_id, f"unknown placement {placement_id!r}")
    return record


@router.get("/placements/{placement_id}", response_model=PlacementOut, responses=RESPONSES)
def read_placement(placement_id: StoreId, state: State, caller: AdviserOrEmployer) -> PlacementOut:
    """A placement's stage, its events, and what may happen next."""
    with session_scope(state.engine) as session:
        record = _load_placement(session, placement_id, caller)
        record_audit(
            session,
            caller.name,
            caller.role,
            "read_placement",
            "candidate",
            record.candidate_id,
            {"placement_id": placement_id},
        )
        return _placement_out(session, placement_id)


@router.post(
    "/placements/{placement_id}/events",
    response_model=PlacementOut,
    responses={**RESPONSES, 409: {"description": "impossible transition; `allowed_next` lists what may come"}, 422: {}},
)
def record_event(placement_id: StoreId, body: EventIn, state: State, caller: AdviserOrEmployer) -> Any:
    """Record what happened: contacted, trial_started, trial_completed, hired, ended (with a reason
    code), or an end-of-trial assessment from the employer or the person. The employer is
    contacted only once the person has said they are interested."""
    with session_scope(state.engine) as session:
        record = _load_placement(session, placement_id, caller)
        history = _events(session, placement_id)
        before = replay(history)
        too_much = size_problems(body.assessment, "assessment") if body.assessment is not None else []
        if too_much:
            raise unprocessable([([*path.split(".")], msg) for path, msg in too_much])
        try:
            event = Event.model_validate(
                {
                    "kind": body.kind,
                    "at": utc_now(),
                    "by": caller.name,
                    "reason": body.reason,
                    "reason_text": body.reason_text,
                    "assessment": Assessment(**body.assessment) if body.assessment is not None else None,
                }
            )
        except ValueError as error:
            raise unprocessable([([], str(error))]) from error
        if event.kind is EventKind.CONTACTED and not _person_interested(session, record.plan_id):
            return JSONResponse(
                status_code=409,
                content={"detail": "record the person's interest before the employer is contacted", "allowed_next": []},
            )
        try:
            after = apply_event(before, event)
        except TransitionError as error:
            return JSONResponse(
                status_code=409,
                content={"detail": str(error), "allowed_next": [k.value for k in error.allowed_next]},
            )
        try:  # a trial that starts takes a slot; an end after it gives the slot back
            follow_placement_event(session, record.workplace_id, event.kind, before.stage)
        except StoreError as error:
            if error.field != "slots":
                raise
            return JSONResponse(
                status_code=409,
                content={"detail": "the workplace has no free slot: the trial cannot start", "allowed_next": []},
            )
        payload = {"reason_text": body.reason_text, "assessment": body.assessment}
        append_event(
            session,
            placement_id,
            event.kind.value,
            body.reason,
            payload,
            caller.name,
            new_state=after.stage.value,
            expected_state=before.stage.value,
        )
        record_audit(
            session,
            caller.name,
            caller.role,
            "placement_event",
            "candidate",
            record.candidate_id,
            {"placement_id": placement_id, "kind": event.kind.value},
        )
        return _placement_out(session, placement_id)


def _person_interested(session: Session, plan_id: int) -> bool:
    stored = get_plan(session, plan_id)
    answers = person_answer_history(session, stored["shortlist_item_id"])
    decision = current_decision(session, stored["shortlist_item_id"])
    return (
        bool(answers) and answers[-1].answer == "interested" and decision is not None and decision.decision == "accept"
    )


@router.post("/placements/{placement_id}/followups", responses={**RESPONSES, 422: {}})
def record_contact(placement_id: StoreId, body: FollowUpIn, state: State, caller: Adviser) -> dict[str, Any]:
    """Record that a scheduled follow-up with the person or the workplace took place."""
    with session_scope(state.engine) as session:
        record = _load_placement(session, placement_id, caller)
        try:
            done = record_followup(
                session, placement_id=placement_id, party=body.party, due_on=body.due_on, by=caller.name, note=body.note
            )
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from error
        except StoreError as error:
            raise unprocessable([([error.field or "body"], str(error))]) from error
        record_audit(
            session,
            caller.name,
            caller.role,
            "followup",
            "candidate",
            record.candidate_id,
            {"placement_id": placement_id, "party": body.party},
        )
        return {"followup_id": done.id, "done_on": done.done_on, "party": done.party, "due_on": done.due_on}


@router.get("/advisers/{adviser_id}/follow-ups", responses=RESPONSES)
def due_follow_ups(
    adviser_id: AdviserId,
    state: State,
    caller: Adviser,
    today: Annotated[dt.date | None, Query(description="default: today")] = None,
) -> dict[str, list[dict[str, Any]]]:
    """What follow-ups are due this week and which are overdue, for one contact person."""
    if adviser_id != caller.adviser_id:
        raise HTTPException(status_code=403, detail="you can only see your own follow-ups")
    problem = day_problem(today) if today is not None else None
    if problem:  # the week ahead of 9999-12-31 does not exist
        raise HTTPException(
            status_code=422, detail=[{"loc": ["query", "today"], "msg": problem, "type": "value_error"}]
        )
    with session_scope(state.engine, readonly=True) as session:  # a read: no write lock
        lists = followups_for_adviser(session, adviser_id, today or dt.date.today())
        return {name: [vars(r) for r in rows] for name, rows in lists.items()}
