"""Bodies of the adviser's shortlist: the request (a candidate of the loaded dataset or a full
candidate record of data contract v1 (`serving.schemas.records`), and how many workplaces) and the
ranked, explained answer. The explanation's shape is `matching.explanation`'s."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from matching.explanation import Explanation
from serving.schemas.common import ModelInfo
from serving.schemas.records import CandidateRecord

MAX_TOP_K = 100
"""The longest shortlist one request may ask for (either side), and so the highest rank."""


class ShortlistRequest(BaseModel):
    """A shortlist for a candidate of the loaded dataset (`candidate_id`) or a full record."""

    model_config = ConfigDict(extra="forbid")

    candidate_id: str | None = Field(None, min_length=1, max_length=100)
    candidate: CandidateRecord | None = None  # type: ignore[valid-type]
    top_k: int = Field(10, ge=1, le=MAX_TOP_K, strict=True, description="how many workplaces to return")

    @model_validator(mode="after")
    def one_candidate(self) -> ShortlistRequest:
        if (self.candidate_id is None) == (self.candidate is None):
            raise ValueError("give exactly one of candidate_id or candidate")
        return self


class CongestionInfo(BaseModel):
    live_suggestions: int = Field(
        description="other persons this workplace is a live suggestion for (suggested within the window, not rejected)"
    )
    free_slots: int
    factor: float = Field(
        description="min(1, suggestions_per_slot * free_slots / (live_suggestions + 1)); 1 when the penalty is off"
    )


class SupportOption(BaseModel):
    """A support the person needs that the workplace lacks and the support system could arrange,
    with the chance of a hire the same model estimates were it arranged (from past outcomes: an
    estimate, not a promise)."""

    support: str
    need: str = Field(description="required or helps")
    arranged_by: str = Field(description="support_system: the support system can bring it itself")
    scheme: str = Field(description="the scheme it usually comes through")
    expected_success: float = Field(ge=0, le=1, description="the estimated chance of a hire as the workplace is")
    expected_success_if_arranged: float = Field(ge=0, le=1, description="the same estimate were it arranged")


class ShortlistItem(BaseModel):
    rank: int
    workplace_id: str
    employer_id: str
    occupation_code: str
    occupation_title: str
    distance_km: float
    score: float = Field(description="ranking score: higher is better, comparable within this list only")
    explanation: Explanation
    features: dict[str, float]
    expected_success: float | None = Field(
        None, description="the model's calibrated probability of a hire; the list is ranked by it times the factor"
    )
    congestion: CongestionInfo | None = Field(
        None, description="how many live suggestions the workplace already carries for its free slots"
    )
    support_options: list[SupportOption] = Field(
        default_factory=list,
        description="what would make it work: supports the support system could arrange, best estimate first "
        "(empty without a calibrated model, e.g. while the rule score serves)",
    )


class Filtered(BaseModel):
    """How many workplaces each rule of candidate generation removed, in the order they apply; with
    `eligible_workplaces` they add up to every workplace served."""

    not_active: int = Field(ge=0, description="the workplace is closed")
    no_free_slot: int = Field(ge=0, description="active, but every trainee slot is taken")
    beyond_commute: int = Field(ge=0, description="open, but further away than the person's commute")
    required_support: int = Field(
        ge=0, description="within reach, but lacks a support the person requires that only the workplace can give"
    )


class WiderReach(BaseModel):
    within_km: float = Field(description="a commute this long (the person's own plus 10 km)")
    more_workplaces: int = Field(ge=0, description="how many more workplaces would then be eligible")


class ShortlistResponse(BaseModel):
    shortlist_id: int = Field(description="the recorded shortlist: GET /shortlists/{id}, decisions against it")
    model: ModelInfo
    candidate_id: str
    top_k: int
    eligible_workplaces: int = Field(description="workplaces that passed candidate generation")
    filtered: Filtered = Field(description="why the list is short: the workplaces each rule removed")
    empty_reason: str | None = Field(None, description="for an empty list: why, in words")
    wider_reach: WiderReach = Field(description="what a longer commute would add")
    items: list[ShortlistItem]
