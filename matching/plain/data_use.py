"""Which of the person's data feeds their suggestions, and for what, in plain words: the field
groups of the `candidates` table with the features that read them, the fields kept but never used
for suggestions, what is never used, and the person's data group by group with values in words.

`tests/unit/test_plain.py` checks that each group names exactly the fields its features read, so a
new feature cannot ship without its place in "which data was used".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from matching.plain.sentences import (
    NEED_LEVELS,
    YES_NO,
    Lang,
    context_text,
    interest_text,
    level_word,
    number,
    support_text,
    task_text,
)


class PlainField(TypedDict):
    """One of the person's fields in `data_used`."""

    field: str
    label: str
    value: Any  # as stored: whatever type the contract column has
    text: str


class PlainGroup(TypedDict):
    """One field group in `data_used`, with the person's fields in it."""

    group: str
    label: str
    purpose: str
    fields: list[PlainField]


@dataclass(frozen=True)
class FieldGroup:
    """Contract fields of the person that feed the suggestions, in plain words.

    Attributes:
        key: a stable name of the group.
        columns: the `candidates` columns in the group; a name ending in "_" is a prefix.
        features: the registry features that read these fields (empty: used before scoring only).
        label: what the data is, in plain words.
        purpose: what it was used for.
    """

    key: str
    columns: tuple[str, ...]
    features: tuple[str, ...]
    label: Mapping[Lang, str]
    purpose: Mapping[Lang, str]

    def owns(self, column: str) -> bool:
        return any(column.startswith(c) if c.endswith("_") else column == c for c in self.columns)


FIELD_GROUPS: tuple[FieldGroup, ...] = (
    FieldGroup(
        "skills",
        ("skill_",),
        ("task_coverage", "task_largest_gap"),
        {"no": "dine ferdigheter i arbeidsoppgaver", "en": "your skills in work tasks"},
        {
            "no": "for å se om du kan det arbeidsoppgavene krever, og hva du trenger opplæring i",
            "en": "to see whether you can do what the tasks need, and what you need training in",
        },
    ),
    FieldGroup(
        "interests",
        ("interest_",),
        ("interest_similarity",),
        {"no": "interessene dine", "en": "your interests"},
        {"no": "for å finne yrker som passer med det du liker", "en": "to find jobs that fit what you like"},
    ),
    FieldGroup(
        "preferred_occupations",
        ("preferred_occupations",),
        ("interest_preferred_occupation",),
        {"no": "yrkene du har sagt at du ønsker deg", "en": "the jobs you have said you would like"},
        {"no": "for å gi forrang til yrker du ønsker deg", "en": "to favour the jobs you would like"},
    ),
    FieldGroup(
        "support_needs",
        ("needs_",),
        ("support_needs_covered", "support_required_unmet"),
        {
            "no": "støttebehovene dine (hva som hjelper deg på jobb)",
            "en": "your support needs (what helps you at work)",
        },
        {
            "no": "for å finne arbeidsplasser som kan gi deg den støtten du trenger; en arbeidsplass som ikke kan "
            "gi noe du må ha, blir ikke foreslått",
            "en": "to find workplaces that can give you the support you need; a workplace that cannot give "
            "something you must have is not suggested",
        },
    ),
    FieldGroup(
        "tolerances",
        ("tolerance_",),
        ("demand_over_tolerance",),
        {
            "no": "hva som passer for deg av krav i jobben (som stress, kontakt med andre og endringer)",
            "en": "how much of each demand at work suits you (such as stress, contact with others and change)",
        },
        {
            "no": "for å unngå jobber som krever mer enn det som passer for deg",
            "en": "to avoid jobs that demand more than suits you",
        },
    ),
    FieldGroup(
        "travel",
        ("lat", "lon", "max_commute_km"),
        ("logistics_commute_ratio",),
        {"no": "hvor du bor og hvor langt du kan reise", "en": "where you live and how far you can travel"},
        {
            "no": "for å regne ut hvor langt det er til arbeidsplassen; bare arbeidsplasser du kan reise til blir "
            "foreslått",
            "en": "to work out how far away a workplace is; only workplaces you can travel to are suggested",
        },
    ),
    FieldGroup(
        "hours",
        ("desired_hours",),
        ("logistics_hours_fit",),
        {"no": "hvor mange timer i uka du ønsker å jobbe", "en": "how many hours a week you want to work"},
        {
            "no": "for å finne stillinger med en arbeidstid som passer deg",
            "en": "to find jobs with hours that suit you",
        },
    ),
    FieldGroup(
        "eligibility",
        ("consent", "active"),
        (),
        {
            "no": "samtykket ditt og om du er aktiv jobbsøker",
            "en": "your consent and whether you are actively looking for work",
        },
        {
            "no": "bare for å sjekke at det er lov å lage forslag til deg",
            "en": "only to check that suggestions may be made for you",
        },
    ),
)
# candidate columns that never feed a suggestion, and why they are kept
NOT_FOR_SUGGESTIONS: dict[str, Mapping[Lang, str]] = {
    "candidate_id": {"no": "nummeret ditt hos oss", "en": "your reference number with us"},
    "adviser_id": {
        "no": "hvem som er veilederen din (bestemmer bare hvem som får se opplysningene dine)",
        "en": "who your adviser is (it only decides who may see your information)",
    },
}
# features that read only the workplace's data, never the person's
WORKPLACE_ONLY_FEATURES = frozenset(
    {
        "logistics_weekly_hours",
        "employer_supports_offered",
        "employer_hire_rate",
        "employer_experience",
        "capacity_slots_left",
        "support_mentor_available",
    }
)
NOT_USED: dict[Lang, tuple[str, ...]] = {
    "no": (
        "alderen din",
        "kjønnet ditt",
        "hvor du eller familien din kommer fra",
        "diagnoser eller andre opplysninger om helsen din",
    ),
    "en": (
        "your age",
        "your gender",
        "where you or your family come from",
        "diagnoses or other information about your health",
    ),
}


