"""The adviser's review of a recorded shortlist: see it again as it was, record the person's own
answer to each suggestion, accept or reject each one (with a reason), correct decisions with the
history kept. Every read of a candidate and every decision goes to the audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from sqlalchemy.orm import Session

from matching.inclusion import PlanError
from matching.store.audit import query_audit, record_audit
from matching.store.db import session_scope
from matching.store.decisions import decision_histories, person_answer_histories, record_decision, record_person_answer
from matching.store.errors import NotFoundError, StoreError
from matching.store.plans import plans_for_items
from matching.store.records import adviser_of
from matching.store.shortlists import StoredShortlist, get_shortlist, lock_shortlist
from serving.api.plans import open_plan_for, plan_draft_for
from serving.auth import Identity, check_caseload
from serving.deps import State
from serving.paths import ShortlistId
from serving.roles import Adviser, DataProtectionOfficer
from serving.schemas.common import ErrorMessage, serialised, unprocessable
from serving.schemas.review import (
    AnswerOut,
    AnswersIn,
    AuditEntry,
    DecisionOut,
    DecisionsIn,
    ReviewItem,
    ShortlistRecord,
)
from serving.state import ServiceState

router = APIRouter(tags=["review"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "missing or unknown API key"},
    403: {"model": ErrorMessage, "description": "not your caseload, or not your role"},
    404: {"model": ErrorMessage, "description": "unknown shortlist or rank"},
}


def _load_own(session: Session, shortlist_id: int, caller: Identity) -> StoredShortlist:
    try:
        stored = get_shortlist(session, shortlist_id)
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    check_caseload(caller, adviser_of(session, stored.candidate_id))
    return stored


def _read_own(state: ServiceState, shortlist_id: int, caller: Identity) -> StoredShortlist:
    """The caller's shortlist, read without the write lock (404 and 403 before any write; a
    shortlist's items never change once recorded)."""
    with session_scope(state.engine, readonly=True) as session:
        return _load_own(session, shortlist_id, caller)


def _own_under_lock(session: Session, stored: StoredShortlist, caller: Identity) -> None:
    """In the writing transaction: take the shortlist's row lock first (writers to one shortlist
    queue instead of deadlocking on its items) and check the person is still on the caller's
    caseload."""
    lock_shortlist(session, stored.id)
    check_caseload(caller, adviser_of(session, stored.candidate_id))


def _record_now(state: ServiceState, stored: StoredShortlist) -> ShortlistRecord:
    """The shortlist with its decisions and answers as committed, read after the write (which
    so holds the write lock only for its own rows)."""
    with session_scope(state.engine, readonly=True) as session:
        return _record(session, stored)


def _record(session: Session, stored: StoredShortlist) -> ShortlistRecord:
    # three queries for the whole list, whatever its length
    decisions = decision_histories(session, stored.item_ids)
    answered = person_answer_histories(session, stored.item_ids)
    plans = plans_for_items(session, stored.item_ids)
    items = []
    for item, item_id in zip(stored.items, stored.item_ids, strict=True):
        history = decisions[item_id]
        answers = answered[item_id]
        items.append(
            ReviewItem(
                rank=item["rank"],
                workplace_id=item["workplace_id"],
                score=item["score"],
                item=item,
                decision=DecisionOut.model_validate(history[-1], from_attributes=True) if history else None,
                decision_history=[DecisionOut.model_validate(d, from_attributes=True) for d in history],
                person_answer=AnswerOut.model_validate(answers[-1], from_attributes=True) if answers else None,
                answer_history=[AnswerOut.model_validate(a, from_attributes=True) for a in answers],
                plan_id=plans.get(item_id),
            )
        )
    return ShortlistRecord(
        shortlist_id=stored.id,
        candidate_id=stored.candidate_id,
        requested_by=stored.requested_by,
        created_at=stored.created_at,
        model_name=stored.model_name,
        model_version=stored.model_version,
        top_k=stored.top_k,
        filtered=stored.filtered,
        items=items,
    )


def _plan_item(stored: StoredShortlist, rank: int) -> dict[str, Any]:
    """A suggestion as its plan is drafted from: the served item with the person's id."""
    return {**stored.items[[it["rank"] for it in stored.items].index(rank)], "candidate_id": stored.candidate_id}


def _plan_drafts(
    state: ServiceState, stored: StoredShortlist, accepted: list[tuple[int, int]]
) -> dict[int, dict[str, Any] | None]:
    """The plan bodies the accepted ranks (rank, index in the request) open with, drafted in a
    reading transaction before the writing one (which so holds the write lock only for its
    statements); None for a suggestion with a plan already. 404 for an unknown rank, 422 for a
    draft that breaks a rule of plans."""
    drafts: dict[int, dict[str, Any] | None] = {}
    if not accepted:
        return drafts
    with session_scope(state.engine, readonly=True) as session:
        for rank, i in accepted:
            item_id = _item_id(stored, rank)
            try:
                drafts[rank] = plan_draft_for(session, item_id, _plan_item(stored, rank))
            except PlanError as error:
                raise unprocessable([(["decisions", i, f], m) for f, m in error.problems], "plan") from error
    return drafts


