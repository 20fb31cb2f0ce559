"""Bodies of operating and overseeing the model: reloading it, switching it off and on, and the
scoring state (what ranks shortlists now, who switched it, how the last reload went)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


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
