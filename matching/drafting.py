"""Drafting an inclusion plan from an accepted suggestion: the default purpose of the trial (with
the reason it was chosen), the tasks, hours and dates, who is responsible for what, and the
follow-up schedule; every part stays editable (`matching.agreement.revise`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from numbers import Real
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from matching.explanation import Explanation, SupportNeed
from matching.inclusion import (
    DEFAULT_FIRST_CONTACT_DAYS,
    DEFAULT_FOLLOWUP_INTERVAL_DAYS,
    DEFAULT_TRIAL_WEEKS,
    MAX_HOURS_PER_WEEK,
    Area,
    PlanDraft,
    PlanError,
    Purpose,
)
from matching.plain import plan_texts


@dataclass(frozen=True)
class PurposeRules:
    """When a suggestion's features make a purpose other than trying out the occupation the default.

    Attributes:
        recruitment_hire_rate: the employer's smoothed hire rate from which recruitment is the aim
            (the prior is 0.3), when the fit is also good.
        recruitment_task_coverage: the task coverage a good fit needs.
        recruitment_interest: the interest similarity a good fit needs.
        preferred_match: the preferred-occupation match (1 the same occupation, 0.5 the same minor
            group) from which the trial confirms the person's vocational goal.
    """

    recruitment_hire_rate: float = 0.5
    recruitment_task_coverage: float = 0.8
    recruitment_interest: float = 0.5
    preferred_match: float = 1.0


DEFAULT_PURPOSE_RULES = PurposeRules()


class _Suggestion(BaseModel):
    workplace_id: str = Field(min_length=1)
    employer_id: str = Field(min_length=1)
    occupation_code: str = Field(min_length=1)
    occupation_title: str = Field(min_length=1)
    explanation: Explanation
    features: dict[str, float]


class _Candidate(BaseModel):
    candidate_id: str = Field(min_length=1)
    adviser_id: str = Field(min_length=1)
    desired_hours: float = Field(gt=0)


_PURPOSE_FEATURES = ("employer_hire_rate", "task_coverage", "interest_similarity", "interest_preferred_occupation")


def default_purpose(
    features: Mapping[str, float],
    unmet: Iterable[SupportNeed] = (),
    rules: PurposeRules = DEFAULT_PURPOSE_RULES,
) -> tuple[Purpose, str]:
    """The purpose a trial defaults to, from the suggestion's features, and why.

    Recruitment when the employer hires many of its trainees and the fit is good (tasks covered,
    interests close, no required support missing); else confirming the vocational goal when the
    occupation is one the person asked for; else trying out the occupation.

    Args:
        features: the suggestion's feature values (the shortlist item's `features`).
        unmet: the support needs the workplace cannot meet.
        rules: the thresholds.

    Returns:
        The purpose and a sentence saying why it was chosen (in English, from
        `matching.plain.plan_texts`, which the page shows in Norwegian).

    Raises:
        PlanError: a feature the rules need is missing.
    """
    missing = [name for name in _PURPOSE_FEATURES if name not in features]
    if missing:
        raise PlanError((f"item.features.{name}", "missing") for name in missing)
    hire_rate = features["employer_hire_rate"]
    coverage = features["task_coverage"]
    interest = features["interest_similarity"]
    required_unmet = any(s.need == "required" for s in unmet)
    good_fit = (
        coverage >= rules.recruitment_task_coverage and interest >= rules.recruitment_interest and not required_unmet
    )
    if hire_rate >= rules.recruitment_hire_rate and good_fit:
        return Purpose.START_RECRUITMENT, plan_texts.purpose_reason(
            "recruitment", hire_rate=hire_rate, coverage=coverage, interest=interest
        )
    if features["interest_preferred_occupation"] >= rules.preferred_match:
        return Purpose.CONFIRM_VOCATIONAL_GOAL, plan_texts.purpose_reason("asked_for")
    return Purpose.TRY_OUT_OCCUPATION, plan_texts.purpose_reason("new_occupation")


def draft_plan(
    item: Mapping[str, Any],
    candidate: Mapping[str, Any],
    workplace_hours: float,
    adviser_id: str,
    start_date: date,
    *,
    tutor_name: str | None = None,
    arrange: Iterable[str] = (),
    needs_outside_work: Mapping[str, str] | None = None,
    trial_weeks: int = DEFAULT_TRIAL_WEEKS,
    first_contact_days: int = DEFAULT_FIRST_CONTACT_DAYS,
    followup_interval_days: int = DEFAULT_FOLLOWUP_INTERVAL_DAYS,
    rules: PurposeRules = DEFAULT_PURPOSE_RULES,
) -> PlanDraft:
    """Draft an inclusion plan from an accepted suggestion; every part of it stays editable.

    Args:
        item: one shortlist item, as `Matcher.shortlist(...).items[i]` gives it.
        candidate: the candidate's contract record (candidate_id, adviser_id, desired_hours, ...).
        workplace_hours: the workplace's `hours_per_week`.
        adviser_id: the fixed contact person; must be the candidate's adviser.
        start_date: the first day of the trial.
        tutor_name: the workplace tutor; when missing the plan says "to be named" and lists it as
            an open point.
        arrange: supports the support system arranges besides the required ones it can arrange
            (those are always drafted in `support_system.to_arrange`), e.g. chosen support options.
        needs_outside_work: needs the support system takes care of, by area (health, housing,
            money, transport, language, digital); only the areas given appear.
        trial_weeks: the trial's length; the end date is `start_date` plus this many weeks.
        first_contact_days: days from the start to the first follow-up (1-7).
        followup_interval_days: days between follow-ups after the first.
        rules: the thresholds for the default purpose.

    Returns:
        The draft.

    Raises:
        PlanError: an input or the resulting plan is invalid; the message names the field.
    """
    try:
        suggestion = _Suggestion.model_validate(item)
    except ValidationError as error:
        raise PlanError.from_validation(error, "item") from None
    try:
        person = _Candidate.model_validate(candidate)
    except ValidationError as error:
        raise PlanError.from_validation(error, "candidate") from None
    if adviser_id != person.adviser_id:
        raise PlanError.of(
            "contact_person",
            f"adviser {adviser_id!r} is not the candidate's adviser ({person.adviser_id!r}), the fixed contact person",
        )
    if isinstance(trial_weeks, bool) or not isinstance(trial_weeks, int) or trial_weeks < 1:
        raise PlanError.of("trial_weeks", f"must be a whole number of weeks >= 1, got {trial_weeks!r}")
    if not isinstance(workplace_hours, Real) or isinstance(workplace_hours, bool) or workplace_hours <= 0:
        raise PlanError.of("workplace_hours", f"must be a positive number of hours, got {workplace_hours!r}")
    outside = []
    for area, description in (needs_outside_work or {}).items():
        if area not in {a.value for a in Area}:
            allowed = ", ".join(a.value for a in Area)
            raise PlanError.of(f"needs_outside_work.{area}", f"unknown area (one of {allowed})")
        outside.append({"area": area, "description": description})

    explanation = suggestion.explanation
    chosen = set(arrange)
    purpose, reason = default_purpose(suggestion.features, explanation.support_needs_unmet, rules)
    to_train = [t.model_dump() for t in explanation.tasks_needing_training]
    return PlanDraft(
        candidate_id=person.candidate_id,
        workplace_id=suggestion.workplace_id,
        employer_id=suggestion.employer_id,
        purpose=purpose,
        purpose_reason=reason,
        tasks={
            "occupation_code": suggestion.occupation_code,
            "occupation_title": suggestion.occupation_title,
            "needing_training": [t["task"] for t in to_train],
        },
        hours_per_week=min(person.desired_hours, float(workplace_hours), MAX_HOURS_PER_WEEK),
        start_date=start_date,
        end_date=start_date + timedelta(weeks=trial_weeks),
        workplace={
            "training": plan_texts.training(suggestion.occupation_title),
            "tasks_needing_training": to_train,
            "adaptations": [s.model_dump() for s in explanation.support_needs_met],
        },
        support_system={
            "unmet_support_needs": [s.model_dump() for s in explanation.support_needs_unmet],
            "needs_outside_work": outside,
            "to_arrange": [
                s.support
                for s in explanation.support_needs_unmet
                if s.arranged_by == "support_system" and (s.need == "required" or s.support in chosen)
            ],
        },
        contact_person=adviser_id,
        tutor_name=tutor_name,
        first_contact_days=first_contact_days,
        followup_interval_days=followup_interval_days,
    )
