"""What the support system could arrange, in the same words wherever it is shown: the adviser's
page, the person's own explanation (`GET /candidates/{id}/explanation`) and, through the same
numbers, the API's `support_options`. The chance is an estimate from past outcomes, never a
promise, and every text says so."""

from __future__ import annotations

from matching.plain.sentences import Lang, number

SUPPORT_NAMES: dict[str, dict[Lang, str]] = {  # each support's short name
    "flexible_hours": {"no": "fleksibel arbeidstid", "en": "flexible hours"},
    "gradual_start": {"no": "gradvis oppstart", "en": "gradual start"},
    "quiet_workspace": {"no": "rolig arbeidsplass", "en": "quiet workspace"},
    "fixed_routines": {"no": "faste rutiner", "en": "fixed routines"},
    "mentor": {"no": "fast fadder", "en": "mentor"},
    "written_instructions": {"no": "skriftlige instruksjoner", "en": "written instructions"},
    "breaks_as_needed": {"no": "pauser ved behov", "en": "breaks as needed"},
    "physical_adaptation": {"no": "fysisk tilrettelegging", "en": "physical adaptation"},
    "job_coach_on_site": {"no": "jobbspesialist på arbeidsplassen", "en": "job coach on site"},
}
ESTIMATE_NOTE: dict[Lang, str] = {
    "no": "Anslagene bygger på tidligere utfall og er ikke et løfte.",
    "en": "The estimates come from past outcomes; they are not a promise.",
}


def percent(share: float, lang: Lang) -> str:
    """A chance as people write it: "12 %" in Norwegian, "12%" in English ("<1" below one half)."""
    value = share * 100
    shown = "<1" if 0 < value < 0.5 else number(value, lang, 0)
    return f"{shown} %" if lang == "no" else f"{shown}%"


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def support_name(support: str, lang: Lang) -> str:
    """A support's short name ("jobbspesialist på arbeidsplassen"); the code's words if unknown."""
    names = SUPPORT_NAMES.get(support)
    return names[lang] if names is not None else support.replace("_", " ")


def option_text(support: str, before: float, after: float, lang: Lang) -> str:
    """ "Med jobbspesialist på arbeidsplassen: anslått sjanse 12 % → 19 %"."""
    words = support_name(support, lang)
    if lang == "no":
        return f"Med {words}: anslått sjanse {percent(before, lang)} → {percent(after, lang)}"
    return f"With {words}: estimated chance {percent(before, lang)} → {percent(after, lang)}"


def arranged_text(required: bool, scheme: str | None, lang: Lang) -> str:
    """What a need the workplace lacks and the support system can arrange means for the trial."""
    through = f" ({scheme})" if scheme else ""
    if lang == "no":
        if required:
            return f"må ordnes av støtteapparatet før arbeidstreningen starter{through}"
        return f"støtteapparatet kan ordne det{through}"
    if required:
        return f"must be arranged by the support system before the trial starts{through}"
    return f"the support system can arrange it{through}"