def _item_id(stored: StoredShortlist, rank: int) -> int:
    try:
        return stored.item_id(rank)
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error


def _unprocessable(error: StoreError, index: int, collection: str) -> HTTPException:
    return unprocessable([([collection, index, error.field or "body"], str(error))])


@router.get("/shortlists/{shortlist_id}", response_model=ShortlistRecord, responses=RESPONSES)
def get_shortlist_record(shortlist_id: ShortlistId, state: State, caller: Adviser) -> Response:
    """A recorded shortlist as it was served, with each suggestion's decision and the person's
    answer, and their histories."""
    return serialised(read_shortlist(shortlist_id, state, caller))


def read_shortlist(shortlist_id: int, state: ServiceState, caller: Identity) -> ShortlistRecord:
    """The route's answer (the adviser's page shows it too), its read audited."""
    # read without the write lock (a snapshot); then the read's audit entry, committed together
    # with those of other reads arriving meanwhile: the answer goes out only once it is committed
    with session_scope(state.engine, readonly=True) as session:
        stored = _load_own(session, shortlist_id, caller)
        record = _record(session, stored)
    state.audits.record(
        caller.name, caller.role, "read_shortlist", "candidate", stored.candidate_id, {"shortlist_id": shortlist_id}
    )
    return record


@router.post("/shortlists/{shortlist_id}/answers", response_model=ShortlistRecord, responses={**RESPONSES, 422: {}})
def post_answers(shortlist_id: ShortlistId, body: AnswersIn, state: State, caller: Adviser) -> Response:
    """Record the person's own answer to suggestions (interested, not interested, unsure): nothing
    goes to an employer without the person's interest."""
    return serialised(record_answers(shortlist_id, body, state, caller))


def record_answers(shortlist_id: int, body: AnswersIn, state: ServiceState, caller: Identity) -> ShortlistRecord:
    """The route's work (the adviser's page records answers through it too): the record after."""
    stored = _read_own(state, shortlist_id, caller)
    with session_scope(state.engine) as session:
        _own_under_lock(session, stored, caller)
        for i, answer in enumerate(body.answers):
            try:
                record_person_answer(
                    session, _item_id(stored, answer.rank), answer.answer, caller.name, words=answer.words
                )
            except StoreError as error:
                raise _unprocessable(error, i, "answers") from error
        record_audit(
            session,
            caller.name,
            caller.role,
            "answer",
            "candidate",
            stored.candidate_id,
            {"shortlist_id": shortlist_id, "ranks": [a.rank for a in body.answers]},
        )
    return _record_now(state, stored)


@router.post("/shortlists/{shortlist_id}/decisions", response_model=ShortlistRecord, responses={**RESPONSES, 422: {}})
def post_decisions(shortlist_id: ShortlistId, body: DecisionsIn, state: State, caller: Adviser) -> Response:
    """Accept or reject suggestions, with a reason code on rejection ('other' needs text). A
    decision given again for the same rank is a correction: the earlier one stays in the history.
    All decisions of one request are recorded together or not at all."""
    return serialised(record_decisions(shortlist_id, body, state, caller))


def record_decisions(shortlist_id: int, body: DecisionsIn, state: ServiceState, caller: Identity) -> ShortlistRecord:
    """The route's work (the adviser's page decides through it too): the record after."""
    stored = _read_own(state, shortlist_id, caller)
    final = {d.rank: (i, d.decision) for i, d in enumerate(body.decisions)}  # the last word per rank
    accepted = [(rank, i) for rank, (i, verdict) in sorted(final.items()) if verdict == "accept"]
    drafts = _plan_drafts(state, stored, accepted)
    with session_scope(state.engine) as session:
        _own_under_lock(session, stored, caller)
        for i, decision in enumerate(body.decisions):
            try:
                record_decision(
                    session,
                    _item_id(stored, decision.rank),
                    decision.decision,
                    caller.name,
                    decision.reason_code,
                    decision.reason_text,
                )
            except StoreError as error:
                raise _unprocessable(error, i, "decisions") from error
        for rank, _ in accepted:  # accepting opens the inclusion plan, drafted from the match
            try:
                open_plan_for(session, _item_id(stored, rank), _plan_item(stored, rank), caller.name, drafts[rank])
            except StoreError as error:
                raise HTTPException(status_code=409, detail=str(error)) from error
        record_audit(
            session,
            caller.name,
            caller.role,
            "decide",
            "candidate",
            stored.candidate_id,
            {"shortlist_id": shortlist_id, "decisions": [[d.rank, d.decision, d.reason_code] for d in body.decisions]},
        )
    return _record_now(state, stored)


@router.get("/audit", response_model=list[AuditEntry], responses=RESPONSES)
def read_audit(
    state: State,
    caller: DataProtectionOfficer,
    subject_id: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    since: dt.datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[AuditEntry]:
    """The audit trail (who read or decided what, when), for the data-protection officer."""
    with session_scope(state.engine, readonly=True) as session:
        rows = query_audit(session, subject_id=subject_id, actor=actor, since=since, limit=limit)
        return [AuditEntry.model_validate(row, from_attributes=True) for row in rows]
