"""The adviser's shortlist (ranked, explained and recorded), the service's health and the model in
service."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, HTTPException, Response
from fastapi.exceptions import RequestValidationError

from matching.candidates import CandidateTable
from matching.records import validate_table
from matching.store.audit import record_audit
from matching.store.contract import upsert_table
from matching.store.db import session_scope
from matching.store.shortlists import insert_shortlist, shortlist_rows
from matching.why_short import empty_reason
from serving.auth import Identity, check_caseload
from serving.deps import Checked, State
from serving.roles import AdviserOrBatch, AnyRole
from serving.schemas.common import ErrorMessage, Health, ModelInfo, serialised
from serving.schemas.shortlists import ShortlistRequest, ShortlistResponse
from serving.state import ServiceState

router = APIRouter()
AUTH_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorMessage, "description": "missing or unknown API key"},
    403: {"model": ErrorMessage, "description": "the caller's role or caseload does not allow this"},
}


@router.post(
    "/shortlists",
    response_model=ShortlistResponse,
    responses={
        **AUTH_RESPONSES,
        404: {"model": ErrorMessage, "description": "unknown candidate_id"},
        409: {"model": ErrorMessage, "description": "the candidate has not consented or is not active"},
        410: {"model": ErrorMessage, "description": "the person's data was erased at their request"},
        503: {"model": ErrorMessage, "description": "no model is loaded"},
    },
    summary="A ranked, explained shortlist of workplaces for one candidate, recorded",
)
def create_shortlist(body: ShortlistRequest, state: State, caller: AdviserOrBatch) -> Response:
    """The route: `make_shortlist`'s answer, validated once and serialised once, here (not
    validated again on the way out)."""
    return serialised(make_shortlist(body, state, caller))


def make_shortlist(body: ShortlistRequest, state: ServiceState, caller: Identity) -> ShortlistResponse:
    """Rank the eligible workplaces for a candidate of the loaded dataset, or for a full
    candidate record, explain each suggestion in an adviser's words, and record the shortlist
    (who asked, when, which model, the feature values behind each suggestion).

    The list is ranked by the model's expected success times a congestion factor: a workplace
    already suggested to many others for its free slots (live suggestions: made within
    `congestion_window_days`, not rejected) moves down, so advisers do not all send their people
    to the same few places. Each item shows its `expected_success` and `congestion`; `score`
    is the model's score.

    While the model is switched off (`POST /model/off`), the transparent rule score ranks instead
    (`model.scored_by` is `rule`, `model.scoring_note` says so; reasons are weight times value; no
    congestion penalty, as the rule score is not a probability) and the shortlist is recorded as
    scored by `rule-score`. `model` always names what scored this response."""
    scoring = state.scoring()  # one model (or, switched off, the rule) for the whole request
    model, matcher = scoring.model, scoring.matcher
    new_record = None
    if body.candidate is not None:
        record = body.candidate.model_dump()
        if caller.role == "adviser" and record.get("adviser_id") in (None, ""):
            record["adviser_id"] = caller.adviser_id
        frame, problems = validate_table("candidates", pd.DataFrame([record]))
        if problems:
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", "candidate", p.column),
                        "msg": p.rule,
                        "type": "contract",
                        "input": p.value,
                    }
                    for p in problems
                ]
            )
        table = CandidateTable.build(frame, state.pool.catalogue)
        # the id as the contract keeps it (stripped of surrounding whitespace), as it is stored
        row, candidate_id, new_record = 0, str(frame["candidate_id"].iloc[0]), frame
    else:
        served = scoring.served  # the records as they were when this request took its scoring
        if body.candidate_id not in served.positions:
            raise HTTPException(status_code=404, detail=f"unknown candidate_id: {body.candidate_id}")
        table, row, candidate_id = served.candidates, served.positions[body.candidate_id], str(body.candidate_id)
    frame = table.frame  # three values of one row, not the whole row (`iloc` builds a Series of every column)
    check_caseload(caller, str(frame["adviser_id"].iat[row]))
    if not bool(frame["consent"].iat[row]) or not bool(frame["active"].iat[row]):
        raise HTTPException(status_code=409, detail="the candidate has not consented to matching or is not active")
    # the congestion penalty discounts a calibrated probability: the rule score has none
    congestion = state.congestion.view(state.engine, candidate_id) if scoring.scored_by == "model" else None
    shortlist = matcher.shortlist(row, body.top_k, table, congestion=congestion)
    why = {"filtered": shortlist.filtered, "wider": shortlist.wider}
    # checked and converted before the writing transaction, which holds the write lock
    rows = shortlist_rows(candidate_id, caller.name, model.name, model.version, body.top_k, shortlist.items, None, why)
    with session_scope(state.engine) as session:
        if new_record is not None:
            counts = upsert_table(session, "candidates", new_record, state.settings.pseudonym_secret(), source="api")
            if counts.skipped_erased:
                raise HTTPException(status_code=410, detail="this person's data was erased at their request")
        shortlist_id = insert_shortlist(session, rows)
        record_audit(
            session,
            caller.name,
            caller.role,
            "create_shortlist",
            "candidate",
            candidate_id,
            {
                "shortlist_id": shortlist_id,
                "items": len(shortlist.items),
                "model_version": model.version,
                "scored_by": scoring.scored_by,
            },
        )
    # recorded: the next request counts these suggestions at once, before the store is read again
    state.congestion.record(candidate_id, [item["workplace_id"] for item in shortlist.items])
    answer = ShortlistResponse.model_validate(
        {
            "shortlist_id": shortlist_id,
            "model": ModelInfo(**model.info()),
            "candidate_id": candidate_id,
            "top_k": body.top_k,
            "eligible_workplaces": shortlist.eligible,
            "filtered": shortlist.filtered,
            "empty_reason": None if shortlist.items else empty_reason(shortlist.filtered or {}),
            "wider_reach": shortlist.wider,
            "items": shortlist.served_items(),
        }
    )
    return answer


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(checked: Checked, response: Response) -> Health:
    """Whether shortlists can be scored and by what (the model loaded, or the rule score while
    the model is switched off), how much data is loaded, why the last reload was refused, and
    whether the database answers (this answers while it does not).

    On the event loop (what it reports is in memory): no hand-over to a worker thread."""
    state, database_error = checked
    model = state.models.loaded
    last = state.models.last_reload
    can_score = model is not None or state.models.scoring_mode == "rule"
    body = Health(
        status="ok" if can_score else "unavailable",
        model_version=model.version if model else None,
        scoring=state.models.scoring_mode,
        candidates=len(state.candidates.frame),
        workplaces=len(state.pool),
        error=state.models.error,
        last_reload_error=last.error if last is not None and last.outcome == "refused" else None,
        last_reload_at=last.at if last is not None else None,
        database="ok" if database_error is None else "unreachable",
        database_error=database_error,
    )
    if not can_score:
        response.status_code = 503
    return body


@router.get("/model", response_model=ModelInfo, responses={**AUTH_RESPONSES, 503: {"model": ErrorMessage}})
async def model_info(state: State, caller: AnyRole) -> ModelInfo:
    """What scores shortlists now: the model's name, version, run and features, or the rule score
    (`scored_by: rule`) while the model is switched off. On the event loop (all in memory)."""
    return ModelInfo(**state.scoring().model.info())