def group_of(column: str) -> FieldGroup | None:
    """The field group a candidate column belongs to, or None for a column no suggestion uses."""
    return next((group for group in FIELD_GROUPS if group.owns(column)), None)


def _field(column: str, value: Any, lang: Lang, title: Callable[[str], str]) -> PlainField:
    """One of the person's fields: its plain label, the value as stored, and the value in words."""
    yes, no = YES_NO[lang]
    name = column.split("_", 1)[1] if "_" in column else column
    if column.startswith("skill_"):
        label, shown = task_text(name, lang), level_word(float(value), lang)
    elif column.startswith("interest_"):
        label, shown = interest_text(name, lang), level_word(float(value), lang)
    elif column.startswith("tolerance_"):
        label, shown = context_text(name, lang), level_word(float(value), lang)
    elif column.startswith("needs_"):
        label, shown = support_text(name, lang), NEED_LEVELS.get(int(value), NEED_LEVELS[0])[lang]
    elif column == "preferred_occupations":
        label = {"no": "yrker", "en": "jobs"}[lang]
        shown = ", ".join(title(str(code)) for code in value) or {"no": "ingen", "en": "none"}[lang]
    elif column in ("lat", "lon"):
        label = {
            "lat": {"no": "bostedet ditt (breddegrad)", "en": "where you live (latitude)"},
            "lon": {"no": "bostedet ditt (lengdegrad)", "en": "where you live (longitude)"},
        }[column][lang]
        shown = {"no": "brukes bare til å regne ut avstand", "en": "only used to work out distances"}[lang]
    elif column == "max_commute_km":
        label = {"no": "det lengste du kan reise", "en": "the furthest you can travel"}[lang]
        shown = f"{number(float(value), lang)} km"
    elif column == "desired_hours":
        label = {"no": "timer i uka du ønsker å jobbe", "en": "hours a week you want to work"}[lang]
        shown = {"no": "{} timer", "en": "{} hours"}[lang].format(number(float(value), lang))
    elif column == "consent":
        label = {"no": "samtykke til å få jobbforslag", "en": "consent to job suggestions"}[lang]
        shown = yes if value else no
    elif column == "active":
        label = {"no": "aktiv jobbsøker", "en": "actively looking for work"}[lang]
        shown = yes if value else no
    else:
        label, shown = column, str(value)
    return {"field": column, "label": label, "value": value, "text": shown}


def data_used(
    candidate: Mapping[str, Any], lang: Lang, title: Callable[[str], str], columns: Sequence[str] | None = None
) -> list[PlainGroup]:
    """The person's data that fed their suggestions, group by group, with their values.

    Args:
        candidate: the person's contract record (column -> value).
        lang: "no" or "en".
        title: an occupation code's title in `lang`.
        columns: the candidate columns in contract order; default the keys of `candidate`.

    Returns:
        One entry per field group: `group`, `label`, `purpose`, `fields` (each `field`, `label`,
        `value` as stored, `text` in words). Columns outside every group are left out.
    """
    out: list[PlainGroup] = []
    names = list(columns if columns is not None else candidate)
    for group in FIELD_GROUPS:
        fields = [_field(c, candidate[c], lang, title) for c in names if group.owns(c) and c in candidate]
        if fields:
            out.append(
                {"group": group.key, "label": group.label[lang], "purpose": group.purpose[lang], "fields": fields}
            )
    return out


def not_used(lang: Lang) -> list[str]:
    """What was not used, and never is."""
    return list(NOT_USED[lang])


def kept_not_used(lang: Lang) -> list[str]:
    """Data about the person that is kept but never feeds a suggestion."""
    return [label[lang] for label in NOT_FOR_SUGGESTIONS.values()]
