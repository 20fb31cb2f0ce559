"""Bodies of plans, placements and follow-ups, and what a plan may hold through the API: dates
within a window (the follow-up schedule is counted from them, and a day past 9999-12-31 does not
exist), a trial of at most three years (its schedule stays a few thousand entries), bounded texts
and lists. `plan_limit_problems` and `size_problems` name what is beyond these (a 422)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from matching.inclusion import PlanDraft
from matching.placements import EventKind

EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2100, 12, 31)
MAX_PLAN_DAYS = 3 * 366
MAX_TEXT = 2000
MAX_ITEMS = 50


class PlanOut(BaseModel):
    plan_id: int
    candidate_id: str
    workplace_id: str
    revision: int
    draft: dict[str, Any] = Field(description="the plan now, with its follow-up schedule and open points")
    revisions: list[dict[str, Any]]
    approvals: list[dict[str, Any]]
    awaiting: list[str]
    agreed: bool
    placement_id: int | None


class RevisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    changes: dict[Annotated[str, StringConstraints(max_length=100)], Any] = Field(
        min_length=1,
        max_length=50,
        description=f"field (dotted for nested) -> value; texts up to {MAX_TEXT} characters, lists up to "
        f"{MAX_ITEMS} entries, dates from {EARLIEST_DAY} to {LATEST_DAY}, at most {MAX_PLAN_DAYS} days from "
        "start_date to end_date",
    )
    note: str = Field("", max_length=MAX_TEXT)


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party: Literal["person", "employer", "adviser"]
    revision: int = Field(ge=1, strict=True)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: EventKind
    reason: str | None = Field(None, max_length=50)
    reason_text: str | None = Field(None, max_length=MAX_TEXT)
    assessment: dict[str, Any] | None = Field(
        None, max_length=10, description=f"source, tasks_mastered, would_continue; texts up to {MAX_TEXT} characters"
    )


class PlacementOut(BaseModel):
    placement_id: int
    plan_id: int
    candidate_id: str
    workplace_id: str
    stage: str
    grade: int
    allowed_next: list[str]
    events: list[dict[str, Any]]


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party: Literal["person", "workplace"]
    due_on: dt.date = Field(description="the scheduled day this contact answers")
    note: str | None = Field(None, max_length=2000)


def day_problem(day: dt.date) -> str | None:
    """Why `day` is outside the days the API keeps, or None when it is within them."""
    if EARLIEST_DAY <= day <= LATEST_DAY:
        return None
    return f"must be a day from {EARLIEST_DAY} to {LATEST_DAY}, got {day}"


def size_problems(value: Any, path: str) -> list[tuple[str, str]]:
    """Texts longer than MAX_TEXT and lists longer than MAX_ITEMS anywhere in `value`, by dotted path."""
    if isinstance(value, str):
        return [(path, f"at most {MAX_TEXT} characters, got {len(value)}")] if len(value) > MAX_TEXT else []
    problems: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            problems += size_problems(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        if len(value) > MAX_ITEMS:
            return [(path, f"at most {MAX_ITEMS} entries, got {len(value)}")]
        for i, item in enumerate(value):
            problems += size_problems(item, f"{path}.{i}")
    return problems


def plan_limit_problems(draft: PlanDraft) -> list[tuple[str, str]]:
    """What in `draft` is beyond what the API keeps (field, message); empty when nothing is."""
    problems = [(name, p) for name in ("start_date", "end_date") if (p := day_problem(getattr(draft, name)))]
    if not problems and (draft.end_date - draft.start_date).days > MAX_PLAN_DAYS:
        problems.append(("end_date", f"at most {MAX_PLAN_DAYS} days after start_date ({draft.start_date})"))
    return problems + size_problems(draft.stored(), "")
