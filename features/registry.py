"""The one ordered tuple of pair features. Training, the API and batch scoring all read it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from features import interests, logistics, support, task
from features.pairs import PairFrame


@dataclass(frozen=True)
class Feature:
    """One pair feature.

    Attributes:
        name: stable snake_case name with a group prefix: a model column and an API key.
        group: what the feature is about (task, interest, support, demand, logistics, employer).
        compute: vectorised function over a `PairFrame`, one float per pair.
        speaks_for: the sentence an adviser reads when the feature raises the score.
        speaks_against: the sentence an adviser reads when it lowers the score.
        direction: +1 if a higher value should never lower the score, -1 if it should never
            raise it, 0 if the model may learn either (passed to `monotone_constraints`).
        fmt: how the value is shown inside the sentences.
    """

    name: str
    group: str
    compute: Callable[[PairFrame], np.ndarray]
    speaks_for: str
    speaks_against: str
    direction: int
    fmt: str = "{:.2f}"

    def describe(self, value: float, positive: bool) -> str:
        """The adviser's sentence for this feature at `value`."""
        template = self.speaks_for if positive else self.speaks_against
        return template.format(value=self.fmt.format(value))


FEATURES: tuple[Feature, ...] = (
    Feature(
        "task_coverage",
        "task",
        task.task_coverage,
        "masters most of what the tasks require ({value} of the required level)",
        "masters only part of what the tasks require ({value} of the required level)",
        +1,
        "{:.0%}",
    ),
    Feature(
        "task_largest_gap",
        "task",
        task.task_largest_gap,
        "no large skill gap on any required task (largest gap {value})",
        "a required task needs training (largest skill gap {value})",
        -1,
    ),
    Feature(
        "interest_similarity",
        "interest",
        interests.interest_similarity,
        "the occupation fits the person's interests (similarity {value})",
        "the occupation is far from the person's interests (similarity {value})",
        +1,
    ),
    Feature(
        "interest_preferred_occupation",
        "interest",
        interests.interest_preferred_occupation,
        "the occupation is one the person has asked for, or in the same group (match {value})",
        "not an occupation the person has asked for",
        +1,
    ),
    Feature(
        "support_needs_covered",
        "support",
        support.support_needs_covered,
        "the workplace offers the support the person needs ({value} covered)",
        "the workplace lacks support the person needs (only {value} covered)",
        +1,
        "{:.0%}",
    ),
    Feature(
        "support_required_unmet",
        "support",
        support.support_required_unmet,
        "every required support is available",
        "{value} required support(s) the workplace cannot give",
        -1,
        "{:.0f}",
    ),
    Feature(
        "support_mentor_available",
        "support",
        support.support_mentor_available,
        "a named mentor at the workplace trains and follows the person",
        "no named mentor at the workplace",
        +1,
        "{:.0f}",
    ),
    Feature(
        "demand_over_tolerance",
        "demand",
        support.demand_over_tolerance,
        "the work's demands (stress, contact, change...) are within what the person copes with",
        "the work's demands exceed what the person copes with (excess {value})",
        -1,
    ),
    Feature(
        "logistics_commute_ratio",
        "logistics",
        logistics.logistics_commute_ratio,
        "a short commute ({value} of the longest the person accepts)",
        "a long commute ({value} of the longest the person accepts)",
        -1,
        "{:.0%}",
    ),
    Feature(
        "logistics_hours_fit",
        "logistics",
        logistics.logistics_hours_fit,
        "weekly hours close to what the person wants (fit {value})",
        "weekly hours far from what the person wants (fit {value})",
        +1,
    ),
    Feature(
        "logistics_weekly_hours",
        "logistics",
        logistics.logistics_weekly_hours,
        "weekly hours that tend to last ({value} of full time)",
        "short weekly hours, where more trials end early ({value} of full time)",
        0,
        "{:.0%}",
    ),
    Feature(
        "employer_supports_offered",
        "employer",
        logistics.employer_supports_offered,
        "the workplace offers many kinds of adaptation ({value} of those listed)",
        "the workplace offers few kinds of adaptation ({value} of those listed)",
        +1,
        "{:.0%}",
    ),
    Feature(
        "employer_hire_rate",
        "employer",
        logistics.employer_hire_rate,
        "the employer has hired many of its earlier trainees (smoothed rate {value})",
        "the employer has hired few of its earlier trainees (smoothed rate {value})",
        +1,
        "{:.0%}",
    ),
    Feature(
        "employer_experience",
        "employer",
        logistics.employer_experience,
        "the employer has experience taking in trainees",
        "the employer has little experience taking in trainees",
        +1,
    ),
    Feature(
        "capacity_slots_left",
        "capacity",
        logistics.capacity_slots_left,
        "the workplace has {value} free trainee slot(s)",
        "the workplace has few free trainee slots ({value})",
        0,
        "{:.0f}",
    ),
)


def feature_names() -> list[str]:
    """The model's columns, in order."""
    return [f.name for f in FEATURES]


def monotone_constraints() -> list[int]:
    """Each feature's declared direction, in model column order."""
    return [f.direction for f in FEATURES]


def registry_fingerprint() -> str:
    """A short hash of the feature names, directions and their code: a model records it."""
    digest = hashlib.sha256()
    for f in FEATURES:
        digest.update(f"{f.name}:{f.direction}:{f.compute.__module__}.{f.compute.__qualname__}".encode())
        code = getattr(f.compute, "__code__", None)
        if code is not None:
            digest.update(code.co_code)
    return digest.hexdigest()[:16]


FEATURE_BY_NAME = {f.name: f for f in FEATURES}
