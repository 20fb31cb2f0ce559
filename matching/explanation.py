"""The shape of an explanation, defined once: what speaks for and against a suggestion, the
person's support needs the workplace meets and does not, and the required tasks that will need
training; and the workplace side's narrower view of it.

`matching.explain` builds these records, shortlists carry them, the store keeps them as JSON, and
the API, the inclusion plan, the adviser's page and the person's own explanation read them back
with `Explanation.model_validate`. An explanation stored before `similar_to_wish` existed reads
back with none."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from matching.frozen import Frozen
from matching.occupations import RELATED_THRESHOLD, occupation_index
from matching.plain.adviser import wish_sentence
from matching.records import Catalogue


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


class SimilarToWish(Frozen):
    """The person's wished occupation that a suggested occupation is like (`matching.occupations`)."""

    code: str = Field(min_length=1, description="the wished occupation's code")
    title: str = Field(description="the wished occupation's title (English)")
    similarity: float = Field(ge=0, le=1, description="how alike the two occupations are (1 the same)")
    sentence: str = Field(description="the adviser's sentence (English)")

    @classmethod
    def of(cls, code: str, wishes: object, catalogue: Catalogue) -> SimilarToWish | None:
        """The wish most alike occupation `code`, when the similarity reaches
        `matching.occupations.RELATED_THRESHOLD` and `code` is not itself a wish; else None.
        `wishes` is the person's `preferred_occupations` as a table holds it (a list or an array
        of codes; anything else counts as none)."""
        wished = [str(w) for w in wishes] if isinstance(wishes, Iterable) and not isinstance(wishes, str) else []
        if not wished or code in wished:
            return None
        best = occupation_index(catalogue).best_wish(code, wished)
        if best is None or best.similarity < RELATED_THRESHOLD:
            return None
        title = catalogue.title(best.code, "en")
        return cls(code=best.code, title=title, similarity=best.similarity, sentence=wish_sentence(title, "en"))


class Explanation(Frozen):
    """Why a workplace was suggested to a person (or a person to a workplace)."""

    speaks_for: list[Reason]
    speaks_against: list[Reason]
    support_needs_met: list[SupportNeed]
    support_needs_unmet: list[SupportNeed]
    tasks_needing_training: list[TaskGap]
    similar_to_wish: SimilarToWish | None = Field(
        None,
        description="the person's wish the suggested occupation is like, when at least "
        f"{RELATED_THRESHOLD} alike and not itself a wish",
    )


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
