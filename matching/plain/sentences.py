"""What the person is told, in Norwegian bokmål (`no`) and English (`en`): each feature's plain
sentence for either side (it spoke for or against the suggestion), the contract's vocabulary in
plain words (supports, tasks, work demands, interests, areas of life), the fixed texts of the
explanation, and numbers and dates as people write them.

No sentence here carries a number or a feature's name (unlike the adviser's sentences in
`features.registry`). Which of the person's data is used, and for what, is `matching.plain.data_use`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Lang = Literal["no", "en"]
LANGUAGES: tuple[Lang, ...] = ("no", "en")


@dataclass(frozen=True)
class Sentence:
    """One feature's plain sentence per language, for when it spoke for and against a suggestion."""

    speaks_for: Mapping[Lang, str]
    speaks_against: Mapping[Lang, str]

    def text(self, positive: bool, lang: Lang) -> str:
        return (self.speaks_for if positive else self.speaks_against)[lang]


def _s(for_no: str, for_en: str, against_no: str, against_en: str) -> Sentence:
    return Sentence({"no": for_no, "en": for_en}, {"no": against_no, "en": against_en})


# feature name (features.registry) -> its plain sentences; "congestion" is the shortlist's own reason
FEATURE_SENTENCES: dict[str, Sentence] = {
    "task_coverage": _s(
        "Du kan allerede det meste av det arbeidsoppgavene krever.",
        "You can already do most of what the tasks need.",
        "Noen av arbeidsoppgavene krever mer enn det du kan i dag.",
        "Some of the tasks ask for more than you can do today.",
    ),
    "task_largest_gap": _s(
        "Ingen av de viktigste oppgavene er mye vanskeligere enn det du kan.",
        "None of the main tasks is much harder than what you can do.",
        "Én av de viktigste oppgavene må du lære mer om først.",
        "One of the main tasks is something you would need to learn more about first.",
    ),
    "interest_similarity": _s(
        "Yrket passer med det du er interessert i.",
        "The job fits what you are interested in.",
        "Yrket ligger et stykke unna det du er mest interessert i.",
        "The job is some way from what interests you most.",
    ),
    "interest_preferred_occupation": _s(
        "Dette er et yrke du har sagt at du ønsker deg, eller et som ligner.",
        "This is a job you have said you would like, or one close to it.",
        "Dette er ikke et av yrkene du har sagt at du ønsker deg.",
        "This is not one of the jobs you have said you would like.",
    ),
    "support_needs_covered": _s(
        "Arbeidsplassen kan gi deg den støtten du trenger.",
        "The workplace can give you the support you need.",
        "Arbeidsplassen kan ikke gi deg all støtten du trenger.",
        "The workplace cannot give you all the support you need.",
    ),
    "support_required_unmet": _s(
        "Arbeidsplassen kan gi deg all tilretteleggingen du må ha.",
        "The workplace can give you every adjustment you must have.",
        "Arbeidsplassen mangler noe tilrettelegging som du må ha.",
        "The workplace lacks an adjustment you must have.",
    ),
    "support_mentor_available": _s(
        "Du får en fast kollega som lærer deg opp og følger deg.",
        "A named colleague will teach you and look out for you.",
        "Det er ingen fast kollega som kan lære deg opp og følge deg.",
        "There is no named colleague to teach you and look out for you.",
    ),
    "demand_over_tolerance": _s(
        "Arbeidet er ikke mer krevende enn det som passer for deg, for eksempel når det gjelder stress, "
        "kontakt med folk eller endringer.",
        "The work is not more demanding than suits you, for example in stress, contact with people or change.",
        "Arbeidet kan bli mer krevende enn det som passer for deg, for eksempel når det gjelder stress, "
        "kontakt med folk eller endringer.",
        "The work may be more demanding than suits you, for example in stress, contact with people or change.",
    ),
    "logistics_commute_ratio": _s(
        "Arbeidsplassen ligger så nær at reisen blir kort for deg.",
        "The workplace is close, so the journey is short for you.",
        "Reisen dit er nesten så lang som det lengste du har sagt at du kan reise.",
        "The journey there is almost as long as the longest you said you can travel.",
    ),
    "logistics_hours_fit": _s(
        "Arbeidstiden passer med hvor mange timer du ønsker å jobbe.",
        "The working hours match how many hours you want to work.",
        "Arbeidstiden er ganske ulik det antallet timer du ønsker å jobbe.",
        "The working hours are quite different from how many hours you want to work.",
    ),
    "logistics_weekly_hours": _s(
        "Stillingen har så mange timer i uka at arbeidstreningen ofte varer.",
        "The job has enough hours a week that work trials there often last.",
        "Stillingen har få timer i uka, og da slutter arbeidstreningen oftere tidlig.",
        "The job has few hours a week, and then work trials more often end early.",
    ),
    "employer_supports_offered": _s(
        "Arbeidsplassen kan tilrettelegge på mange måter.",
        "The workplace can adjust things for you in many ways.",
        "Arbeidsplassen kan bare tilrettelegge på få måter.",
        "The workplace can only adjust things in a few ways.",
    ),
    "employer_hire_rate": _s(
        "Arbeidsgiveren har ansatt mange av dem som har hatt arbeidstrening der før.",
        "The employer has hired many of the people who had work trials there before.",
        "Arbeidsgiveren har ansatt få av dem som har hatt arbeidstrening der før.",
        "The employer has hired few of the people who had work trials there before.",
    ),
    "employer_experience": _s(
        "Arbeidsgiveren har erfaring med å ta imot folk på arbeidstrening.",
        "The employer is used to taking people on work trials.",
        "Arbeidsgiveren har lite erfaring med å ta imot folk på arbeidstrening.",
        "The employer has little experience of taking people on work trials.",
    ),
    "capacity_slots_left": _s(
        "Arbeidsplassen har ledig plass til arbeidstrening nå.",
        "The workplace has room for a work trial now.",
        "Arbeidsplassen har bare få ledige plasser til arbeidstrening.",
        "The workplace has only a few places for work trials.",
    ),
    "congestion": _s(
        "Få andre har fått forslag om den samme arbeidsplassen.",
        "Few others have been suggested this same workplace.",
        "Mange andre har allerede fått forslag om den samme arbeidsplassen.",
        "Many others have already been suggested this same workplace.",
    ),
}
OTHER_REASON = _s(
    "Noe annet ved arbeidsplassen passet godt for deg.",
    "Something else about the workplace suited you.",
    "Noe annet ved arbeidsplassen passet mindre godt for deg.",
    "Something else about the workplace suited you less well.",
)

