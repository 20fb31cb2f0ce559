"""From an accepted suggestion to a followed-up placement: the inclusion plan (drafted from the
match, revised, approved by the person, the employer and the adviser), the placement's events
(contacted, trial started, trial completed, hired, ended, assessments) and proactive follow-up."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.agreement import Approval, Plan, Revision, revise
from matching.drafting import draft_plan
from matching.inclusion import PlanDraft, PlanError
from matching.placements import Assessment, Event, EventKind, TransitionError, apply_event, replay
from matching.store.audit import record_audit
from matching.store.db import session_scope
from matching.store.decisions import current_decision, person_answer_history
from matching.store.errors import NotFoundError, StoreError
from matching.store.followups import followups_for_adviser, record_followup, schedule_followups
from matching.store.models import Candidate, Placement, Workplace
from matching.store.placements import append_event, get_placement, open_placement, placement_events
from matching.store.plans import add_plan_revision, approve_plan, create_plan, get_plan, plan_for_item
from serving.auth import Identity, check_caseload, require
from serving.deps import State
from serving.schemas import ErrorMessage, unprocessable

router = APIRouter(tags=["plans and placements"])
Caller = Annotated[Identity, Depends(require("adviser", "employer_contact"))]
Adviser = Annotated[Identity, Depends(require("adviser"))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]  # ids are 32-bit integers in the store (PostgreSQL)
TRIAL_STARTS_AFTER_DAYS = 7
# what a plan may hold through the API (422 naming the field beyond these): dates within a window
# (the follow-up schedule is counted from them, and a day past 9999-12-31 does not exist), a trial
# of at most three years (its schedule stays a few thousand entries), bounded texts and lists
EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2100, 12, 31)
MAX_PLAN_DAYS = 3 * 366
MAX_TEXT = 2000
MAX_ITEMS = 50
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "missing or unknown API key"},
    403: {"model": ErrorMessage, "description": "not your caseload or workplace, or not your role"},
    404: {"model": ErrorMessage, "description": "unknown plan or placement"},
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _row_dict(row: Any) -> dict[str, Any]:
    return {column.name: getattr(row, column.name) for column in row.__table__.columns}


def open_plan_for(session: Session, item_id: int, item: dict[str, Any], by: str) -> int:
    """The plan of an accepted suggestion, drafted from the match if it has none yet."""
    existing = plan_for_item(session, item_id)
    if existing is not None:
        return existing
    candidate = session.get(Candidate, item["candidate_id"])
    workplace = session.get(Workplace, item["workplace_id"])
    if candidate is None or workplace is None:
        raise HTTPException(status_code=404, detail="the suggestion's candidate or workplace is no longer stored")
    start = dt.date.today() + dt.timedelta(days=TRIAL_STARTS_AFTER_DAYS)
    draft = draft_plan(item, _row_dict(candidate), float(workplace.hours_per_week), candidate.adviser_id, start)
    body = draft.model_dump(mode="json", exclude=set(PlanDraft.model_computed_fields))
    return create_plan(session, candidate.candidate_id, workplace.workplace_id, item_id, body, by)


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


class PlanOut(BaseModel):
    plan_id: int
    candidate_id: str
    workplace_id: str
    revision: int
    draft: dict[str, Any] = Field(description="the plan now, with its follow-up schedule and open points")
    revisions: list[dict[str, Any]]
    approvals: list[dict[str, Any]]
    awaiting: list[str]
    agreed: bool
    placement_id: int | None


class RevisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    changes: dict[Annotated[str, StringConstraints(max_length=100)], Any] = Field(
        min_length=1,
        max_length=50,
        description=f"field (dotted for nested) -> value; texts up to {MAX_TEXT} characters, lists up to "
        f"{MAX_ITEMS} entries, dates from {EARLIEST_DAY} to {LATEST_DAY}, at most {MAX_PLAN_DAYS} days from "
        "start_date to end_date",
    )
    note: str = Field("", max_length=MAX_TEXT)


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party: Literal["person", "employer", "adviser"]
    revision: int = Field(ge=1, strict=True)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: EventKind
    reason: str | None = Field(None, max_length=50)
    reason_text: str | None = Field(None, max_length=MAX_TEXT)
    assessment: dict[str, Any] | None = Field(
        None, max_length=10, description=f"source, tasks_mastered, would_continue; texts up to {MAX_TEXT} characters"
    )


class PlacementOut(BaseModel):
    placement_id: int
    plan_id: int
    candidate_id: str
    workplace_id: str
    stage: str
    grade: int
    allowed_next: list[str]
    events: list[dict[str, Any]]


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party: Literal["person", "workplace"]
    due_on: dt.date = Field(description="the scheduled day this contact answers")
    note: str | None = Field(None, max_length=2000)


def _day_problem(day: dt.date) -> str | None:
    if EARLIEST_DAY <= day <= LATEST_DAY:
        return None
    return f"must be a day from {EARLIEST_DAY} to {LATEST_DAY}, got {day}"


def _size_problems(value: Any, path: str) -> list[tuple[str, str]]:
    """Texts longer than MAX_TEXT and lists longer than MAX_ITEMS anywhere in `value`, by dotted path."""
    if isinstance(value, str):
        return [(path, f"at most {MAX_TEXT} characters, got {len(value)}")] if len(value) > MAX_TEXT else []
    problems: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            problems += _size_problems(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        if len(value) > MAX_ITEMS:
            return [(path, f"at most {MAX_ITEMS} entries, got {len(value)}")]
        for i, item in enumerate(value):
            problems += _size_problems(item, f"{path}.{i}")
    return problems


def plan_limit_problems(draft: PlanDraft) -> list[tuple[str, str]]:
    """What in `draft` is beyond what the API keeps (field, message); empty when nothing is."""
    problems = [(name, p) for name in ("start_date", "end_date") if (p := _day_problem(getattr(draft, name)))]
    if not problems and (draft.end_date - draft.start_date).days > MAX_PLAN_DAYS:
        problems.append(("end_date", f"at most {MAX_PLAN_DAYS} days after start_date ({draft.start_date})"))
    return problems + _size_problems(draft.stored(), "")


def _check_access(session: Session, caller: Identity, candidate_id: str, workplace_id: str) -> None:
    if caller.role == "employer_contact":
        workplace = session.get(Workplace, workplace_id)
        if workplace is None or workplace.employer_id != caller.employer_id:
            raise HTTPException(status_code=403, detail="this workplace is not your employer's")
        return
    candidate = session.get(Candidate, candidate_id)
    check_caseload(caller, candidate.adviser_id if candidate is not None else None)


# What the workplace side does not see of a plan: how strong each support need is and the
# person's skill levels (it sees which adaptations to give and which tasks to train).
HIDDEN_FROM_EMPLOYER = frozenset({"need", "skill_level"})


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
    if caller.role == "employer_contact":
        draft = _without(draft, HIDDEN_FROM_EMPLOYER)
    placement = _placement_of(session, plan_id)
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
        placement_id=placement,
    )


def _placement_of(session: Session, plan_id: int) -> int | None:
    return session.scalar(select(Placement.id).where(Placement.plan_id == plan_id))


def _load_plan(session: Session, plan_id: int, caller: Identity) -> dict[str, Any]:
    try:
        stored = get_plan(session, plan_id)
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    _check_access(session, caller, stored["candidate_id"], stored["workplace_id"])
    return stored


@router.get("/plans/{plan_id}", response_model=PlanOut, responses=RESPONSES)
def read_plan(plan_id: Id, state: State, caller: Caller) -> PlanOut:
    """The inclusion plan now, its revisions, and who has approved the current one."""
    with session_scope(state.engine) as session:
        stored = _load_plan(session, plan_id, caller)
        record_audit(
            session, caller.name, caller.role, "read_plan", "candidate", stored["candidate_id"], {"plan_id": plan_id}
        )
        return _plan_out(session, plan_id, caller)


@router.post("/plans/{plan_id}/revisions", response_model=PlanOut, responses={**RESPONSES, 422: {}})
def revise_plan(plan_id: Id, body: RevisionIn, state: State, caller: Adviser) -> PlanOut:
    """Change the plan: a new revision, which every party must approve again."""
    with session_scope(state.engine) as session:
        stored = _load_plan(session, plan_id, caller)
        try:
            revised = revise(_domain_plan(stored), body.changes, caller.name, _now(), body.note)
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
def approve(plan_id: Id, body: ApprovalIn, state: State, caller: Caller) -> PlanOut:
    """Record one party's approval of the current revision: the adviser records the person's and
    their own, the employer contact the employer's. When all three have approved, the placement
    opens and its follow-ups are scheduled."""
    if (caller.role == "employer_contact") != (body.party == "employer"):
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


def _load_placement(session: Session, placement_id: int, caller: Identity) -> Any:
    try:
        record = get_placement(session, placement_id)
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    _check_access(session, caller, record.candidate_id, record.workplace_id)
    return record


@router.get("/placements/{placement_id}", response_model=PlacementOut, responses=RESPONSES)
def read_placement(placement_id: Id, state: State, caller: Caller) -> PlacementOut:
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
def record_event(placement_id: Id, body: EventIn, state: State, caller: Caller) -> Any:
    """Record what happened: contacted, trial_started, trial_completed, hired, ended (with a reason
    code), or an end-of-trial assessment from the employer or the person. The employer is
    contacted only once the person has said they are interested."""
    with session_scope(state.engine) as session:
        record = _load_placement(session, placement_id, caller)
        history = _events(session, placement_id)
        before = replay(history)
        too_much = _size_problems(body.assessment, "assessment") if body.assessment is not None else []
        if too_much:
            raise unprocessable([([*path.split(".")], msg) for path, msg in too_much])
        try:
            event = Event.model_validate(
                {
                    "kind": body.kind,
                    "at": _now(),
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
def record_contact(placement_id: Id, body: FollowUpIn, state: State, caller: Adviser) -> dict[str, Any]:
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
    adviser_id: Annotated[str, Path(min_length=1, max_length=100)],
    state: State,
    caller: Adviser,
    today: Annotated[dt.date | None, Query(description="default: today")] = None,
) -> dict[str, list[dict[str, Any]]]:
    """What follow-ups are due this week and which are overdue, for one contact person."""
    if adviser_id != caller.adviser_id:
        raise HTTPException(status_code=403, detail="you can only see your own follow-ups")
    problem = _day_problem(today) if today is not None else None
    if problem:  # the week ahead of 9999-12-31 does not exist
        raise HTTPException(
            status_code=422, detail=[{"loc": ["query", "today"], "msg": problem, "type": "value_error"}]
        )
    with session_scope(state.engine) as session:
        lists = followups_for_adviser(session, adviser_id, today or dt.date.today())
        return {name: [vars(r) for r in rows] for name, rows in lists.items()}
