"""Routes: shortlists, health, the model in service."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, HTTPException, Response
from fastapi.exceptions import RequestValidationError

from matching.candidates import CandidateTable
from matching.records import validate_table
from serving.deps import State
from serving.schemas import ErrorMessage, Health, ModelInfo, ShortlistRequest, ShortlistResponse

router = APIRouter()


@router.post(
    "/shortlists",
    response_model=ShortlistResponse,
    responses={
        404: {"model": ErrorMessage, "description": "unknown candidate_id"},
        409: {"model": ErrorMessage, "description": "the candidate has not consented or is not active"},
        503: {"model": ErrorMessage, "description": "no model is loaded"},
    },
    summary="A ranked, explained shortlist of workplaces for one candidate",
)
def create_shortlist(body: ShortlistRequest, state: State) -> ShortlistResponse:
    """Rank the eligible workplaces for a candidate of the loaded dataset, or for a full
    candidate record, and explain each suggestion in an adviser's words."""
    matcher = state.matcher()
    assert state.model is not None
    if body.candidate is not None:
        record = body.candidate.model_dump()
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
        row, candidate_id = 0, record.get("candidate_id")
    else:
        if body.candidate_id not in state.positions:
            raise HTTPException(status_code=404, detail=f"unknown candidate_id: {body.candidate_id}")
        table, row, candidate_id = state.candidates, state.positions[body.candidate_id], body.candidate_id
    candidate = table.frame.iloc[row]
    if not bool(candidate["consent"]) or not bool(candidate["active"]):
        raise HTTPException(status_code=409, detail="the candidate has not consented to matching or is not active")
    shortlist = matcher.shortlist(row, body.top_k, table)
    return ShortlistResponse(
        model=ModelInfo(**state.model.info()),
        candidate_id=candidate_id,
        top_k=body.top_k,
        eligible_workplaces=shortlist.eligible,
        items=shortlist.items,
    )


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(state: State, response: Response) -> Health:
    """Whether a model is serving, and how much data is loaded."""
    body = Health(
        status="ok" if state.model else "unavailable",
        model_version=state.model.version if state.model else None,
        candidates=len(state.candidates.frame),
        workplaces=len(state.pool),
        error=state.error,
    )
    if state.model is None:
        response.status_code = 503
    return body


@router.get("/model", response_model=ModelInfo, responses={503: {"model": ErrorMessage}})
def model_info(state: State) -> ModelInfo:
    """The model in service: name, version, run, features."""
    if state.model is None:
        raise HTTPException(status_code=503, detail=f"no model is loaded: {state.error}")
    return ModelInfo(**state.model.info())
