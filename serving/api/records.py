"""The records through the service: advisers register and change the persons in their caseload
(`POST /candidates`, `PATCH /candidates/{id}`), job specialists the workplaces they work with
(`POST /workplaces`, `PATCH /workplaces/{id}`, closing one included: `{"active": false}`).

Every record is checked by data contract v1's own rules (`matching.records.validate_table`, as
`jobmatch validate` and `jobmatch load` check it; 422 names the field), stored with its change in
the store's change log, and audited with the names of the fields changed, never their values. The
very next shortlist in every worker uses it (`serving.state.ServiceState.refresh`). A later
`jobmatch load` of a file that holds the same record changes it again: the later change wins, and
both are in the audit trail."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, HTTPException, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy.orm import Session

from matching.records import table_schemas, validate_table
from matching.store.audit import record_audit
from matching.store.contract import upsert_table
from matching.store.db import session_scope
from matching.store.errors import StoreError
from matching.store.local_fields import set_display_name, set_job_specialist, set_tutor_name
from matching.store.records import candidate_record, workplace_record
from serving.auth import Identity, check_caseload
from serving.deps import State
from serving.paths import CandidateId, WorkplaceId
from serving.roles import Adviser, JobSpecialist
from serving.schemas.common import ErrorMessage, ValidationErrors
from serving.schemas.records import STORE_ONLY, CandidateChange, CandidateIn, RecordOut, WorkplaceChange, WorkplaceIn

router = APIRouter(tags=["records"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "missing or unknown API key"},
    403: {"model": ErrorMessage, "description": "not your caseload or workplace, or not your role"},
    422: {"model": ValidationErrors, "description": "the record breaks data contract v1: the field is named"},
}
_KEYS = {"candidates": "candidate_id", "workplaces": "workplace_id"}
_STORE_ONLY_SETTERS = {"candidates": ("display_name", set_display_name), "workplaces": ("tutor_name", set_tutor_name)}


def _contract_fields(table: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record's contract columns only (the store also keeps fields of its own)."""
    return {column.name: record[column.name] for column in table_schemas()[table] if column.name in record}


def _checked(table: str, record: dict[str, Any]) -> pd.DataFrame:
    """The record as one contract row, or 422 naming each field that breaks the contract."""
    frame, problems = validate_table(table, pd.DataFrame([record]))
    if problems:
        raise RequestValidationError(
            [{"loc": ("body", p.column), "msg": p.rule, "type": "contract", "input": p.value} for p in problems]
        )
    return frame


def _store(session: Session, state: State, table: str, frame: pd.DataFrame) -> None:
    counts = upsert_table(session, table, frame, state.settings.pseudonym_secret(), source="api")
    if counts.skipped_erased:
        raise HTTPException(status_code=410, detail="this person's data was erased at their request")


def _audit(session: Session, caller: Identity, action: str, table: str, record_id: str, fields: list[str]) -> None:
    subject = "candidate" if table == "candidates" else "workplace"
    record_audit(session, caller.name, caller.role, action, subject, record_id, {"fields": fields})


def _out(table: str, record: dict[str, Any], changed: list[str]) -> RecordOut:
    return RecordOut(
        record=_contract_fields(table, record),
        display_name=record.get("display_name"),
        tutor_name=record.get("tutor_name"),
        changed=changed,
    )


def _store_only(
    session: Session, table: str, record_id: str, fields: dict[str, Any], stored: dict[str, Any]
) -> list[str]:
    """Write the field the store keeps beside the contract (a person's display name, a workplace's
    tutor) when `fields` has it; its name when it changed."""
    name, setter = _STORE_ONLY_SETTERS[table]
    if name not in fields:
        return []
    before = stored.get(name)
    try:
        after = setter(session, record_id, fields[name])
    except StoreError as error:
        raise RequestValidationError(
            [{"loc": ("body", name), "msg": str(error), "type": "value_error", "input": None}]
        ) from error
    return [name] if after != before else []


def _create(state: State, caller: Identity, table: str, body: BaseModel, response: Response) -> RecordOut:
    record = body.model_dump()
    local = {name: record.pop(name) for name in STORE_ONLY if name in record}
    record_id = str(record[_KEYS[table]]).strip()
    frame = _checked(table, record)
    with session_scope(state.engine) as session:
        read = candidate_record if table == "candidates" else workplace_record
        if read(session, record_id) is not None:
            raise HTTPException(
                status_code=409, detail=f"{_KEYS[table]} {record_id} is registered already: change it with PATCH"
            )
        _store(session, state, table, frame)
        if table == "workplaces":
            set_job_specialist(session, record_id, caller.name)
        named = _store_only(session, table, record_id, local, {})
        _audit(session, caller, f"create_{table[:-1]}", table, record_id, sorted([*record, *named]))
        stored = read(session, record_id) or {}
    response.headers["Location"] = f"/{table}/{quote(record_id, safe='')}"
    return _out(table, stored, sorted([*record, *named]))


