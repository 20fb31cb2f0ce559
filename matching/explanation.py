"""The shape of an explanation, defined once: what speaks for and against a suggestion, the
person's support needs the workplace meets and does not, and the required tasks that will need
training; and the workplace side's narrower view of it.

`matching.explain` builds these records, shortlists carry them, the store keeps them as JSON, and
the API, the inclusion plan, the adviser's page and the person's own explanation read them back
with `Explanation.model_validate`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from matching.frozen import Frozen


class Reason(Frozen):
    """One feature that raised (speaks for) or lowered (speaks against) the pair's score."""

    feature: str
    sentence: str
    contribution: float


class SupportNeed(Frozen):
    """A support need of the person (functional: what helps at work)."""

    support: str = Field(min_length=1)
    need: Literal["required", "helps"]
    description: str
    arranged_by: Literal["workplace", "support_system"] = Field(
        "workplace",
        description="who can give the support: only the workplace, or the support system too (a grant, aids, a "
        "job coach); a required one the workplace lacks that the support system can arrange must be arranged "
        "before the trial starts",
    )
    scheme: str | None = Field(None, description="the scheme the support system usually arranges it through")


class TaskGap(Frozen):
    """A task the job requires that the person will need training in."""

    task: str = Field(min_length=1)
    required_level: float = Field(ge=0, le=1)
    skill_level: float = Field(ge=0, le=1)


class Explanation(Frozen):
    """Why a workplace was suggested to a person (or a person to a workplace)."""

    speaks_for: list[Reason]
    speaks_against: list[Reason]
    support_needs_met: list[SupportNeed]
    support_needs_unmet: list[SupportNeed]
    tasks_needing_training: list[TaskGap]


class Support(Frozen):
    """A support, as the workplace side sees it: which, and what it means."""

    support: str
    description: str


class TaskToTrain(Frozen):
    """A task to train in, as the workplace side sees it: without the person's skill level."""

    task: str
    required_level: float


class EmployerExplanation(Frozen):
    """What the workplace side needs to plan a trial, and no more: the reasons, the adaptations the
    workplace gives or the support system must arrange, and the tasks to train. Not whether a need
    is required or helpful, nor the person's skill levels."""

    speaks_for: list[Reason]
    speaks_against: list[Reason]
    supports_the_workplace_gives: list[Support]
    supports_to_arrange_elsewhere: list[Support]
    tasks_to_train: list[TaskToTrain]

    @classmethod
    def of(cls, explanation: Explanation) -> EmployerExplanation:
        """The workplace side's view of a full explanation."""

        def supports(needs: list[SupportNeed]) -> list[Support]:
            return [Support(support=s.support, description=s.description) for s in needs]

        return cls(
            speaks_for=explanation.speaks_for,
            speaks_against=explanation.speaks_against,
            supports_the_workplace_gives=supports(explanation.support_needs_met),
            supports_to_arrange_elsewhere=supports(explanation.support_needs_unmet),
            tasks_to_train=[
                TaskToTrain(task=t.task, required_level=t.required_level) for t in explanation.tasks_needing_training
            ],
        )
