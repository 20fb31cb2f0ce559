"""Inclusion plans: the agreement made at the start of a work trial, drafted from an accepted suggestion.

The research behind the service (DESIGN.md) found that inclusion succeeds when everyone agrees at the
start on the purpose of the work trial and on who follows up and how, and when one fixed contact
person follows up proactively, with the workplace as well as the person. A plan therefore states:

- the purpose of the trial (try out an occupation, confirm a vocational goal, start recruitment),
  with the reason the default was chosen; the adviser can always change it;
- the tasks, weekly hours and dates;
- what the workplace is responsible for (training in the tasks, the tasks needing training, the
  adaptations it offers) and what the support system is responsible for (the support needs the
  workplace cannot meet, and needs outside work by area);
- the fixed contact person (the candidate's adviser) and the workplace's tutor;
- a follow-up schedule addressed to both the person and the workplace.

A `Plan` keeps every revision (a full `PlanDraft`, who changed it and when) and the approvals of
the three parties (person, employer, adviser), each given to one revision. A new revision needs
approval again; the plan is agreed only when all three approved the latest revision. Everything
is immutable: `revise` and `approve` return new plans, so the history is never lost.

Every validation problem raises `PlanError` (a `ValueError`) naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from numbers import Real
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field, field_validator, model_validator

MAX_HOURS_PER_WEEK = 40.0
MIN_HOURS_PER_WEEK = 1.0
DEFAULT_TRIAL_WEEKS = 12
DEFAULT_FIRST_CONTACT_DAYS = 7
DEFAULT_FOLLOWUP_INTERVAL_DAYS = 14
MAX_FOLLOWUP_INTERVAL_DAYS = 28
TUTOR_TO_BE_NAMED = "to be named"

# fields that identify the plan and never change in a revision
FIXED_FIELDS = ("candidate_id", "workplace_id", "employer_id", "contact_person")


class PlanError(ValueError):
    """An inclusion plan, or a change or approval of one, is invalid.

    Attributes:
        problems: every problem found, each as (field, message); the field is a dotted path
            such as "hours_per_week" or "tasks.occupation_title".
    """

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        super().__init__("; ".join(f"{where}: {message}" for where, message in self.problems))

    @property
    def field(self) -> str:
        """The field of the first problem."""
        return self.problems[0][0] if self.problems else ""

    @classmethod
    def of(cls, field: str, message: str) -> PlanError:
        """One problem with one field."""
        return cls([(field, message)])

    @classmethod
    def from_validation(cls, error: ValidationError, prefix: str = "") -> PlanError:
        """Translate pydantic's errors, each located by a dotted path (under `prefix`)."""
        problems: list[tuple[str, str]] = []
        for item in error.errors():
            path = ".".join(str(part) for part in item["loc"])
            where = ".".join(p for p in (prefix, path) if p)
            cause = (item.get("ctx") or {}).get("error")
            message = str(cause) if isinstance(cause, PlanError | ValueError) else item["msg"]
            if isinstance(cause, PlanError):
                problems.extend((".".join(p for p in (prefix, f) if p), m) for f, m in cause.problems)
            else:
                problems.append((where or "plan", message))
        return cls(problems)


class StaleRevisionError(PlanError):
    """An approval names a revision that is not the plan's latest one.

    Attributes:
        current_revision: the number of the latest revision, the one to approve.
    """

    def __init__(self, given: int, current_revision: int) -> None:
        self.current_revision = current_revision
        super().__init__(
            [("revision", f"revision {given} is not the current revision; approve revision {current_revision}")]
        )


class Purpose(StrEnum):
    """What the work trial is for, agreed by everyone at the start."""

    TRY_OUT_OCCUPATION = "try_out_occupation"
    CONFIRM_VOCATIONAL_GOAL = "confirm_vocational_goal"
    START_RECRUITMENT = "start_recruitment"


class Party(StrEnum):
    """The three parties who approve a plan."""

    PERSON = "person"
    EMPLOYER = "employer"
    ADVISER = "adviser"


class Contact(StrEnum):
    """Whom a follow-up is with: the person or the workplace (both are followed up)."""

    PERSON = "person"
    WORKPLACE = "workplace"


class Area(StrEnum):
    """Areas outside work the support system is responsible for."""

    HEALTH = "health"
    HOUSING = "housing"
    MONEY = "money"
    TRANSPORT = "transport"
    LANGUAGE = "language"
    DIGITAL = "digital"


