"""The API's refusals as the page shows them: in Norwegian on the Norwegian page, with the
service's own (English) words beside them, so the field a 422 names stays visible; as they are on
the English page.

A refusal the table below knows gets its own Norwegian sentence (with the ids and numbers it
carries); any other gets a Norwegian sentence for its status code. A `Problem` is a `str` (the text
in the page's language) that carries the service's words in `detail`; the page's own messages,
already in the page's language, are `Problem`s without a detail and pass unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from matching.plain import Lang


class Problem(str):
    """A problem as the page shows it: the text in the page's language, and the service's own
    words (English) in `detail` when they differ."""

    detail: str

    def __new__(cls, text: str, detail: str = "") -> Problem:
        made = super().__new__(cls, text)
        made.detail = detail
        return made


# the API's refusals (serving.api, serving.auth, matching.store, the plan's rules) in Norwegian
KNOWN: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + r"\Z"), text)
    for pattern, text in (
        (r"this candidate is not on your caseload", "Personen er ikke blant dine kandidater."),
        (r"role (?P<role>\w+) may not do this", "Rollen din ({role}) kan ikke gjøre dette."),
        (r"unknown candidate_id: (?P<id>.+)", "Fant ingen kandidat med id {id}."),
        (r"unknown workplace_id: (?P<id>.+)", "Fant ingen arbeidsplass med id {id}."),
        (r"unknown (?:plan|placement|shortlist|follow-up) (?P<id>.+)", "Fant ikke {id}."),
        (
            r"the candidate has not consented to matching or is not active",
            "Personen har ikke samtykket til matching, eller er ikke aktiv.",
        ),
        (r"this person's data was erased at their request", "Opplysningene om personen er slettet etter ønske."),
        (
            r"the person has withdrawn consent: they are not presented",
            "Personen har trukket samtykket og er ikke presentert.",
        ),
        (
            r"record the person's interest in a suggestion of this workplace before presenting them",
            "Registrer først at personen selv er interessert i et forslag fra arbeidsplassen.",
        ),
        (r"this workplace is not your employer's", "Arbeidsplassen hører ikke til arbeidsgiveren din."),
        (r"you do not work with this workplace", "Du jobber ikke med denne arbeidsplassen."),
        (r"another job specialist works with this workplace", "En annen jobbspesialist jobber med arbeidsplassen."),
        (
            r"the workplace is not active or has no free trainee slot",
            "Arbeidsplassen er ikke aktiv eller har ingen ledig plass for arbeidstrening.",
        ),
        (r"no model is loaded.*", "Ingen modell er lastet inn akkurat nå. Prøv igjen senere."),
        (
            r"the suggestion's candidate or workplace is no longer stored",
            "Personen eller arbeidsplassen i forslaget finnes ikke lenger.",
        ),
        (r"a (?P<role>\w+) cannot approve for the (?P<party>\w+)", "Du kan ikke godkjenne på vegne av en annen part."),
        (
            r"revision: revision (?P<given>\d+) is not the current revision; approve revision (?P<current>\d+)",
            "Versjon {given} er ikke den gjeldende versjonen av planen; godkjenn versjon {current}.",
        ),
        (r"(?P<field>[\w.]+): must be a whole number", "«{field}» må være et helt tall."),
        (r"rank (?P<rank>\d+): no such suggestion", "Forslag {rank} finnes ikke i listen."),
        (r"no shortlist has been made for this person yet", "Det er ikke laget noen forslagsliste for personen ennå."),
        (r"send the form as application/x-www-form-urlencoded", "Skjemaet ble sendt i feil format."),
        (r"the form is too large", "Skjemaet er for stort."),
        (r"the form cannot be read", "Skjemaet kunne ikke leses."),
        (r"missing or unknown API key.*", "Du er ikke logget inn."),
    )
)
FIELD_PROBLEM = re.compile(r"(?P<field>[\w.\[\]]+): .+")
BY_STATUS: dict[int, str] = {
    400: "Forespørselen kunne ikke leses.",
    401: "Du er ikke logget inn.",
    403: "Du har ikke tilgang til dette.",
    404: "Fant ikke det du ba om.",
    409: "Dette stemmer ikke med det som allerede er registrert, så ingenting ble lagret.",
    410: "Opplysningene er slettet.",
    413: "Skjemaet er for stort.",
    415: "Skjemaet ble sendt i feil format.",
    422: "Noe i skjemaet må rettes.",
    503: "Tjenesten er ikke klar akkurat nå. Prøv igjen senere.",
}
FALLBACK = "Tjenesten avviste forespørselen."


def lines_of(detail: Any) -> list[str]:
    """An API error's detail as lines: FastAPI's validation list, or a message."""
    if isinstance(detail, list):
        lines = []
        for entry in detail:
            if isinstance(entry, Mapping):
                where = ".".join(str(part) for part in entry.get("loc", ()) if part != "body")
                lines.append(f"{where}: {entry.get('msg', '')}" if where else str(entry.get("msg", "")))
            else:
                lines.append(str(entry))
        return lines
    if isinstance(detail, Problem):
        return [detail]
    return [str(detail)]


def translated(line: str, lang: Lang, status: int | None = None) -> str:
    """One line of an API error in `lang`: as it is in English (and for the page's own messages);
    in Norwegian, the known refusal's sentence or a sentence for the status, with the line beside."""
    if lang == "en" or isinstance(line, Problem):
        return line
    for pattern, text in KNOWN:
        found = pattern.match(line)
        if found is not None:
            return Problem(text.format(**found.groupdict()), line)
    field = FIELD_PROBLEM.match(line)
    if field is not None:
        return Problem(f"«{field['field']}» må rettes.", line)
    return Problem(BY_STATUS.get(status or 0, FALLBACK), line)


def page_problems(detail: Any, lang: Lang, status: int | None = None) -> list[str]:
    """An API error's detail as the page's problem lines in `lang`."""
    return [translated(line, lang, status) for line in lines_of(detail)]
