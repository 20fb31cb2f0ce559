"""The page's labels for the job specialist's page (their workplaces, the "new workplace" form,
the edit form, the reverse ranking and the persons presented), in Norwegian bokmål and English;
merged into `serving.web.i18n.LABELS`."""

from __future__ import annotations

from matching.plain import Lang

SPECIALIST_LABELS: dict[str, dict[Lang, str]] = {
    "specialist_page": {"no": "Mine arbeidsplasser", "en": "My workplaces"},
    "specialist_help": {
        "no": "Arbeidsplassene du jobber med. Registrer en ny, endre en, eller se hvem som passer.",
        "en": "The workplaces you work with. Register a new one, change one, or see who fits.",
    },
    "no_specialist_workplaces": {
        "no": "Du jobber ikke med noen arbeidsplass ennå.",
        "en": "You work with no workplace yet.",
    },
    "new_workplace": {"no": "Ny arbeidsplass", "en": "New workplace"},
    "new_workplace_help": {
        "no": "Søk opp yrket, og fyll inn arbeidsplassen. Nivåene går fra 0 (ingenting) til 1 (mye).",
        "en": "Search for the occupation, then fill in the workplace. Levels go from 0 (none) to 1 (a lot).",
    },
    "edit_workplace": {"no": "Arbeidsplass {id}", "en": "Workplace {id}"},
    "back_to_workplaces": {"no": "Tilbake til arbeidsplassene", "en": "Back to the workplaces"},
    "search_occupation": {"no": "Søk etter yrke (norsk tittel)", "en": "Search for an occupation (title)"},
    "occupation_choice": {"no": "Yrke", "en": "Occupation"},
    "no_occupation_found": {"no": "Ingen yrker passer søket.", "en": "No occupation matches the search."},
    "search_first": {"no": "Søk etter et yrke først.", "en": "Search for an occupation first."},
    "wp_workplace_id": {"no": "Id (tom gir en ny id)", "en": "Id (empty gives a new id)"},
    "wp_employer_id": {"no": "Arbeidsgiverens id", "en": "The employer's id"},
    "wp_occupation_code": {"no": "Yrke", "en": "Occupation"},
    "wp_lat": {"no": "Sted, breddegrad", "en": "Place, latitude"},
    "wp_lon": {"no": "Sted, lengdegrad", "en": "Place, longitude"},
    "wp_hours_per_week": {"no": "Timer per uke", "en": "Hours per week"},
    "wp_slots": {"no": "Ledige plasser for arbeidstrening", "en": "Free places for a work trial"},
    "wp_tutor_name": {
        "no": "Veileder på arbeidsplassen (fadder), om navngitt",
        "en": "Workplace tutor, if named",
    },
    "wp_active": {"no": "Åpen for nye kandidater", "en": "Open to new candidates"},
    "wp_open": {"no": "Åpen", "en": "Open"},
    "wp_closed": {"no": "Stengt", "en": "Closed"},
    "wp_tasks": {"no": "Oppgaver (hvor mye jobben krever)", "en": "Tasks (how much the job asks)"},
    "wp_demands": {"no": "Arbeidsmiljø (hvor mye jobben har av)", "en": "Work setting (how much the job brings)"},
    "wp_offers": {"no": "Tilrettelegging arbeidsplassen gir", "en": "Supports the workplace offers"},
    "register_workplace": {"no": "Registrer arbeidsplassen", "en": "Register the workplace"},
    "save_workplace": {"no": "Lagre endringene", "en": "Save the changes"},
    "workplace_not_saved": {
        "no": "Arbeidsplassen ble ikke lagret. Rett feltene som er merket.",
        "en": "The workplace was not saved. Correct the fields marked.",
    },
    "saved_workplace": {"no": "Arbeidsplassen er lagret.", "en": "The workplace is saved."},
    "created_workplace": {"no": "Arbeidsplassen er registrert.", "en": "The workplace is registered."},
    "ranking_heading": {"no": "Kandidater som passer", "en": "Candidates who fit"},
    "gains_heading": {"no": "Tilrettelegging som ville nå flere", "en": "Supports that would reach more persons"},
    "gains_help": {
        "no": "Om arbeidsplassen begynte å tilby dette: hvor mange flere innen reiseavstand som ville passe, "
        "og hvor mange som allerede passer som ville fått det bedre.",
        "en": "If the workplace began to offer this: how many more persons within their commute would fit, "
        "and how many who fit already would be better served.",
    },
    "offer_gain": {
        "no": "{support}: {more} flere personer innen reiseavstand, {better} som allerede passer får det bedre",
        "en": "{support}: {more} more persons within their commute, {better} who fit already better served",
    },
    "ranking_help": {
        "no": "Rangert av samme modell som veilederens forslag. Bare pseudonyme id-er, ingen personopplysninger.",
        "en": "Ranked by the same model as the adviser's suggestions. Pseudonymous ids only, no personal data.",
    },
    "ranking_closed": {
        "no": "Arbeidsplassen er stengt eller har ingen ledig plass, så ingen rangeres.",
        "en": "The workplace is closed or has no free place, so no one is ranked.",
    },
    "no_ranked": {"no": "Ingen kandidater passer nå.", "en": "No candidate fits now."},
    "ranked_item": {"no": "{id}, {km} km unna", "en": "{id}, {km} km away"},
    "presented_here": {"no": "Presentert for arbeidsplassen", "en": "Presented to the workplace"},
    "followup_note": {"no": "Notat fra oppfølgingen", "en": "Note from the follow-up"},
    "workplace_row": {
        "no": "{id} – {title} ({state}, {slots} ledige plasser)",
        "en": "{id} – {title} ({state}, {slots} free places)",
    },
}
