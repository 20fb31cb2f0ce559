"""Bodies of the employer's side: a shortlist of candidates for one workplace opening, each named
only by a pseudonymous id and explained in the workplace side's view
(`matching.explanation.EmployerExplanation`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from matching.explanation import EmployerExplanation
from serving.schemas.common import ModelInfo
from serving.schemas.shortlists import MAX_TOP_K


class CandidatesRequest(BaseModel):
    """A shortlist of candidates for one workplace opening."""

    model_config = ConfigDict(extra="forbid")

    top_k: int = Field(10, ge=1, le=MAX_TOP_K, strict=True, description="how many candidates to return")


class CandidateItem(BaseModel):
    rank: int
    candidate_id: str = Field(description="the person's pseudonymous id; no other record field is shown")
    distance_km: float
    score: float = Field(description="the pair's ranking score, the same the person's own shortlist gives it")
    explanation: EmployerExplanation


class OfferGain(BaseModel):
    """A support the workplace does not offer yet (one only a workplace can give), and whom
    offering it would reach: counts only, no person is named."""

    support: str
    description: str
    more_eligible: int = Field(ge=0, description="persons within reach now left out only for want of it")
    better_matched: int = Field(ge=0, description="persons already eligible who need it")


class CandidatesResponse(BaseModel):
    model: ModelInfo
    workplace_id: str
    top_k: int
    eligible_candidates: int = Field(description="consenting, active persons who passed candidate generation")
    items: list[CandidateItem]
    supports_to_offer: list[OfferGain] = Field(
        default_factory=list,
        description="which support, were the workplace to offer it, would reach the most persons within their "
        "commute (most newly eligible first)",
    )
