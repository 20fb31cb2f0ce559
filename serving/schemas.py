"""Request and response models of the API. The candidate record follows data contract v1."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, field_validator, model_validator

from matching.records import load_catalogue


def _level(description: str) -> Any:
    return (float, Field(ge=0.0, le=1.0, strict=True, allow_inf_nan=False, description=description))


def build_candidate_record() -> type[BaseModel]:
    """The candidate record of data contract v1 as a pydantic model (fields from the vocabulary)."""
    voc = load_catalogue().vocabulary
    fields: dict[str, Any] = {
        "candidate_id": (
            str,
            Field(min_length=1, max_length=100, description="the person's id (the shortlist is recorded under it)"),
        ),
        "adviser_id": (
            str | None,
            Field(
                None,
                max_length=100,
                description="the person's adviser: required, but an adviser may leave out their own",
            ),
        ),
        "lat": (float, Field(ge=-90, le=90, strict=True, allow_inf_nan=False, description="home, WGS84")),
        "lon": (float, Field(ge=-180, le=180, strict=True, allow_inf_nan=False, description="home, WGS84")),
        "max_commute_km": (float, Field(gt=0, le=500, strict=True, allow_inf_nan=False)),
        "desired_hours": (float, Field(ge=1, le=40, strict=True, allow_inf_nan=False)),
        "preferred_occupations": (
            list[Annotated[str, StringConstraints(max_length=10)]],
            Field(default_factory=list, max_length=20, description="STYRK-08 codes from the catalogue"),
        ),
        "consent": (bool, Field(strict=True, description="agreed to be matched; required to be scored")),
        "active": (bool, Field(True, strict=True)),
    }
    for name in voc.riasec:
        fields[f"interest_{name}"] = _level(f"interest in {name} work")
    for name in voc.activities:
        fields[f"skill_{name}"] = _level(f"level mastered: {name}")
    for name in voc.contexts:
        fields[f"tolerance_{name}"] = _level(f"how much {name} the person copes with")
    for name in voc.supports:
        fields[f"needs_{name}"] = (
            Literal[0, 1, 2],
            Field(0, description=f"0 not needed, 1 helps, 2 required: {voc.support_descriptions[name]}"),
        )
    return create_model("CandidateRecord", __config__=ConfigDict(extra="forbid"), **fields)


CandidateRecord = build_candidate_record()


class ShortlistRequest(BaseModel):
    """A shortlist for a candidate of the loaded dataset (`candidate_id`) or a full record."""

    model_config = ConfigDict(extra="forbid")

    candidate_id: str | None = Field(None, min_length=1, max_length=100)
    candidate: CandidateRecord | None = None  # type: ignore[valid-type]
    top_k: int = Field(10, ge=1, le=100, strict=True, description="how many workplaces to return")

    @model_validator(mode="after")
    def one_candidate(self) -> ShortlistRequest:
        if (self.candidate_id is None) == (self.candidate is None):
            raise ValueError("give exactly one of candidate_id or candidate")
        return self


class Reason(BaseModel):
    feature: str
    sentence: str
    contribution: float


class SupportNeed(BaseModel):
    support: str
    need: Literal["required", "helps"]
    description: str


class TaskGap(BaseModel):
    task: str
    required_level: float
    skill_level: float


class Explanation(BaseModel):
    speaks_for: list[Reason]
    speaks_against: list[Reason]
    support_needs_met: list[SupportNeed]
    support_needs_unmet: list[SupportNeed]
    tasks_needing_training: list[TaskGap]


class CongestionInfo(BaseModel):
    live_suggestions: int = Field(
        description="other persons this workplace is a live suggestion for (suggested within the window, not rejected)"
    )
    free_slots: int
    factor: float = Field(
        description="min(1, suggestions_per_slot * free_slots / (live_suggestions + 1)); 1 when the penalty is off"
    )


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


class ModelInfo(BaseModel):
    name: str = Field(description="the registered model, or `rule-score` while the model is switched off")
    version: str = Field(description="its version (for the rule score: `rules-` and the weights' fingerprint)")
    uri: str
    run_id: str
    feature_registry: str
    features: list[str]
    dataset_fingerprint: str
    loaded_at: str = Field(
        description="when the model was loaded (for the rule score: when the model was switched off)"
    )
    scored_by: Literal["model", "rule"] = Field(
        "model", description="`model`, or `rule` while people overseeing the service have switched the model off"
    )
    scoring_note: str = Field("", description="what ranked this response, in a sentence")


class ShortlistResponse(BaseModel):
    shortlist_id: int = Field(description="the recorded shortlist: GET /shortlists/{id}, decisions against it")
    model: ModelInfo
    candidate_id: str
    top_k: int
    eligible_workplaces: int = Field(description="workplaces that passed candidate generation")
    items: list[ShortlistItem]


class CandidatesRequest(BaseModel):
    """A shortlist of candidates for one workplace opening."""

    model_config = ConfigDict(extra="forbid")

    top_k: int = Field(10, ge=1, le=100, strict=True, description="how many candidates to return")


class Support(BaseModel):
    support: str
    description: str


class TaskToTrain(BaseModel):
    task: str
    required_level: float


class EmployerExplanation(BaseModel):
    """What the workplace side needs to plan a trial, and no more: the reasons, the adaptations the
    workplace gives or the support system must arrange, and the tasks to train. Not whether a need
    is required or helpful, nor the person's skill levels."""

    speaks_for: list[Reason]
    speaks_against: list[Reason]
    supports_the_workplace_gives: list[Support]
    supports_to_arrange_elsewhere: list[Support]
    tasks_to_train: list[TaskToTrain]

    @classmethod
    def from_explanation(cls, explanation: dict[str, Any]) -> EmployerExplanation:
        def supports(entries: list[dict[str, Any]]) -> list[Support]:
            return [Support(support=e["support"], description=e["description"]) for e in entries]

        return cls(
            speaks_for=explanation["speaks_for"],
            speaks_against=explanation["speaks_against"],
            supports_the_workplace_gives=supports(explanation["support_needs_met"]),
            supports_to_arrange_elsewhere=supports(explanation["support_needs_unmet"]),
            tasks_to_train=[
                TaskToTrain(task=t["task"], required_level=t["required_level"])
                for t in explanation["tasks_needing_training"]
            ],
        )