# the contract's vocabulary (data/reference/catalogue/vocabulary.json) in plain words
SUPPORTS: dict[str, dict[Lang, str]] = {
    "flexible_hours": {"no": "arbeidstid som kan variere fra dag til dag", "en": "working hours that can vary"},
    "gradual_start": {
        "no": "en myk start: få timer og enkle oppgaver først, så litt mer etter hvert",
        "en": "a gentle start: few hours and simple tasks first, then a little more over time",
    },
    "quiet_workspace": {
        "no": "et rolig sted å jobbe eller trekke seg tilbake til",
        "en": "a quiet place to work or to take a break",
    },
    "fixed_routines": {
        "no": "faste rutiner, med de samme oppgavene i samme rekkefølge",
        "en": "fixed routines, with the same tasks in the same order",
    },
    "mentor": {
        "no": "en fast kollega som lærer deg opp og følger deg",
        "en": "a named colleague who teaches you and looks out for you",
    },
    "written_instructions": {"no": "oppgavene skrevet ned steg for steg", "en": "tasks written down step by step"},
    "breaks_as_needed": {"no": "korte pauser når du trenger det", "en": "short breaks when you need them"},
    "physical_adaptation": {
        "no": "en tilpasset arbeidsplass eller lettere fysiske oppgaver",
        "en": "an adapted workstation or lighter physical tasks",
    },
    "job_coach_on_site": {
        "no": "at veilederen eller jobbspesialisten din kan følge deg opp på arbeidsplassen",
        "en": "your adviser or job coach visiting to support you at work",
    },
}
# the supports said of the person, for the staff who arrange them (the adviser's, the job
# specialist's and the employer's pages); the others read the same either way
SUPPORTS_FOR_STAFF: dict[str, dict[Lang, str]] = {
    "mentor": {
        "no": "en fast kollega som lærer opp og følger opp personen",
        "en": "a named colleague who teaches the person and looks out for them",
    },
    "breaks_as_needed": {"no": "korte pauser ved behov", "en": "short breaks when needed"},
    "job_coach_on_site": {
        "no": "at veilederen eller jobbspesialisten følger opp personen på arbeidsplassen",
        "en": "the adviser or job coach visiting to support the person at work",
    },
}
ACTIVITIES: dict[str, dict[Lang, str]] = {
    "public_service": {"no": "å betjene publikum", "en": "serving the public"},
    "caring": {"no": "å hjelpe og ta vare på andre", "en": "helping and caring for others"},
    "handling_objects": {"no": "å løfte og flytte ting", "en": "lifting and moving things"},
    "operating_machines": {"no": "å styre maskiner", "en": "working with machines"},
    "using_hands": {"no": "arbeid med hendene", "en": "working with your hands"},
    "telephone": {"no": "å snakke i telefonen", "en": "talking on the phone"},
    "attention_to_detail": {"no": "nøyaktig arbeid", "en": "careful, precise work"},
    "analytical_thinking": {"no": "å tenke ut løsninger", "en": "working out problems"},
}
CONTEXTS: dict[str, dict[Lang, str]] = {
    "stress": {"no": "stress og tidspress", "en": "stress and time pressure"},
    "contact_with_others": {"no": "kontakt med andre", "en": "contact with other people"},
    "customer_contact": {"no": "kontakt med kunder", "en": "contact with customers"},
    "teamwork": {"no": "samarbeid i en gruppe", "en": "working in a team"},
    "physical_proximity": {"no": "å jobbe tett på andre", "en": "working close to others"},
    "independence": {"no": "å jobbe på egen hånd", "en": "working on your own"},
    "change": {"no": "endringer i arbeidet", "en": "changes at work"},
}
INTERESTS: dict[str, dict[Lang, str]] = {
    "realistic": {"no": "praktisk arbeid", "en": "practical, hands-on work"},
    "investigative": {"no": "å undersøke og finne ut av ting", "en": "finding things out"},
    "artistic": {"no": "kreativt arbeid", "en": "creative work"},
    "social": {"no": "å hjelpe og være sammen med folk", "en": "helping and being with people"},
    "enterprising": {"no": "å lede og overbevise andre", "en": "leading and persuading others"},
    "conventional": {"no": "orden og faste systemer", "en": "order and clear systems"},
}
NEED_LEVELS: dict[int, dict[Lang, str]] = {
    0: {"no": "trenger du ikke", "en": "not needed"},
    1: {"no": "hjelper deg", "en": "helps you"},
    2: {"no": "må du ha", "en": "you must have it"},
}
LEVEL_WORDS: dict[Lang, tuple[str, str, str]] = {"no": ("lav", "middels", "høy"), "en": ("low", "medium", "high")}
YES_NO: dict[Lang, tuple[str, str]] = {"no": ("ja", "nei"), "en": ("yes", "no")}
MONTHS_NO = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


