"""The live loop's fairness report (`GET /fairness/live`): per audit group, counts and shares of
persons with a shortlist and of suggestions accepted, pursued, trialled and ending in a hire, with
each share's ratio to the best group and the four-fifths flag (`matching.store.live_fairness`).
Counts per group only: no person-level values."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

MeasureName = Literal["shortlisted", "accepted", "pursued", "trialled", "hired"]


class LiveMeasure(BaseModel):
    measure: MeasureName = Field(
        description="shortlisted: persons with a shortlist; the others: suggestions (one workplace suggested to "
        "one person) accepted by the adviser, pursued (employer contacted or later), trialled (trial started), hired"
    )
    count: int = Field(ge=0)
    out_of: int = Field(ge=0, description="persons (shortlisted) or suggestions (the others) of the group")
    share: float | None = Field(ge=0, le=1, description="count / out_of; null when out_of is 0")
    ratio: float | None = Field(
        ge=0,
        description="share / the best share among the groups of at least `min_group`; null when there is none "
        "(or it is 0) or the group has no share",
    )
    small: bool = Field(
        description="fewer than `min_group` persons (for the suggestion shares: persons with a shortlist): "
        "never flagged, never the best group"
    )
    flagged: bool = Field(description="ratio under `threshold` in a group that is not small")


class LiveGroup(BaseModel):
    attribute: Literal["age_band", "gender"]
    group: str
    persons: int = Field(ge=0, description="counted persons of the group")
    persons_with_shortlist: int = Field(ge=0)
    suggestions: int = Field(ge=0)
    measures: list[LiveMeasure]
    flagged_on: list[MeasureName] = Field(description="the measures the group is flagged on")


class LeftOut(BaseModel):
    without_audit: int = Field(ge=0, description="persons without an audit row (not counted)")
    withdrawn_consent: int = Field(ge=0, description="persons who withdrew consent (not counted)")
    erased: int = Field(ge=0, description="erasures in the register: their data is gone from the store")


class LiveFairnessOut(BaseModel):
    """The live loop's fairness by audit group; audit data are never features."""

    since: dt.date | None = Field(description="shortlists made on or after this day count; null: every shortlist")
    threshold: float = Field(description="a ratio under this is flagged (the four-fifths rule)")
    min_group: int = Field(ge=1, description="groups with fewer persons are shown but not flagged")
    persons: int = Field(ge=0, description="persons counted")
    left_out: LeftOut
    rules: list[str] = Field(description="what was counted and how, in words")
    groups: list[LiveGroup]
