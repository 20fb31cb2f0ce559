"""Bodies of the adviser's shortlist: the request (a candidate of the loaded dataset or a full
candidate record of data contract v1, and how many workplaces) and the ranked, explained answer.
The explanation's shape is `matching.explanation`'s; the candidate record's limits are the
contract's (`matching.records.table_schemas`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, model_validator

from matching.explanation import Explanation
from matching.records import Column, load_catalogue, table_schemas
from serving.schemas.common import ModelInfo

MAX_TOP_K = 100
"""The longest shortlist one request may ask for (either side), and so the highest rank."""

# what the API adds to the contract's rules, column by column
_API_FIELDS: dict[str, dict[str, Any]] = {
    "candidate_id": {
        "min_length": 1,
        "max_length": 100,
        "description": "the person's id (the shortlist is recorded under it)",
    },
    "adviser_id": {
        "default": None,
        "max_length": 100,
        "description": "the person's adviser: required, but an adviser may leave out their own",
    },
    "lat": {"description": "home, WGS84"},
    "lon": {"description": "home, WGS84"},
    "preferred_occupations": {
        "default_factory": list,
        "max_length": 20,
        "description": "STYRK-08 codes from the catalogue",
    },
    "consent": {"description": "agreed to be matched; required to be scored"},
    "active": {"default": True},
}
_OPTIONAL = frozenset({"adviser_id"})  # an adviser may leave out their own id
_LEVELS = {
    "interest_": "interest in {} work",
    "skill_": "level mastered: {}",
    "tolerance_": "how much {} the person copes with",
}
_NEEDS = "needs_"


def _candidate_field(column: Column, support_descriptions: dict[str, str]) -> tuple[Any, Any]:
    """The pydantic field of one contract column: its type and limits, and the API's additions."""
    extra = dict(_API_FIELDS.get(column.name, {}))
    for prefix, text in _LEVELS.items():
        if column.name.startswith(prefix):
            extra["description"] = text.format(column.name.removeprefix(prefix))
    if column.kind == "float":
        bounds = {"gt" if column.low_open else "ge": column.low, "le": column.high}
        limits: dict[str, Any] = {k: v for k, v in bounds.items() if v is not None}
        return float, Field(**limits, strict=True, allow_inf_nan=False, **extra)
    if column.kind == "int" and column.allowed is not None and column.name.startswith(_NEEDS):
        need = column.name.removeprefix(_NEEDS)
        description = f"0 not needed, 1 helps, 2 required: {support_descriptions[need]}"
        return Literal[column.allowed], Field(0, description=description)
    if column.kind == "bool":
        return bool, Field(strict=True, **extra)
    if column.kind == "codes":
        return list[Annotated[str, StringConstraints(max_length=10)]], Field(**extra)
    if column.kind == "str":
        return (str | None if column.name in _OPTIONAL else str), Field(**extra)
    raise TypeError(f"no API field for contract column {column.name} ({column.kind})")


def build_candidate_record() -> type[BaseModel]:
    """The candidate record of data contract v1 as a pydantic model: the contract's columns and
    limits, with the API's lengths, defaults and descriptions. The record's own fields come first,
    then the vocabulary's levels and needs."""
    voc = load_catalogue().vocabulary
    columns = sorted(
        table_schemas()["candidates"], key=lambda c: c.name.startswith((*_LEVELS, _NEEDS))
    )  # stable: contract order within each part
    fields: dict[str, Any] = {c.name: _candidate_field(c, voc.support_descriptions) for c in columns}
    return create_model("CandidateRecord", __config__=ConfigDict(extra="forbid"), **fields)


CandidateRecord = build_candidate_record()


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


class ShortlistResponse(BaseModel):
    shortlist_id: int = Field(description="the recorded shortlist: GET /shortlists/{id}, decisions against it")
    model: ModelInfo
    candidate_id: str
    top_k: int
    eligible_workplaces: int = Field(description="workplaces that passed candidate generation")
    items: list[ShortlistItem]