TEXTS: dict[str, dict[Lang, str]] = {
    "title": {"no": "Jobbforslagene dine, forklart", "en": "Your job suggestions, explained"},
    "made_by": {
        "no": "Forslagene ble laget {date} av et dataprogram ({model}, versjon {version}) som sammenligner "
        "opplysningene om deg med arbeidsplassene. {who} ba om forslagene.",
        "en": "The suggestions were made on {date} by a computer program ({model}, version {version}) that "
        "compares the information about you with the workplaces. {who} asked for them.",
    },
    "made_by_rule": {
        "no": "Forslagene ble laget {date} av en fast regel ({model}, versjon {version}) som sammenligner "
        "opplysningene om deg med arbeidsplassene, mens dataprogrammet var slått av. {who} ba om forslagene.",
        "en": "The suggestions were made on {date} by a fixed rule ({model}, version {version}) that compares "
        "the information about you with the workplaces, while the computer program was switched off. "
        "{who} asked for them.",
    },
    "adviser_decides": {
        "no": "Det er veilederen din som bestemmer hva som skal skje videre, sammen med deg – ikke "
        "dataprogrammet. Forslagene er bare et utgangspunkt for en samtale. Ingen blir sendt til en arbeidsplass "
        "uten at du selv vil.",
        "en": "Your adviser decides what happens next, together with you – not the computer program. The "
        "suggestions are only a starting point for a conversation. Nobody is sent to a workplace unless you want to.",
    },
    "rights": {
        "no": "Du har rett til å se alle opplysningene vi har om deg. Hvis noe er feil, kan du be om å få det "
        "rettet. Du kan også be om at opplysningene om deg blir slettet. Si fra til veilederen din, eller "
        "kontakt personvernombudet.",
        "en": "You have the right to see all the information we hold about you. If something is wrong, you can "
        "ask for it to be corrected. You can also ask for the information about you to be deleted. Tell your "
        "adviser, or contact the data protection officer.",
    },
    "suggestion": {
        "no": "Forslag {rank}: {title}, omtrent {km} km hjemmefra.",
        "en": "Suggestion {rank}: {title}, about {km} km from home.",
    },
    "similar_to_wish": {
        "no": "Likner ønsket ditt: {title}.",
        "en": "Close to what you wished for: {title}.",
    },
    "speaks_for": {"no": "Dette taler for:", "en": "What speaks for it:"},
    "speaks_against": {"no": "Dette taler imot:", "en": "What speaks against it:"},
    "workplace_gives": {"no": "Arbeidsplassen kan gi deg:", "en": "The workplace can give you:"},
    "training": {"no": "Du vil få opplæring i:", "en": "You will get training in:"},
    "arranged_elsewhere": {
        "no": "Dette må ordnes på en annen måte, av veilederen din eller andre som hjelper deg:",
        "en": "This has to be arranged another way, by your adviser or others who help you:",
    },
    "needs_outside_work": {
        "no": "Hjelp utenfor jobben som er avtalt i planen:",
        "en": "Help outside work agreed in the plan:",
    },
    "data_used": {
        "no": "Disse opplysningene om deg ble brukt:",
        "en": "This information about you was used:",
    },
    "not_used": {
        "no": "Dette ble IKKE brukt, og blir aldri brukt til å lage forslag:",
        "en": "This was NOT used, and is never used to make suggestions:",
    },
    "support_needs_are_functional": {
        "no": "Støttebehovene dine beskriver hva som hjelper deg på jobb – ikke diagnoser.",
        "en": "Your support needs describe what helps you at work – not diagnoses.",
    },
    "fairness_data": {
        "no": "Aldersgruppen og kjønnet ditt er registrert, men brukes bare til å kontrollere at forslagene er "
        "rettferdige for alle grupper – aldri til å lage forslag til deg.",
        "en": "Your age group and gender are recorded, but they are only used to check that the suggestions are "
        "fair to every group – never to make suggestions for you.",
    },
    "no_suggestions": {
        "no": "Det ble ikke funnet noen arbeidsplasser som passet denne gangen.",
        "en": "No suitable workplaces were found this time.",
    },
}
AREAS: dict[str, dict[Lang, str]] = {
    "health": {"no": "helse", "en": "health"},
    "housing": {"no": "bolig", "en": "housing"},
    "money": {"no": "økonomi", "en": "money"},
    "transport": {"no": "transport", "en": "transport"},
    "language": {"no": "språk", "en": "language"},
    "digital": {"no": "digitale tjenester", "en": "digital services"},
}


