"""The workplace's side: a ranked, explained shortlist of candidates for one workplace opening, from
the same candidate generation rules, features, model and explanations as the adviser's shortlist.
It is for the job specialist who works with the workplace (and batch), never for the employer: the
employer sees only persons who said they are interested and were presented to them
(`serving.api.presentations`), never a ranking.

Items name a person only by their pseudonymous id; no contract field of the person (home, needs
levels, skill levels, audit fields) is shown: the explanation says which adaptations the workplace
gives or the support system must arrange and which tasks to train, not how strong a need is,
nor skill levels. Nothing is recorded but an audit entry with counts and the model version."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from matching.explanation import EmployerExplanation
from matching.offer_gains import offer_gains
from matching.store.audit import record_audit
from matching.store.db import session_scope
from matching.store.local_fields import job_specialist_of
from serving.deps import State
from serving.paths import WorkplaceId
from serving.roles import JobSpecialistOrBatch
from serving.schemas.common import ErrorMessage, ModelInfo
from serving.schemas.employer import CandidateItem, CandidatesRequest, CandidatesResponse, OfferGain

router = APIRouter(tags=["employer"])


@router.post(
    "/workplaces/{workplace_id}/candidates",
    response_model=CandidatesResponse,
    responses={
        401: {"model": ErrorMessage, "description": "missing or unknown API key"},
        403: {"model": ErrorMessage, "description": "a workplace you do not work with, or not your role"},
        404: {"model": ErrorMessage, "description": "unknown workplace_id"},
        409: {"model": ErrorMessage, "description": "the workplace is not active or has no free slot"},
        503: {"model": ErrorMessage, "description": "no model is loaded"},
    },
    summary="A ranked, explained shortlist of candidates for one workplace opening (job specialists)",
)
def workplace_candidates(
    workplace_id: WorkplaceId, body: CandidatesRequest, state: State, caller: JobSpecialistOrBatch
) -> CandidatesResponse:
    """Rank the consenting, active persons within their own commute of the workplace (and, by
    default, whose required supports it gives) by the same model as the adviser's shortlist, and
    explain each in the same words. A job specialist ranks only for the workplaces they work with.
    `supports_to_offer` says which support the workplace could start to offer to reach the most
    persons within their commute ("a quiet place to work: 14 more persons")."""
    scoring = state.scoring()
    matcher, served = scoring.matcher, scoring.served  # the records as they were when scoring was taken
    model = state.model
    if model is None:  # matcher() has answered 503 already
        raise HTTPException(status_code=503, detail="no model is loaded")
    position = served.workplace_positions.get(workplace_id)
    if position is None:
        raise HTTPException(status_code=404, detail=f"unknown workplace_id: {workplace_id}")
    if caller.role == "job_specialist":
        with session_scope(state.engine, readonly=True) as session:
            specialist = job_specialist_of(session, workplace_id)
        if specialist != caller.name:
            raise HTTPException(status_code=403, detail="you do not work with this workplace")
    if not bool(served.pool.is_open[position]):
        raise HTTPException(status_code=409, detail="the workplace is not active or has no free trainee slot")
    shortlist = matcher.workplace_shortlist(position, body.top_k, served.candidate_pool)
    descriptions = served.pool.catalogue.vocabulary.support_descriptions
    with session_scope(state.engine) as session:
        record_audit(
            session,
            caller.name,
            caller.role,
            "workplace_candidates",
            "workplace",
            workplace_id,
            {
                "top_k": body.top_k,
                "eligible_candidates": shortlist.eligible,
                "items": len(shortlist.items),
                "model_version": model.version,
            },
        )
    return CandidatesResponse(
        model=ModelInfo(**model.info()),
        workplace_id=workplace_id,
        top_k=body.top_k,
        eligible_candidates=shortlist.eligible,
        items=[
            CandidateItem.model_validate({**item, "explanation": EmployerExplanation.of(item["explanation"])})
            for item in shortlist.served_items()
        ],
        supports_to_offer=[
            OfferGain(**gain, description=descriptions.get(gain["support"], gain["support"]))
            for gain in offer_gains(served.pool, served.candidate_pool, position)
        ],
    )
