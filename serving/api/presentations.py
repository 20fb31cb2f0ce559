"""Presenting a person to a workplace, and the persons presented there.

An adviser (for a person on their caseload) or the job specialist who works with the workplace
presents a person whose latest recorded answer on a suggestion of that workplace is "interested"
(`POST /presentations`; 409 before that). Only then, and only while that stays their answer and
they consent, does the workplace's employer see the person: `GET /workplaces/{id}/presented` lists
them (ids, and the ids of their plans there: never a ranking), and their plan and placement open
to the employer (`serving.api.plans.check_access`). Presenting again changes nothing. Audited with
ids only."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from matching.store.audit import record_audit
from matching.store.db import session_scope
from matching.store.decisions import interested_in
from matching.store.plans import plans_of_person_at
from matching.store.presentations import employer_may_see, present, presentations_at
from matching.store.records import candidate_record, workplace_record
from serving.auth import check_caseload
from serving.deps import State
from serving.paths import WorkplaceId
from serving.roles import AdviserOrJobSpecialist, EmployerOrJobSpecialist
from serving.schemas.common import ErrorMessage
from serving.schemas.presentations import PresentationIn, PresentationOut, PresentedOut, PresentedPerson

router = APIRouter(tags=["presentations"])
NOT_YOURS = "you do not work with this workplace"


@router.post(
    "/presentations",
    response_model=PresentationOut,
    responses={
        401: {"model": ErrorMessage, "description": "missing or unknown API key"},
        403: {
            "model": ErrorMessage,
            "description": "not your caseload, a workplace you do not work with, or not your role",
        },
        404: {"model": ErrorMessage, "description": "unknown person or workplace"},
        409: {"model": ErrorMessage, "description": "the person has not said they are interested, or withdrew consent"},
    },
    summary="Present a person who is interested to a workplace",
)
def present_person(body: PresentationIn, state: State, caller: AdviserOrJobSpecialist) -> PresentationOut:
    """Record that the caller presented the person to the workplace: the employer may see them
    from now on. Idempotent: presenting again returns the first presentation."""
    with session_scope(state.engine) as session:
        person = candidate_record(session, body.candidate_id)
        if person is None:
            raise HTTPException(status_code=404, detail=f"unknown candidate_id: {body.candidate_id}")
        workplace = workplace_record(session, body.workplace_id)
        if workplace is None:
            raise HTTPException(status_code=404, detail=f"unknown workplace_id: {body.workplace_id}")
        if caller.role == "job_specialist" and workplace.get("job_specialist_id") != caller.name:
            raise HTTPException(status_code=403, detail=NOT_YOURS)
        check_caseload(caller, person.get("adviser_id"))
        if not bool(person.get("consent")):
            raise HTTPException(status_code=409, detail="the person has withdrawn consent: they are not presented")
        if not interested_in(session, body.candidate_id, body.workplace_id):
            raise HTTPException(
                status_code=409,
                detail="record the person's interest in a suggestion of this workplace before presenting them",
            )
        done = present(session, body.candidate_id, body.workplace_id, caller.name)
        record_audit(
            session,
            caller.name,
            caller.role,
            "present",
            "candidate",
            body.candidate_id,
            {"workplace_id": body.workplace_id, "presentation_id": done.id},
        )
        return PresentationOut(
            presentation_id=done.id,
            candidate_id=done.candidate_id,
            workplace_id=done.workplace_id,
            presented_by=done.presented_by,
            presented_at=done.presented_at,
        )


@router.get(
    "/workplaces/{workplace_id}/presented",
    response_model=PresentedOut,
    responses={
        401: {"model": ErrorMessage, "description": "missing or unknown API key"},
        403: {
            "model": ErrorMessage,
            "description": "not your employer's workplace or one you work with, or not your role",
        },
        404: {"model": ErrorMessage, "description": "unknown workplace"},
    },
    summary="The persons presented to a workplace who are interested in it (never a ranking)",
)
def presented_persons(workplace_id: WorkplaceId, state: State, caller: EmployerOrJobSpecialist) -> PresentedOut:
    """The persons presented to the workplace whom its employer may see (their latest answer on a
    suggestion of it is "interested" and they consent), in the order they were presented, with
    the ids of their plans there. For the workplace's employer and its job specialist."""
    with session_scope(state.engine) as session:
        workplace = workplace_record(session, workplace_id)
        if workplace is None:
            raise HTTPException(status_code=404, detail=f"unknown workplace_id: {workplace_id}")
        if caller.role == "employer" and str(workplace.get("employer_id")) != caller.employer_id:
            raise HTTPException(status_code=403, detail="this workplace is not your employer's")
        if caller.role == "job_specialist" and workplace.get("job_specialist_id") != caller.name:
            raise HTTPException(status_code=403, detail=NOT_YOURS)
        persons = [
            PresentedPerson(
                candidate_id=p.candidate_id,
                presented_at=p.presented_at,
                plan_ids=plans_of_person_at(session, p.candidate_id, workplace_id),
            )
            for p in presentations_at(session, workplace_id)
            if employer_may_see(session, p.candidate_id, workplace_id)
        ]
        record_audit(
            session, caller.name, caller.role, "read_presented", "workplace", workplace_id, {"persons": len(persons)}
        )
        return PresentedOut(workplace_id=workplace_id, persons=persons)