class FollowUpKind(StrEnum):
    """The first contact after the start, the regular ones, and the one at the end of the trial."""

    FIRST = "first"
    REGULAR = "regular"
    END_OF_TRIAL = "end_of_trial"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TaskToTrain(_Frozen):
    """A task the job requires that the person will need training in."""

    task: str = Field(min_length=1)
    required_level: float = Field(ge=0, le=1)
    skill_level: float = Field(ge=0, le=1)


class SupportItem(_Frozen):
    """A support need of the person (functional: what helps at work), as the shortlist explains it."""

    support: str = Field(min_length=1)
    need: Literal["helps", "required"]
    description: str = ""


class OutsideWorkNeed(_Frozen):
    """A need outside work the support system takes care of."""

    area: Area
    description: str = Field(min_length=1)


class TrialTasks(_Frozen):
    """What the person will do: the occupation, and the tasks that need training."""

    occupation_code: str = Field(min_length=1)
    occupation_title: str = Field(min_length=1)
    needing_training: tuple[str, ...] = ()


class WorkplaceResponsibilities(_Frozen):
    """What the workplace takes on: training in the tasks, the tasks needing training, its adaptations."""

    training: str = Field(min_length=1)
    tasks_needing_training: tuple[TaskToTrain, ...] = ()
    adaptations: tuple[SupportItem, ...] = ()


class SupportSystemResponsibilities(_Frozen):
    """What the support system takes on: the needs the workplace cannot meet, and needs outside work."""

    unmet_support_needs: tuple[SupportItem, ...] = ()
    needs_outside_work: tuple[OutsideWorkNeed, ...] = ()

    @field_validator("needs_outside_work")
    @classmethod
    def _one_entry_per_area(cls, value: tuple[OutsideWorkNeed, ...]) -> tuple[OutsideWorkNeed, ...]:
        areas = [need.area for need in value]
        repeated = sorted({a.value for a in areas if areas.count(a) > 1})
        if repeated:
            raise ValueError(f"one entry per area; repeated: {', '.join(repeated)}")
        return value


class FollowUp(_Frozen):
    """One planned follow-up: on `due`, the contact person (`by`) contacts the person or the workplace."""

    candidate_id: str
    workplace_id: str
    due: date
    contact: Contact
    by: str
    kind: FollowUpKind


