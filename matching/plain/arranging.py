"""What the support system could arrange, and why a list is short, in the same words wherever it
is shown: the adviser's page, the person's own explanation (`GET /candidates/{id}/explanation`)
and, through the same numbers, the API's `support_options`, `filtered` and `wider_reach`. The
chance is an estimate from past outcomes, never a promise, and every text says so."""

from __future__ import annotations

from typing import Any

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


FILTERED: dict[str, dict[Lang, str]] = {  # how many workplaces each rule of candidate generation removed
    "not_active": {"no": "{n} arbeidsplasser er ikke aktive", "en": "{n} workplaces are not active"},
    "no_free_slot": {"no": "{n} har ingen ledig plass for arbeidstrening", "en": "{n} have no free trainee slot"},
    "beyond_commute": {
        "no": "{n} ligger lenger unna enn reiseavstanden",
        "en": "{n} are further away than the commute",
    },
    "required_support": {
        "no": "{n} mangler tilrettelegging som må være på plass, og som bare arbeidsplassen kan gi",
        "en": "{n} lack a support that must be there and only the workplace can give",
    },
}
WIDER: dict[Lang, str] = {
    "no": "Med lengre reisevei, inntil {km} km, ville {n} arbeidsplasser til vært aktuelle.",
    "en": "With a longer commute, up to {km} km, {n} more workplaces would be eligible.",
}


def why_short(stored: dict[str, Any] | None, lang: Lang) -> list[str]:
    """Why a list is short, as kept with the shortlist (`{"filtered": {rule: n}, "wider": {...}}`):
    one sentence per rule that removed any workplace, then what a longer commute would add."""
    if not stored or not stored.get("filtered"):
        return []
    lines = [FILTERED[rule][lang].format(n=int(n)) for rule, n in stored["filtered"].items() if n and rule in FILTERED]
    wider = stored.get("wider") or {}
    if wider.get("more_workplaces"):
        km = number(float(wider["within_km"]), lang, 1)
        lines.append(WIDER[lang].format(n=int(wider["more_workplaces"]), km=km))
    return lines
