"""Bodies of presenting a person to a workplace, and of the persons presented there: ids only, and
the ids of their plans (never a ranking, a score or any field of the person's record)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class PresentationIn(BaseModel):
    """Present one person to one workplace."""

    model_config = ConfigDict(extra="forbid")

    candidate_id: str = Field(min_length=1, max_length=100, description="the person, who said they are interested")
    workplace_id: str = Field(min_length=1, max_length=100, description="the workplace opening")


class PresentationOut(BaseModel):
    presentation_id: int
    candidate_id: str
    workplace_id: str
    presented_by: str
    presented_at: dt.datetime


class PresentedPerson(BaseModel):
    candidate_id: str = Field(description="the person's pseudonymous id; no other record field is shown")
    presented_at: dt.datetime
    plan_ids: list[int] = Field(description="the person's inclusion plans at this workplace")


class PresentedOut(BaseModel):
    workplace_id: str
    persons: list[PresentedPerson] = Field(description="in the order they were presented; no ranking")