def _change(
    state: State, table: str, record_id: str, body: BaseModel, stored: dict[str, Any]
) -> tuple[pd.DataFrame, list[str]]:
    """The stored record with the body's contract fields, checked whole; and the names of the
    contract fields that changed."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if k not in STORE_ONLY}
    record = _contract_fields(table, stored) | changes
    changed = sorted(name for name, value in changes.items() if stored.get(name) != value)
    return _checked(table, record), changed


@router.post(
    "/candidates",
    response_model=RecordOut,
    status_code=201,
    responses={
        **RESPONSES,
        409: {"model": ErrorMessage, "description": "the id is registered already"},
        410: {"model": ErrorMessage, "description": "the person's data was erased at their request"},
    },
    summary="Register a person in the adviser's caseload",
)
def create_candidate(body: CandidateIn, state: State, caller: Adviser, response: Response) -> RecordOut:  # type: ignore[valid-type]
    """A new person, all of their record (data contract v1). `adviser_id` defaults to the
    caller's own; an adviser registers only persons of their own caseload. Used by the next
    shortlist in every worker."""
    if body.adviser_id in (None, ""):  # type: ignore[attr-defined]
        body = body.model_copy(update={"adviser_id": caller.adviser_id})  # type: ignore[attr-defined]
    check_caseload(caller, body.adviser_id)  # type: ignore[attr-defined]
    return _create(state, caller, "candidates", body, response)


@router.get(
    "/candidates/{candidate_id}",
    response_model=RecordOut,
    responses={**RESPONSES, 404: {"model": ErrorMessage, "description": "unknown person"}},
)
def read_candidate(candidate_id: CandidateId, state: State, caller: Adviser) -> RecordOut:
    """A person's record as the store holds it (own caseload only)."""
    with session_scope(state.engine, readonly=True) as session:
        stored = candidate_record(session, candidate_id)
    if stored is None:
        raise HTTPException(status_code=404, detail=f"unknown candidate_id: {candidate_id}")
    check_caseload(caller, stored.get("adviser_id"))
    return _out("candidates", stored, [])


@router.patch(
    "/candidates/{candidate_id}",
    response_model=RecordOut,
    responses={**RESPONSES, 404: {"model": ErrorMessage, "description": "unknown person"}},
    summary="Change some fields of a person's record",
)
def change_candidate(candidate_id: CandidateId, body: CandidateChange, state: State, caller: Adviser) -> RecordOut:  # type: ignore[valid-type]
    """Only the fields given change; the whole record is checked again by the contract's rules.
    Withdrawn consent (`"consent": false`) stops matching at once. Handing the person to another
    adviser (`adviser_id`) takes them out of the caller's caseload."""
    with session_scope(state.engine) as session:
        stored = candidate_record(session, candidate_id)
        if stored is None:
            raise HTTPException(status_code=404, detail=f"unknown candidate_id: {candidate_id}")
        check_caseload(caller, stored.get("adviser_id"))
        frame, changed = _change(state, "candidates", candidate_id, body, stored)
        if changed:
            _store(session, state, "candidates", frame)
        changed += _store_only(session, "candidates", candidate_id, body.model_dump(exclude_unset=True), stored)  # type: ignore[attr-defined]
        if changed:
            _audit(session, caller, "update_candidate", "candidates", candidate_id, sorted(changed))
        stored = candidate_record(session, candidate_id) or {}
    return _out("candidates", stored, sorted(changed))


def _check_specialist(caller: Identity, stored: dict[str, Any]) -> None:
    """A job specialist changes the workplaces they work with (one no one works with yet becomes theirs)."""
    specialist = stored.get("job_specialist_id")
    if specialist is not None and specialist != caller.name:
        raise HTTPException(status_code=403, detail="another job specialist works with this workplace")


@router.post(
    "/workplaces",
    response_model=RecordOut,
    status_code=201,
    responses={**RESPONSES, 409: {"model": ErrorMessage, "description": "the id is registered already"}},
    summary="Register a workplace opening the job specialist works with",
)
def create_workplace(body: WorkplaceIn, state: State, caller: JobSpecialist, response: Response) -> RecordOut:  # type: ignore[valid-type]
    """A new workplace opening, all of its record (data contract v1): tasks, demands, supports
    offered, free slots (and, beside the contract, the tutor's name). The caller becomes the job
    specialist who works with it."""
    return _create(state, caller, "workplaces", body, response)


@router.get(
    "/workplaces/{workplace_id}",
    response_model=RecordOut,
    responses={**RESPONSES, 404: {"model": ErrorMessage, "description": "unknown workplace"}},
)
def read_workplace(workplace_id: WorkplaceId, state: State, caller: JobSpecialist) -> RecordOut:
    """A workplace's record as the store holds it."""
    with session_scope(state.engine, readonly=True) as session:
        stored = workplace_record(session, workplace_id)
    if stored is None:
        raise HTTPException(status_code=404, detail=f"unknown workplace_id: {workplace_id}")
    return _out("workplaces", stored, [])


@router.patch(
    "/workplaces/{workplace_id}",
    response_model=RecordOut,
    responses={**RESPONSES, 404: {"model": ErrorMessage, "description": "unknown workplace"}},
    summary="Change some fields of a workplace, or close it",
)
def change_workplace(
    workplace_id: WorkplaceId,
    body: WorkplaceChange,  # type: ignore[valid-type]
    state: State,
    caller: JobSpecialist,
) -> RecordOut:
    """Only the fields given change; the whole record is checked again. `{"active": false}` closes
    the workplace: it leaves candidate generation at the next request. The slots a running trial
    holds are the service's to count (a trial that starts takes one, an end gives it back)."""
    with session_scope(state.engine) as session:
        stored = workplace_record(session, workplace_id)
        if stored is None:
            raise HTTPException(status_code=404, detail=f"unknown workplace_id: {workplace_id}")
        _check_specialist(caller, stored)
        frame, changed = _change(state, "workplaces", workplace_id, body, stored)
        if changed:
            _store(session, state, "workplaces", frame)
        changed += _store_only(session, "workplaces", workplace_id, body.model_dump(exclude_unset=True), stored)  # type: ignore[attr-defined]
        if changed:
            if stored.get("job_specialist_id") is None:
                set_job_specialist(session, workplace_id, caller.name)
            _audit(session, caller, "update_workplace", "workplaces", workplace_id, sorted(changed))
        stored = workplace_record(session, workplace_id) or {}
    return _out("workplaces", stored, sorted(changed))