class PlanDraft(_Frozen):
    """One full version of an inclusion plan.

    Construct it with `draft_plan` (from an accepted suggestion) or directly; invalid values raise
    `PlanError` naming the field. `followups`, `tutor` and `open_points` are derived, never set.
    """

    candidate_id: str = Field(min_length=1)
    workplace_id: str = Field(min_length=1)
    employer_id: str = Field(min_length=1)
    purpose: Purpose
    purpose_reason: str = ""
    tasks: TrialTasks
    hours_per_week: float = Field(ge=MIN_HOURS_PER_WEEK, le=MAX_HOURS_PER_WEEK)
    start_date: date
    end_date: date
    workplace: WorkplaceResponsibilities
    support_system: SupportSystemResponsibilities
    contact_person: str = Field(min_length=1)
    tutor_name: str | None = None
    first_contact_days: int = Field(default=DEFAULT_FIRST_CONTACT_DAYS, ge=1, le=7)
    followup_interval_days: int = Field(default=DEFAULT_FOLLOWUP_INTERVAL_DAYS, ge=1, le=MAX_FOLLOWUP_INTERVAL_DAYS)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise PlanError.from_validation(error) from None

    @field_validator("tutor_name")
    @classmethod
    def _blank_tutor_is_missing(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @model_validator(mode="after")
    def _consistent(self) -> PlanDraft:
        problems: list[tuple[str, str]] = []
        if self.end_date <= self.start_date:
            problems.append(("end_date", f"must be after start_date ({self.start_date}), got {self.end_date}"))
        listed = [t.task for t in self.workplace.tasks_needing_training]
        if sorted(listed) != sorted(self.tasks.needing_training):
            problems.append(
                (
                    "workplace.tasks_needing_training",
                    f"must name the same tasks as tasks.needing_training ({', '.join(self.tasks.needing_training)})",
                )
            )
        if problems:
            raise PlanError(problems)
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tutor(self) -> str:
        """The workplace tutor's name, or "to be named"."""
        return self.tutor_name or TUTOR_TO_BE_NAMED

    @computed_field  # type: ignore[prop-decorator]
    @property
    def open_points(self) -> tuple[str, ...]:
        """What must still be settled before the trial can start well."""
        points = []
        if self.tutor_name is None:
            points.append("the workplace tutor is to be named")
        required = [s.support for s in self.support_system.unmet_support_needs if s.need == "required"]
        if required:
            points.append(f"required support the workplace cannot give: {', '.join(required)}")
        return tuple(points)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def followups(self) -> tuple[FollowUp, ...]:
        """The follow-up schedule, with both the person and the workplace, by the contact person.

        The first contact is `first_contact_days` after the start (within a week), then every
        `followup_interval_days` until the end date; the end date itself always has one (the
        end-of-trial review).
        """
        first = min(self.start_date + timedelta(days=self.first_contact_days), self.end_date)
        dates: list[tuple[date, FollowUpKind]] = [(first, FollowUpKind.FIRST)]
        step = timedelta(days=self.followup_interval_days)
        day = first + step
        while day < self.end_date:
            dates.append((day, FollowUpKind.REGULAR))
            day += step
        if first < self.end_date:
            dates.append((self.end_date, FollowUpKind.END_OF_TRIAL))
        return tuple(
            FollowUp(
                candidate_id=self.candidate_id,
                workplace_id=self.workplace_id,
                due=due,
                contact=contact,
                by=self.contact_person,
                kind=kind,
            )
            for due, kind in dates
            for contact in (Contact.PERSON, Contact.WORKPLACE)
        )

    def stored(self) -> dict[str, Any]:
        """The plan's own fields (without the derived ones), as plain Python values."""
        return self.model_dump(exclude=set(type(self).model_computed_fields))


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


class _Explanation(BaseModel):
    support_needs_met: list[SupportItem] = []
    support_needs_unmet: list[SupportItem] = []
    tasks_needing_training: list[TaskToTrain] = []


class _Suggestion(BaseModel):
    workplace_id: str = Field(min_length=1)
    employer_id: str = Field(min_length=1)
    occupation_code: str = Field(min_length=1)
    occupation_title: str = Field(min_length=1)
    explanation: _Explanation
    features: dict[str, float]


class _Candidate(BaseModel):
    candidate_id: str = Field(min_length=1)
    adviser_id: str = Field(min_length=1)
    desired_hours: float = Field(gt=0)


_PURPOSE_FEATURES = ("employer_hire_rate", "task_coverage", "interest_similarity", "interest_preferred_occupation")


def default_purpose(
    features: Mapping[str, float],
    unmet: Iterable[SupportItem] = (),
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
        The purpose and a sentence saying why it was chosen.

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
        return Purpose.START_RECRUITMENT, (
            f"the employer has hired many earlier trainees (smoothed rate {hire_rate:.0%}) and the fit is good "
            f"(tasks covered {coverage:.0%}, interest similarity {interest:.2f}, no required support missing)"
        )
    if features["interest_preferred_occupation"] >= rules.preferred_match:
        return Purpose.CONFIRM_VOCATIONAL_GOAL, "the occupation is one the person has asked for"
    return Purpose.TRY_OUT_OCCUPATION, "the occupation is new to the person's stated goals: the trial tries it out"


def draft_plan(
    item: Mapping[str, Any],
    candidate: Mapping[str, Any],
    workplace_hours: float,
    adviser_id: str,
    start_date: date,
    *,
    tutor_name: str | None = None,
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
            "training": f"train the person in the tasks of the job ({suggestion.occupation_title})",
            "tasks_needing_training": to_train,
            "adaptations": [s.model_dump() for s in explanation.support_needs_met],
        },
        support_system={
            "unmet_support_needs": [s.model_dump() for s in explanation.support_needs_unmet],
            "needs_outside_work": outside,
        },
        contact_person=adviser_id,
        tutor_name=tutor_name,
        first_contact_days=first_contact_days,
        followup_interval_days=followup_interval_days,
    )


class Revision(_Frozen):
    """One version of a plan: the full draft, who made it and when (revision 1 is the opening draft)."""

    number: int = Field(ge=1)
    draft: PlanDraft
    by: str
    at: datetime
    note: str = ""


class Approval(_Frozen):
    """One party's approval of one revision."""

    party: Party
    by: str
    at: datetime
    revision: int


class Plan(_Frozen):
    """An inclusion plan with every revision and every approval ever given (oldest first)."""

    revisions: tuple[Revision, ...] = Field(min_length=1)
    approvals: tuple[Approval, ...] = ()

    @property
    def current(self) -> Revision:
        """The latest revision."""
        return self.revisions[-1]

    @property
    def draft(self) -> PlanDraft:
        """The latest revision's draft: what the plan says now."""
        return self.revisions[-1].draft

    @property
    def revision(self) -> int:
        """The latest revision's number."""
        return self.revisions[-1].number

    @property
    def current_approvals(self) -> tuple[Approval, ...]:
        """The approvals of the latest revision (older revisions' approvals no longer count)."""
        return tuple(a for a in self.approvals if a.revision == self.revision)

    @property
    def approved_by(self) -> frozenset[Party]:
        """The parties who approved the latest revision."""
        return frozenset(a.party for a in self.current_approvals)

    @property
    def pending(self) -> tuple[Party, ...]:
        """The parties whose approval of the latest revision is still missing."""
        return tuple(p for p in Party if p not in self.approved_by)

    @property
    def is_agreed(self) -> bool:
        """Whether the person, the employer and the adviser all approved the latest revision."""
        return not self.pending


def _check_actor(by: str, at: datetime, after: datetime | None) -> None:
    if not isinstance(by, str) or not by.strip():
        raise PlanError.of("by", "must name who acts")
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise PlanError.of("at", f"must be a timezone-aware datetime, got {at!r}")
    if after is not None and at < after:
        raise PlanError.of("at", f"{at.isoformat()} is before the plan's latest change ({after.isoformat()})")


def open_plan(draft: PlanDraft, by: str, at: datetime, note: str = "") -> Plan:
    """Open a plan with `draft` as revision 1, approved by nobody yet.

    Args:
        draft: the first draft (usually from `draft_plan`).
        by: who opened it.
        at: when (timezone-aware).
        note: an optional note on the revision.

    Returns:
        The plan.

    Raises:
        PlanError: `by` or `at` is invalid.
    """
    _check_actor(by, at, None)
    return Plan(revisions=(Revision(number=1, draft=draft, by=by, at=at, note=note),))


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):
            raise PlanError.of(path, f"unknown field {'.'.join(parts[: depth + 1])!r}")
        node = child
    if parts[-1] not in node:
        raise PlanError.of(path, "unknown field")
    node[parts[-1]] = value


