"""The adviser's own sentences with their numbers, in Norwegian bokmål, beside the English ones
that `features.registry` declares (and that the JSON API's reasons carry).

Unlike the person's plain sentences (`matching.plain.sentences`), these name what the model looked
at and show the feature's value, written as the registry's format says (a share as "12 %", a
number with a decimal comma). Every feature of the registry has one for either side
(`tests/unit/test_plain.py` checks it); the shortlist's own congestion reason is read from its
English sentence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from features.registry import FEATURES
from matching.plain.sentences import Lang, lower_first

# feature name -> (speaks for, speaks against), with `{value}` where the English sentence has it
ADVISER_NO: dict[str, tuple[str, str]] = {
    "task_coverage": (
        "mestrer det meste av det oppgavene krever ({value} av nødvendig nivå)",
        "mestrer bare en del av det oppgavene krever ({value} av nødvendig nivå)",
    ),
    "task_largest_gap": (
        "ingen stor ferdighetsmangel på noen nødvendig oppgave (største mangel {value})",
        "en nødvendig oppgave krever opplæring (største ferdighetsmangel {value})",
    ),
    "interest_similarity": (
        "yrket passer personens interesser (likhet {value})",
        "yrket ligger langt fra personens interesser (likhet {value})",
    ),
    "interest_preferred_occupation": (
        "yrket er et personen har ønsket seg, eller i samme yrkesgruppe (samsvar {value})",
        "ikke et yrke personen har ønsket seg",
    ),
    "support_needs_covered": (
        "arbeidsplassen tilbyr støtten personen trenger ({value} dekket)",
        "arbeidsplassen mangler støtte personen trenger (bare {value} dekket)",
    ),
    "support_required_unmet": (
        "all nødvendig støtte er tilgjengelig",
        "{value} nødvendig(e) støttebehov arbeidsplassen ikke kan dekke",
    ),
    "support_mentor_available": (
        "en navngitt fadder på arbeidsplassen lærer opp og følger personen",
        "ingen navngitt fadder på arbeidsplassen",
    ),
    "demand_over_tolerance": (
        "kravene i arbeidet (stress, kontakt, endringer …) er innenfor det personen mestrer",
        "kravene i arbeidet overstiger det personen mestrer (overskudd {value})",
    ),
    "logistics_commute_ratio": (
        "kort reisevei ({value} av det lengste personen godtar)",
        "lang reisevei ({value} av det lengste personen godtar)",
    ),
    "logistics_hours_fit": (
        "timer i uka nær det personen ønsker (samsvar {value})",
        "timer i uka langt fra det personen ønsker (samsvar {value})",
    ),
    "logistics_weekly_hours": (
        "timer i uka som pleier å vare ({value} av full stilling)",
        "få timer i uka, der flere arbeidstreninger slutter tidlig ({value} av full stilling)",
    ),
    "employer_supports_offered": (
        "arbeidsplassen tilbyr mange former for tilrettelegging ({value} av dem som er oppført)",
        "arbeidsplassen tilbyr få former for tilrettelegging ({value} av dem som er oppført)",
    ),
    "employer_hire_rate": (
        "arbeidsgiveren har ansatt mange av sine tidligere deltakere (glattet andel {value})",
        "arbeidsgiveren har ansatt få av sine tidligere deltakere (glattet andel {value})",
    ),
    "employer_experience": (
        "arbeidsgiveren har erfaring med å ta imot deltakere på arbeidstrening",
        "arbeidsgiveren har lite erfaring med å ta imot deltakere på arbeidstrening",
    ),
    "capacity_slots_left": (
        "arbeidsplassen har {value} ledig(e) plass(er) for arbeidstrening",
        "arbeidsplassen har få ledige plasser for arbeidstrening ({value})",
    ),
}
# a suggestion like one of the person's wishes (`matching.explanation.SimilarToWish`)
WISH_SENTENCE: dict[Lang, str] = {"no": "likner ønsket yrke: {title}", "en": "like the wished occupation: {title}"}
_FORMATS = {feature.name: feature.fmt for feature in FEATURES}
_CONGESTION = re.compile(r"already suggested to (?P<live>\d+) others? for (?P<free>\d+) free slots?\Z")


def value_text(value: float, fmt: str, lang: Lang) -> str:
    """A feature's value as the registry's format `fmt` writes it, in `lang` ("12 %" and "0,70" in
    Norwegian)."""
    shown = fmt.format(value)
    if lang != "no":
        return shown
    return shown.replace("%", " %").replace(".", ",")


def adviser_sentence(
    reason: Mapping[str, object], features: Mapping[str, object], positive: bool, lang: Lang
) -> tuple[str, Lang]:
    """One reason of a shortlist item as the adviser's sentence with its number, in `lang` when a
    sentence in it is known (else the stored English one), and the language it is in.

    Args:
        reason: the reason as the explanation stores it (`feature`, `sentence`, `contribution`).
        features: the item's feature values (the number in the sentence).
        positive: whether the reason speaks for the suggestion (else against it).
        lang: the page's language.
    """
    english = str(reason.get("sentence", ""))
    if lang == "en":
        return english, "en"
    feature = str(reason.get("feature", ""))
    if feature == "congestion":
        found = _CONGESTION.match(english)
        if found is None:
            return english, "en"
        live, free = int(found["live"]), int(found["free"])
        places = "ledig plass" if free == 1 else "ledige plasser"
        return f"allerede foreslått for {live} andre, til {free} {places}", lang
    templates = ADVISER_NO.get(feature)
    raw = features.get(feature)
    if templates is None or not isinstance(raw, int | float) or not math.isfinite(raw):
        return english, "en"
    template = templates[0] if positive else templates[1]
    return template.format(value=value_text(float(raw), _FORMATS[feature], lang)), lang


def wish_sentence(title: str, lang: Lang) -> str:
    """The adviser's sentence for a suggestion like the wished occupation `title` (in `lang`)."""
    return WISH_SENTENCE[lang].format(title=lower_first(title))
