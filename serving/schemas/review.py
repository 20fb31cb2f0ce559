"""Bodies of the adviser's review of a recorded shortlist: the person's answers and the adviser's
decisions (in), the shortlist as it was served with each suggestion's decision, answer and their
histories (out), and the audit trail's entries."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from matching.review import REASON_CODES
from matching.store.decisions import MAX_WORDS
from serving.schemas.shortlists import MAX_TOP_K

ReasonCode = Literal[REASON_CODES]  # type: ignore[valid-type]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rank: int = Field(ge=1, le=MAX_TOP_K, strict=True, description="the suggestion's rank in the shortlist")
    decision: Literal["accept", "reject"]
    reason_code: ReasonCode | None = Field(None, description="required when rejecting")
    reason_text: str | None = Field(None, max_length=2000, description="required with reason_code 'other'")


class DecisionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decisions: list[DecisionIn] = Field(min_length=1, max_length=100)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rank: int = Field(ge=1, le=MAX_TOP_K, strict=True)
    answer: Literal["interested", "not_interested", "unsure"]
    words: str | None = Field(
        None,
        max_length=MAX_WORDS,
        description="what the person said, in their own words (kept with the answer; never in the audit trail)",
    )


class AnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: list[AnswerIn] = Field(min_length=1, max_length=100)


class DecisionOut(BaseModel):
    decision: str
    reason_code: str | None
    reason_text: str | None
    decided_by: str
    decided_at: dt.datetime


class AnswerOut(BaseModel):
    answer: str
    words: str | None = Field(None, description="what the person said, in their own words")
    recorded_by: str
    recorded_at: dt.datetime


class ReviewItem(BaseModel):
    rank: int
    workplace_id: str
    score: float
    item: dict[str, Any] = Field(description="the suggestion as it was served")
    decision: DecisionOut | None
    decision_history: list[DecisionOut]
    person_answer: AnswerOut | None
    answer_history: list[AnswerOut]
    plan_id: int | None = Field(description="the inclusion plan opened when the suggestion was accepted")


class ShortlistRecord(BaseModel):
    shortlist_id: int
    candidate_id: str
    requested_by: str
    created_at: dt.datetime
    model_name: str
    model_version: str
    top_k: int
    filtered: dict[str, Any] | None = Field(
        None, description="why the list is short, as when it was made (`POST /shortlists`' filtered and wider_reach)"
    )
    items: list[ReviewItem]


class AuditEntry(BaseModel):
    at: dt.datetime
    actor: str
    role: str
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any] | None
