"""Bodies of the person's rights: their suggestions explained in plain language (what speaks for
and against each, what the workplace gives, which of their data was used, who made the shortlist)
and the erasure request and its report."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from matching.plain import Lang
from matching.store.rights import MAX_REASON_LENGTH


class PlainReason(BaseModel):
    feature: str = Field(description="the registry feature behind the sentence (for the adviser)")
    sentence: str


class PlainSuggestion(BaseModel):
    rank: int
    workplace_id: str
    occupation: str = Field(description="the occupation's title in the chosen language")
    distance_km: float | None
    summary: str
    speaks_for: list[PlainReason]
    speaks_against: list[PlainReason]
    workplace_gives: list[str] = Field(description="the support the person needs that the workplace gives")
    training: list[str] = Field(description="tasks the person will be trained in")
    arranged_elsewhere: list[str] = Field(description="support the workplace cannot give: arranged by others")
    what_would_help: list[str] = Field(
        default_factory=list,
        description="supports the support system could arrange, each with the estimated chance of a hire were it "
        "arranged (an estimate from past outcomes, not a promise)",
    )
    estimate_note: str | None = Field(None, description="with `what_would_help`: that the chances are estimates")
    needs_outside_work: list[str] = Field(description="help outside work agreed in the inclusion plan, if any")
    similar_to_wish: str | None = Field(
        None, description="when the occupation is like one the person wished for (not itself a wish): which"
    )


class DataField(BaseModel):
    field: str = Field(description="the contract column")
    label: str
    value: Any = Field(description="the value as stored: the person's own data")
    text: str = Field(description="the value in words")


class DataGroup(BaseModel):
    group: str
    label: str
    purpose: str
    fields: list[DataField]


class MadeBy(BaseModel):
    model_name: str
    model_version: str
    scored_by: Literal["model", "rule"] = Field(description="the model, or the rule score while it was switched off")
    made_at: dt.datetime
    requested_by: str
    sentence: str


class Explanation(BaseModel):
    candidate_id: str
    lang: Lang
    title: str
    shortlist_id: int
    made_by: MadeBy
    suggestions: list[PlainSuggestion]
    no_suggestions: str | None
    why_short: list[str] = Field(
        default_factory=list,
        description="why the list is not longer: the workplaces each rule left out, and what a longer commute "
        "would add (the same words as the adviser's page)",
    )
    data_used_heading: str
    data_used: list[DataGroup]
    not_used_heading: str
    not_used: list[str]
    kept_not_used: list[str] = Field(description="data kept about the person that never feeds a suggestion")
    notes: list[str]
    adviser_decides: str
    rights: str


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON_LENGTH,
        description="why (e.g. 'request from the person, 2026-12-01'); kept in the erasure register, "
        "so write no personal details in it",
    )


class ErasureOut(BaseModel):
    erasure_id: int
    pseudonym: str = Field(description="what now stands for the person in the audit trail")
    erased_at: dt.datetime
    rows_deleted: dict[str, int]
    audit_entries_pseudonymised: int
    served: bool = Field(description="whether the running API held the person in memory (now forgotten)")