class CandidateItem(BaseModel):
    rank: int
    candidate_id: str = Field(description="the person's pseudonymous id; no other record field is shown")
    distance_km: float
    score: float = Field(description="the pair's ranking score, the same the person's own shortlist gives it")
    explanation: EmployerExplanation


class CandidatesResponse(BaseModel):
    model: ModelInfo
    workplace_id: str
    top_k: int
    eligible_candidates: int = Field(description="consenting, active persons who passed candidate generation")
    items: list[CandidateItem]


class Health(BaseModel):
    status: Literal["ok", "unavailable"] = Field(
        description="ok when shortlists can be scored (by the model or the rule)"
    )
    model_version: str | None = Field(description="the model loaded (it scores unless `scoring` is `rule`)")
    scoring: Literal["model", "rule"] = Field("model", description="what ranks shortlists now")
    candidates: int
    workplaces: int
    error: str | None = Field(None, description="why no model is loaded")
    last_reload_error: str | None = Field(
        None, description="why the last reload was refused (the model above kept serving); null after a good one"
    )
    last_reload_at: dt.datetime | None = None


class ReloadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=2000, description="why (kept in the audit trail)")


class ReloadOut(BaseModel):
    uri: str = Field(description="the configured model URI that was loaded again")
    previous_version: str | None
    version: str | None = Field(description="the version in service now")
    changed: bool
    at: dt.datetime
    scoring: Literal["model", "rule"] = Field(description="a reloaded model serves only while scoring is `model`")


class SwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=2000, description="why (kept in the audit trail with who and when)")

    @field_validator("reason")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if len(value.strip()) < 3:
            raise ValueError("give the reason in words")
        return value.strip()


class ScoringState(BaseModel):
    scoring: Literal["model", "rule"] = Field(description="what ranks shortlists now")
    changed: bool | None = Field(None, description="whether this request changed it (switch requests only)")
    model_version: str | None = Field(description="the model loaded (scoring or not)")
    rule_version: str = Field(description="the rule score's version, as recorded on the shortlists it ranks")
    switched_by: str | None = None
    switched_role: str | None = None
    switched_at: dt.datetime | None = None
    reason: str | None = None
    last_reload_at: dt.datetime | None = None
    last_reload_outcome: Literal["loaded", "refused"] | None = None
    last_reload_error: str | None = None


class ErrorMessage(BaseModel):
    detail: str


class ValidationProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrors(BaseModel):
    """FastAPI's 422 for a request that does not match its declared parameters or body."""

    detail: list[ValidationProblem]


def unprocessable(problems: list[tuple[list[str | int], str]], kind: str = "value_error") -> HTTPException:
    """A 422 in FastAPI's own validation shape: one entry per (location, message)."""
    return HTTPException(
        status_code=422, detail=[{"loc": ["body", *loc], "msg": msg, "type": kind} for loc, msg in problems]
    )