def revise(plan: Plan, changes: Mapping[str, Any], by: str, at: datetime, note: str = "") -> Plan:
    """A new revision of the plan with `changes` applied; it needs everyone's approval again.

    Args:
        plan: the plan.
        changes: new values by field name; a dotted name changes one field of a part
            ("tutor_name", "hours_per_week", "workplace.adaptations", "support_system.needs_outside_work").
            The candidate, workplace, employer and contact person are fixed; the follow-up schedule
            follows from the dates, `first_contact_days` and `followup_interval_days`.
        by: who made the change.
        at: when (timezone-aware, not before the latest revision).
        note: an optional note on why.

    Returns:
        A new plan with the revision added; earlier revisions and approvals are kept.

    Raises:
        PlanError: an unknown or fixed field, an invalid value (naming the field), or no change at all.
    """
    _check_actor(by, at, plan.current.at)
    if not changes:
        raise PlanError.of("changes", "no change given")
    current = plan.draft
    data = current.stored()
    derived = set(PlanDraft.model_computed_fields)
    for field, value in changes.items():
        top = field.split(".")[0]
        if top in FIXED_FIELDS:
            raise PlanError.of(field, "fixed for the life of the plan; open a new plan instead")
        if top in derived:
            raise PlanError.of(field, "derived from the plan's other fields; change those instead")
        _set_path(data, field, value)
    if "purpose" in changes and "purpose_reason" not in changes and str(changes["purpose"]) != current.purpose.value:
        data["purpose_reason"] = f"set by {by} in revision {plan.revision + 1}"
    draft = PlanDraft(**data)
    if draft == current:
        raise PlanError.of("changes", "the revision changes nothing")
    revision = Revision(number=plan.revision + 1, draft=draft, by=by, at=at, note=note)
    return plan.model_copy(update={"revisions": (*plan.revisions, revision)})


def approve(plan: Plan, party: Party | str, by: str, at: datetime, revision: int) -> Plan:
    """Record one party's approval of the plan's latest revision.

    Approving again for the same party and revision changes nothing (the first approval stands).

    Args:
        plan: the plan.
        party: person, employer or adviser.
        by: who approves on the party's behalf.
        at: when (timezone-aware, not before the latest revision).
        revision: the revision approved; it must be the latest one.

    Returns:
        A new plan with the approval added.

    Raises:
        StaleRevisionError: `revision` is not the latest (the error names the current one).
        PlanError: an unknown party, or `by` or `at` is invalid.
    """
    try:
        chosen = Party(party)
    except ValueError:
        allowed = ", ".join(p.value for p in Party)
        raise PlanError.of("party", f"unknown party {party!r} (one of {allowed})") from None
    if revision != plan.revision:
        raise StaleRevisionError(revision, plan.revision)
    _check_actor(by, at, plan.current.at)
    if chosen in plan.approved_by:
        return plan
    approval = Approval(party=chosen, by=by, at=at, revision=revision)
    return plan.model_copy(update={"approvals": (*plan.approvals, approval)})
