"""The labels of the person's profile page, the "new person" form and the caseload list, in
Norwegian bokmål (`no`) and English (`en`); `serving.web.i18n` merges them into its `LABELS`, so
the check that every label has both languages covers them too."""

from __future__ import annotations

from matching.plain import SUPPORT_NAMES, Lang, capital

PROFILE_LABELS: dict[str, dict[Lang, str]] = {
    "persons": {"no": "Personer", "en": "Persons"},
    "search_persons": {"no": "Søk etter navn eller id", "en": "Search by name or id"},
    "search": {"no": "Søk", "en": "Search"},
    "no_persons_found": {"no": "Ingen personer passer søket.", "en": "No person matches the search."},
    "no_persons": {"no": "Ingen personer ennå.", "en": "No persons yet."},
    "consent_withdrawn_short": {"no": "samtykke trukket", "en": "consent withdrawn"},
    "new_person": {"no": "Ny person", "en": "New person"},
    "new_person_help": {
        "no": "Registrer en person i din portefølje. Behov, ferdigheter og ønsker kan fylles ut på profilen "
        "etterpå; til da brukes nøytrale verdier (ingen behov, middels nivå).",
        "en": "Register a person in your caseload. Needs, skills and wishes can be filled in on the profile "
        "afterwards; until then neutral values are used (no needs, medium levels).",
    },
    "register_person": {"no": "Registrer personen", "en": "Register the person"},
    "field_candidate_id": {"no": "Id (tom gir en ny id)", "en": "Id (empty gives a new id)"},
    "field_display_name": {"no": "Visningsnavn", "en": "Display name"},
    "display_name_help": {
        "no": "Bare for veiledere: lagres ikke i logger eller revisjonsspor, og brukes ikke av modellen.",
        "en": "For advisers only: not kept in logs or the audit trail, and not used by the model.",
    },
    "field_lat": {"no": "Bosted, breddegrad", "en": "Home, latitude"},
    "field_lon": {"no": "Bosted, lengdegrad", "en": "Home, longitude"},
    "field_desired_hours": {"no": "Ønsket antall timer per uke", "en": "Desired hours per week"},
    "field_max_commute_km": {"no": "Lengste reisevei (km)", "en": "Longest commute (km)"},
    "field_preferred_occupations": {"no": "Ønskede yrker", "en": "Wished occupations"},
    "field_consent": {"no": "Samtykke", "en": "Consent"},
    "field_adviser_id": {"no": "Veileder", "en": "Adviser"},
    "profile_of": {"no": "Profil for {name}", "en": "Profile of {name}"},
    "profile_id": {"no": "Id: {id}", "en": "Id: {id}"},
    "work_wishes": {"no": "Arbeid og reisevei", "en": "Work and commute"},
    "support_needs": {"no": "Behov for tilrettelegging", "en": "Support needs"},
    "support_needs_help": {
        "no": "Velg for hver tilrettelegging om den ikke er nødvendig, hjelper eller er nødvendig.",
        "en": "For each support, choose whether it is not needed, helps, or is required.",
    },
    "need_level_0": {"no": "ikke nødvendig", "en": "not needed"},
    "need_level_1": {"no": "hjelper", "en": "helps"},
    "need_level_2": {"no": "nødvendig", "en": "required"},
    "skills": {"no": "Ferdigheter", "en": "Skills"},
    "skills_help": {
        "no": "Hvor godt personen mestrer hver type oppgave, fra 0 (ikke) til 1 (fullt ut).",
        "en": "How well the person masters each kind of task, from 0 (not) to 1 (fully).",
    },
    "tolerances": {"no": "Hva personen tåler", "en": "Tolerances"},
    "tolerances_help": {
        "no": "Hvor mye av hvert forhold personen takler, fra 0 (ikke) til 1 (mye).",
        "en": "How much of each condition the person copes with, from 0 (none) to 1 (a lot).",
    },
    "interests": {"no": "Interesser", "en": "Interests"},
    "interests_help": {
        "no": "Hvor interessert personen er i hver type arbeid, fra 0 (ikke) til 1 (svært).",
        "en": "How interested the person is in each kind of work, from 0 (not) to 1 (very).",
    },
    "consent_yes": {"no": "Ja, personen samtykker til å bli matchet", "en": "Yes, the person agrees to be matched"},
    "consent_no": {"no": "Nei, samtykket er trukket", "en": "No, consent is withdrawn"},
    "consent_effect": {
        "no": "Trekkes samtykket, stopper matchingen med en gang, og ingen arbeidsgiver ser personen lenger.",
        "en": "If consent is withdrawn, matching stops at once and no employer sees the person any longer.",
    },
    "consent_withdrawn_note": {
        "no": "Samtykket er trukket: personen blir ikke matchet, og ingen arbeidsgiver ser personen. "
        "Velg «Ja» og lagre for å starte igjen.",
        "en": "Consent is withdrawn: the person is not matched, and no employer sees them. Choose 'Yes' and "
        "save to start again.",
    },
    "save_profile": {"no": "Lagre profilen", "en": "Save the profile"},
    "saved_profile": {"no": "Profilen er lagret.", "en": "The profile is saved."},
    "saved_person": {"no": "Personen er registrert.", "en": "The person is registered."},
    "nothing_changed": {"no": "Ingenting var endret.", "en": "Nothing had changed."},
    "profile_not_saved": {
        "no": "Profilen ble ikke lagret. Ingenting ble endret.",
        "en": "The profile was not saved. Nothing was changed.",
    },
    "field_problem": {"no": "«{field}»: {rule}.", "en": "'{field}': {rule}."},
    "rule_number": {"no": "må være et tall", "en": "must be a number"},
    "rule_missing": {"no": "må fylles ut", "en": "must be filled in"},
    "rule_gt": {"no": "må være større enn {n}", "en": "must be greater than {n}"},
    "rule_ge": {"no": "må være minst {n}", "en": "must be at least {n}"},
    "rule_le": {"no": "kan være høyst {n}", "en": "must be at most {n}"},
    "rule_too_long": {"no": "er for lang (høyst {n} tegn eller valg)", "en": "is too long (at most {n})"},
    "rule_choice": {"no": "velg ett av valgene", "en": "choose one of the options"},
    "rule_unknown_code": {"no": "ukjent yrkeskode", "en": "unknown occupation code"},
    "rule_registered": {"no": "denne id-en er allerede registrert", "en": "this id is registered already"},
    "rule_other": {"no": "er ikke gyldig ({rule})", "en": "is not valid ({rule})"},
    "no_wished_occupations": {"no": "Ingen ønskede yrker ennå.", "en": "No wished occupations yet."},
    "remove": {"no": "Fjern", "en": "Remove"},
    "remove_occupation": {"no": "Fjern {title} fra ønskede yrker", "en": "Remove {title} from the wished occupations"},
    "add": {"no": "Legg til", "en": "Add"},
    "add_occupation": {"no": "Legg til {title} i ønskede yrker", "en": "Add {title} to the wished occupations"},
    "search_occupations": {
        "no": "Søk etter yrke (norsk tittel eller kode)",
        "en": "Search occupations (title or code)",
    },
    "occupation_matches": {"no": "Treff for «{q}»", "en": "Matches for '{q}'"},
    "no_occupation_matches": {"no": "Ingen yrker passer søket.", "en": "No occupation matches the search."},
    "wished_already": {"no": "allerede ønsket", "en": "wished already"},
    "saved_occupations": {"no": "Ønskede yrker er lagret.", "en": "The wished occupations are saved."},
    "back_to_caseload": {"no": "Tilbake til mine kandidater", "en": "Back to my caseload"},
    "open_profile": {"no": "Profil", "en": "Profile"},
    # each support's short name (`matching.plain.SUPPORT_NAMES`), as a field's label
    **{f"support_{s}": {lang: capital(name) for lang, name in names.items()} for s, names in SUPPORT_NAMES.items()},
}
