"""The inclusion plan of an accepted suggestion: drafted from the match when the adviser accepts
it, revised, and approved by the person, the employer and the adviser; when all three have
approved the current revision, the placement opens and its follow-ups are scheduled
(`serving.api.placements` follows it from there).

The employer sees the plan (and approves it for the employer) only once the person's latest answer
on a suggestion of the workplace is "interested" and an adviser or job specialist has presented
them there (`serving.api.presentations`); before that the plan does not exist for them: 404, the
same answer as for an unknown id."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException
from sqlalchemy.orm import Session

from matching.agreement import Approval, Plan, Revision, revise
from matching.clock import utc_now
from matching.drafting import draft_plan
from matching.inclusion import PlanDraft, PlanError
from matching.store.audit import record_audit
from matching.store.db import session_scope
from matching.store.errors import NotFoundError, StoreError
from matching.store.followups import schedule_followups
from matching.store.placements import open_placement, placement_of_plan
from matching.store.plans import add_plan_revision, approve_plan, create_plan, get_plan, plan_for_item
from matching.store.presentations import employer_may_see
from matching.store.records import adviser_of, candidate_record, employer_of, workplace_record
from serving.auth import Identity, check_caseload
from serving.deps import State
from serving.paths import StoreId
from serving.roles import Adviser, AdviserOrEmployer
from serving.schemas.common import ErrorMessage, unprocessable
from serving.schemas.plans import ApprovalIn, PlanOut, RevisionIn, plan_limit_problems

router = APIRouter(tags=["plans and placements"])
TRIAL_STARTS_AFTER_DAYS = 7
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "missing or unknown API key"},
    403: {"model": ErrorMessage, "description": "not your caseload, or not your role"},
    404: {
        "model": ErrorMessage,
        "description": "unknown plan or placement; for an employer also one whose person has not said they are "
        "interested or was not presented to the workplace",
    },
}
# What the workplace side does not see of a plan: how strong each support need is and the
# person's skill levels (it sees which adaptations to give and which tasks to train).
HIDDEN_FROM_EMPLOYER = frozenset({"need", "skill_level"})


def open_plan_for(
    session: Session, item_id: int, item: dict[str, Any], by: str, body: dict[str, Any] | None = None
) -> int:
    """The plan of an accepted suggestion, opened with `body` (`plan_draft_for`, drafted before
    the writing transaction) or drafted here from the match, if it has none yet."""
    existing = plan_for_item(session, item_id)
    if existing is not None:
        return existing
    if body is None:
        body = plan_draft_for(session, item_id, item)
        assert body is not None  # no plan: drafted
    return create_plan(session, item["candidate_id"], item["workplace_id"], item_id, body, by)


def plan_draft_for(session: Session, item_id: int, item: dict[str, Any]) -> dict[str, Any] | None:
    """The plan body an accepted suggestion opens with, drafted from the match (`item`, with its
    `candidate_id`) and the stored records of the person and the workplace; None when the
    suggestion has a plan already.

    Raises:
        HTTPException: 404 when the person or the workplace is no longer stored.
        PlanError: when the draft breaks a rule of plans.
    """
    if plan_for_item(session, item_id) is not None:
        return None
    candidate = candidate_record(session, item["candidate_id"])
    workplace = workplace_record(session, item["workplace_id"])
    if candidate is None or workplace is None:
        raise HTTPException(status_code=404, detail="the suggestion's candidate or workplace is no longer stored")
    start = dt.date.today() + dt.timedelta(days=TRIAL_STARTS_AFTER_DAYS)
    draft = draft_plan(
        item,
        candidate,
        float(workplace["hours_per_week"]),
        candidate["adviser_id"],
        start,
        tutor_name=workplace.get("tutor_name"),
    )
    return draft.model_dump(mode="json", exclude=set(PlanDraft.model_computed_fields))


def check_access(session: Session, caller: Identity, candidate_id: str, workplace_id: str, unknown: str) -> None:
    """An adviser reaches only their own caseload (403 otherwise). An employer reaches a person at
    one of their employer's workplaces only when the person is interested in it and was presented
    there (`employer_may_see`); otherwise 404 with `unknown`, the answer an unknown id gets."""
    if caller.role == "employer":
        if employer_of(session, workplace_id) != caller.employer_id or not employer_may_see(
            session, candidate_id, workplace_id
        ):
            raise HTTPException(status_code=404, detail=unknown)
        return
    check_caseload(caller, adviser_of(session, candidate_id))


def _domain_plan(stored: dict[str, Any]) -> Plan:
    revisions = tuple(
        Revision(number=r["number"], draft=PlanDraft(**r["body"]), by=r["changed_by"], at=r["changed_at"])
        for r in stored["revisions"]
    )
    approvals = tuple(
        Approval(party=a["party"], by=a["approved_by"], at=a["approved_at"], revision=stored["revision"])
        for a in stored["approvals"]
    )
    return Plan(revisions=revisions, approvals=approvals)


def _without(value: Any, keys: frozenset[str]) -> Any:
    """`value` with every dict entry named in `keys` left out, at any depth."""
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


def _plan_out(session: Session, plan_id: int, caller: Identity) -> PlanOut:
    stored = get_plan(session, plan_id)
    draft = PlanDraft(**stored["body"]).model_dump(mode="json")
    if caller.role == "employer":
        draft = _without(draft, HIDDEN_FROM_EMPLOYER)
    return PlanOut(
        plan_id=stored["id"],
        candidate_id=stored["candidate_id"],
        workplace_id=stored["workplace_id"],
        revision=stored["revision"],
        draft=draft,
        revisions=[{k: v for k, v in r.items() if k != "body"} for r in stored["revisions"]],
        approvals=stored["approvals"],
        awaiting=list(stored["awaiting"]),
        agreed=stored["agreed"],
        placement_id=placement_of_plan(session, plan_id),
    )


def _load_plan(session: Session, plan_id: int, caller: Identity) -> dict[str, Any]:
    try:
        stored = get_plan(session, plan_id)
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    check_access(session, caller, stored["candidate_id"], stored["workplace_id"], f"unknown plan {plan_id!r}")
    return stored


@router.get("/plans/{plan_id}", response_model=PlanOut, responses=RESPONSES)
def read_plan(plan_id: StoreId, state: State, caller: AdviserOrEmployer) -> PlanOut:
    """The inclusion plan now, its revisions, and who has approved the current one."""
    with session_scope(state.engine) as session:
        stored = _load_plan(session, plan_id, caller)
        record_audit(
            session, caller.name, caller.role, "read_plan", "candidate", stored["candidate_id"], {"plan_id": plan_id}
        )
        return _plan_out(session, plan_id, caller)


@router.post("/plans/{plan_id}/revisions", response_model=PlanOut, responses={**RESPONSES, 422: {}})
def revise_plan(plan_id: StoreId, body: RevisionIn, state: State, caller: Adviser) -> PlanOut:
    """Change the plan: a new revision, which every party must approve again."""
    with session_scope(state.engine) as session:
        stored = _load_plan(session, plan_id, caller)
        try:
            revised = revise(_domain_plan(stored), body.changes, caller.name, utc_now(), body.note)
        except PlanError as error:
            raise unprocessable([(["changes", field], msg) for field, msg in error.problems]) from error
        too_much = plan_limit_problems(revised.draft)
        if too_much:
            raise unprocessable([(["changes", field], msg) for field, msg in too_much])
        body_json = revised.draft.model_dump(mode="json", exclude=set(PlanDraft.model_computed_fields))
        add_plan_revision(session, plan_id, body_json, caller.name)
        record_audit(
            session,
            caller.name,
            caller.role,
            "plan_revision",
            "candidate",
            stored["candidate_id"],
            {"plan_id": plan_id, "fields": sorted(body.changes)},
        )
        return _plan_out(session, plan_id, caller)


@router.post(
    "/plans/{plan_id}/approvals", response_model=PlanOut, responses={**RESPONSES, 409: {"model": ErrorMessage}}
)
def approve(plan_id: StoreId, body: ApprovalIn, state: State, caller: AdviserOrEmployer) -> PlanOut:
    """Record one party's approval of the current revision: the adviser records the person's and
    their own, the employer the employer's (only once the person is interested and was presented
    to the workplace: 404 before). When all three have approved, the placement opens and its
    follow-ups are scheduled."""
    if (caller.role == "employer") != (body.party == "employer"):
        raise HTTPException(status_code=403, detail=f"a {caller.role} cannot approve for the {body.party}")
    with session_scope(state.engine) as session:
        stored = _load_plan(session, plan_id, caller)
        try:
            after = approve_plan(session, plan_id, body.revision, body.party, caller.name)
        except StoreError as error:
            raise HTTPException(status_code=409, detail=str(error)) from error
        if after["agreed"]:
            placement_id = open_placement(session, plan_id)
            draft = PlanDraft(**after["body"])
            schedule_followups(
                session, placement_id, [{"due_on": f.due, "party": f.contact.value} for f in draft.followups]
            )
        record_audit(
            session,
            caller.name,
            caller.role,
            "approve_plan",
            "candidate",
            stored["candidate_id"],
            {"plan_id": plan_id, "party": body.party, "revision": body.revision},
        )
        return _plan_out(session, plan_id, caller)