def text(key: str, lang: Lang, **values: object) -> str:
    """One of the fixed `TEXTS`, filled in."""
    return TEXTS[key][lang].format(**values)


def reason_sentence(feature: str, positive: bool, lang: Lang) -> str:
    """The plain sentence for a feature that spoke for (`positive`) or against a suggestion."""
    return FEATURE_SENTENCES.get(feature, OTHER_REASON).text(positive, lang)


def wish_text(title: str, lang: Lang) -> str:
    """The person's sentence for a suggestion like their wished occupation `title`."""
    return text("similar_to_wish", lang, title=lower_first(title))


def lower_first(title: str) -> str:
    """A title inside a sentence: its first letter in lower case, unless it starts an abbreviation."""
    if len(title) > 1 and title[0].isupper() and not title[1].isupper():
        return title[0].lower() + title[1:]
    return title


def _word(table: Mapping[str, Mapping[Lang, str]], key: str, lang: Lang) -> str:
    entry = table.get(key)
    return entry[lang] if entry is not None else key.replace("_", " ")


def support_text(support: str, lang: Lang, for_staff: bool = False) -> str:
    """A support in plain words: said to the person ("short breaks when you need them"), or
    (`for_staff`) of the person, for the adviser, job specialist and employer."""
    if for_staff and support in SUPPORTS_FOR_STAFF:
        return _word(SUPPORTS_FOR_STAFF, support, lang)
    return _word(SUPPORTS, support, lang)


def task_text(activity: str, lang: Lang) -> str:
    return _word(ACTIVITIES, activity, lang)


def area_text(area: str, lang: Lang) -> str:
    return _word(AREAS, area, lang)


def interest_text(interest: str, lang: Lang) -> str:
    return _word(INTERESTS, interest, lang)


def context_text(context: str, lang: Lang) -> str:
    return _word(CONTEXTS, context, lang)


def number(value: float, lang: Lang, digits: int = 1) -> str:
    """A number as people write it: no trailing ",0", decimal comma in Norwegian."""
    shown = f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"
    return shown.replace(".", ",") if lang == "no" else shown


def day(when: dt.datetime | dt.date, lang: Lang) -> str:
    """A date in words: "27. november 2026" or "27 November 2026"."""
    if lang == "no":
        return f"{when.day}. {MONTHS_NO[when.month - 1]} {when.year}"
    return f"{when.day} {MONTHS_EN[when.month - 1]} {when.year}"


def level_word(value: float, lang: Lang) -> str:
    """A level in [0, 1] as low, medium or high."""
    low, medium, high = LEVEL_WORDS[lang]
    return low if value < 1 / 3 else medium if value < 2 / 3 else high
