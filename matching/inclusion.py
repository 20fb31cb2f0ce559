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

This module owns the plan's records (`PlanDraft` and its parts, the vocabularies, the errors);
`matching.drafting` drafts one from an accepted suggestion, `matching.agreement` keeps its
revisions and approvals.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationError, computed_field, field_validator, model_validator

from matching.explanation import SupportNeed, TaskGap
from matching.frozen import Frozen
from matching.plain import plan_texts

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


class OutsideWorkNeed(Frozen):
    """A need outside work the support system takes care of."""

    area: Area
    description: str = Field(min_length=1)


class TrialTasks(Frozen):
    """What the person will do: the occupation, and the tasks that need training."""

    occupation_code: str = Field(min_length=1)
    occupation_title: str = Field(min_length=1)
    needing_training: tuple[str, ...] = ()


class WorkplaceResponsibilities(Frozen):
    """What the workplace takes on: training in the tasks, the tasks needing training, its adaptations."""

    training: str = Field(min_length=1)
    tasks_needing_training: tuple[TaskGap, ...] = ()
    adaptations: tuple[SupportNeed, ...] = ()


class SupportSystemResponsibilities(Frozen):
    """What the support system takes on: the needs the workplace cannot meet, and needs outside work."""

    unmet_support_needs: tuple[SupportNeed, ...] = ()
    needs_outside_work: tuple[OutsideWorkNeed, ...] = ()
    # the unmet needs the support system arranges before the trial starts (a grant, aids, a job
    # coach): drafted with the required ones it can arrange; the adviser chooses the others
    to_arrange: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _arranges_what_it_can(self) -> SupportSystemResponsibilities:
        arrangeable = {s.support for s in self.unmet_support_needs if s.arranged_by == "support_system"}
        wrong = sorted(set(self.to_arrange) - arrangeable)
        if wrong:
            raise ValueError(
                f"to_arrange names supports the workplace lacks and the support system can arrange "
                f"({', '.join(sorted(arrangeable)) or 'none here'}), not {', '.join(wrong)}"
            )
        if len(set(self.to_arrange)) != len(self.to_arrange):
            raise ValueError("to_arrange names each support once")
        return self

    @field_validator("needs_outside_work")
    @classmethod
    def _one_entry_per_area(cls, value: tuple[OutsideWorkNeed, ...]) -> tuple[OutsideWorkNeed, ...]:
        areas = [need.area for need in value]
        repeated = sorted({a.value for a in areas if areas.count(a) > 1})
        if repeated:
            raise ValueError(f"one entry per area; repeated: {', '.join(repeated)}")
        return value


class FollowUp(Frozen):
    """One planned follow-up: on `due`, the contact person (`by`) contacts the person or the workplace."""

    candidate_id: str
    workplace_id: str
    due: date
    contact: Contact
    by: str
    kind: FollowUpKind


class PlanDraft(Frozen):
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

    @classmethod
    def _invalid(cls, error: ValidationError) -> Exception:
        return PlanError.from_validation(error)

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
        return plan_texts.plan_open_points(
            self.tutor_name is not None,
            [s.model_dump() for s in self.support_system.unmet_support_needs],
            self.support_system.to_arrange,
        )

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
