"""The page's labels in Norwegian bokmål (`no`, the default) and English (`en`).

Every label has both languages (`tests/e2e/test_browser.py` checks it). The texts a person reads
(reasons, supports, tasks, areas) come from `matching.plain`; only the page's own words are here.
"""

from __future__ import annotations

from matching.plain import LANGUAGES, Lang

DEFAULT_LANG: Lang = "no"
HTML_LANG: dict[Lang, str] = {"no": "nb", "en": "en"}  # BCP 47 for the <html lang> attribute

LABELS: dict[str, dict[Lang, str]] = {
    "app_title": {"no": "Jobbmatch", "en": "Jobmatch"},
    "skip_to_content": {"no": "Hopp til innholdet", "en": "Skip to content"},
    "language": {"no": "Språk", "en": "Language"},
    "signed_in_as": {"no": "Innlogget som", "en": "Signed in as"},
    "log_out": {"no": "Logg ut", "en": "Log out"},
    "log_in": {"no": "Logg inn", "en": "Log in"},
    "login_heading": {"no": "Logg inn med API-nøkkelen din", "en": "Log in with your API key"},
    "login_help": {
        "no": "Nøkkelen er den du fikk utdelt. Den blir ikke lagret i nettleseren; du får en økt som varer "
        "i åtte timer.",
        "en": "The key is the one you were given. It is not kept in the browser; you get a session that "
        "lasts eight hours.",
    },
    "api_key": {"no": "API-nøkkel", "en": "API key"},
    "login_failed": {"no": "Ukjent nøkkel. Prøv igjen.", "en": "Unknown key. Try again."},
    "wrong_role": {
        "no": "Denne siden er for veiledere og arbeidsgivere.",
        "en": "This page is for advisers and employers.",
    },
    "caseload": {"no": "Mine kandidater", "en": "My caseload"},
    "candidate": {"no": "Kandidat", "en": "Candidate"},
    "suggestions_wanted": {"no": "Antall forslag", "en": "Number of suggestions"},
    "make_shortlist": {"no": "Lag forslagsliste", "en": "Make shortlist"},
    "pick_candidate_help": {
        "no": "Velg en kandidat og lag en forslagsliste, eller åpne en av de siste listene.",
        "en": "Pick a candidate and make a shortlist, or open one of the recent ones.",
    },
    "recent_shortlists": {"no": "Siste forslagslister", "en": "Recent shortlists"},
    "no_shortlists": {"no": "Ingen forslagslister ennå.", "en": "No shortlists yet."},
    "open": {"no": "Åpne", "en": "Open"},
    "followups": {"no": "Oppfølging", "en": "Follow-ups"},
    "followups_overdue": {"no": "Forfalt", "en": "Overdue"},
    "followups_due": {"no": "Denne uken", "en": "This week"},
    "no_followups": {"no": "Ingenting å følge opp nå.", "en": "Nothing to follow up now."},
    "followup_with": {"no": "med", "en": "with"},
    "party_person": {"no": "personen", "en": "the person"},
    "party_workplace": {"no": "arbeidsplassen", "en": "the workplace"},
    "party_employer": {"no": "arbeidsgiveren", "en": "the employer"},
    "party_adviser": {"no": "veilederen", "en": "the adviser"},
    "mark_done": {"no": "Merk som gjort", "en": "Mark as done"},
    "shortlist_for": {"no": "Forslagsliste for", "en": "Shortlist for"},
    "made_by_model": {
        "no": "Laget {date} av {who} med {model} versjon {version}. Modellen foreslår; du bestemmer.",
        "en": "Made {date} by {who} with {model} version {version}. The model suggests; you decide.",
    },
    "no_suggestions": {
        "no": "Ingen arbeidsplasser passet denne gangen.",
        "en": "No workplace fitted this time.",
    },
    "suggestion": {"no": "Forslag", "en": "Suggestion"},
    "score": {"no": "Poengsum", "en": "Score"},
    "chance_text": {
        "no": "Anslått sjanse for ansettelse {chance} % (poengsum {score}, nummer {rank} av {count})",
        "en": "Estimated chance of a hire {chance}% (score {score}, number {rank} of {count})",
    },
    "score_relative": {
        "no": "Poengsum {score} (nummer {rank} av {count}; stolpen sammenligner med de andre i listen)",
        "en": "Score {score} (number {rank} of {count}; the bar compares it with the others in the list)",
    },
    "distance": {"no": "Avstand", "en": "Distance"},
    "km_from_home": {"no": "{km} km hjemmefra", "en": "{km} km from home"},
    "occupation": {"no": "Yrke", "en": "Occupation"},
    "workplace": {"no": "Arbeidsplass", "en": "Workplace"},
    "speaks_for": {"no": "Taler for", "en": "Speaks for"},
    "speaks_against": {"no": "Taler imot", "en": "Speaks against"},
    "needs_met": {"no": "Støttebehov arbeidsplassen dekker", "en": "Support needs met"},
    "needs_unmet": {"no": "Støttebehov som må ordnes annet sted", "en": "Support needs not met"},
    "tasks_training": {"no": "Oppgaver som krever opplæring", "en": "Tasks that need training"},
    "none": {"no": "Ingen", "en": "None"},
    "need_required": {"no": "må ha", "en": "required"},
    "need_helps": {"no": "hjelper", "en": "helps"},
    "task_levels": {
        "no": "krever {required}, kan {skill}",
        "en": "needs {required}, has {skill}",
    },
    "decision": {"no": "Avgjørelse", "en": "Decision"},
    "accept": {"no": "Godta", "en": "Accept"},
    "accept_explained": {
        "no": "Godta forslag {rank} og åpne utkastet til inkluderingsplan",
        "en": "Accept suggestion {rank} and open the inclusion plan draft",
    },
    "reject": {"no": "Avvis", "en": "Reject"},
    "reject_explained": {"no": "Avvis forslag {rank}", "en": "Reject suggestion {rank}"},
    "reason": {"no": "Begrunnelse", "en": "Reason"},
    "choose_reason": {"no": "Velg begrunnelse", "en": "Choose a reason"},
    "reason_text": {"no": "Utdyping (påkrevd ved «Annet»)", "en": "Details (required with 'Other')"},
    "accepted_by": {"no": "Godtatt av {who} {date}", "en": "Accepted by {who} on {date}"},
    "rejected_by": {"no": "Avvist av {who} {date}: {reason}", "en": "Rejected by {who} on {date}: {reason}"},
    "change_decision": {"no": "Endre avgjørelsen", "en": "Change the decision"},
    "open_plan": {"no": "Åpne inkluderingsplanen", "en": "Open the inclusion plan"},
    "reason_task_mismatch": {"no": "Oppgavene passer ikke", "en": "The tasks do not fit"},
    "reason_person_not_interested": {"no": "Personen er ikke interessert", "en": "The person is not interested"},
    "reason_support_not_available": {
        "no": "Nødvendig støtte kan ikke gis",
        "en": "Needed support is not available",
    },
    "reason_too_far": {"no": "For langt unna", "en": "Too far away"},
    "reason_workplace_not_ready": {"no": "Arbeidsplassen er ikke klar", "en": "The workplace is not ready"},
    "reason_barrier_incompatible": {
        "no": "En hindring lar seg ikke forene med jobben",
        "en": "A barrier is incompatible with the job",
    },
    "reason_other": {"no": "Annet", "en": "Other"},
    "saved_decision": {"no": "Avgjørelsen er lagret.", "en": "The decision is saved."},
    "saved_revision": {
        "no": "Planen er lagret som en ny versjon. Alle må godkjenne den på nytt.",
        "en": "The plan is saved as a new revision. Everyone must approve it again.",
    },
    "no_change": {"no": "Ingen endringer å lagre.", "en": "No changes to save."},
    "saved_approval": {"no": "Godkjenningen er registrert.", "en": "The approval is recorded."},
    "saved_followup": {"no": "Oppfølgingen er registrert.", "en": "The follow-up is recorded."},
    "plan_heading": {"no": "Inkluderingsplan", "en": "Inclusion plan"},
    "plan_revision": {"no": "Versjon {revision}", "en": "Revision {revision}"},
    "plan_for": {"no": "for {candidate} hos {workplace}", "en": "for {candidate} at {workplace}"},
    "back_to_shortlist": {"no": "Tilbake til forslagslisten", "en": "Back to the shortlist"},
    "purpose_legend": {"no": "Formål", "en": "Purpose"},
    "purpose": {"no": "Formål med arbeidstreningen", "en": "Purpose of the work trial"},
    "purpose_try_out_occupation": {"no": "Prøve ut yrket", "en": "Try out the occupation"},
    "purpose_confirm_vocational_goal": {"no": "Bekrefte yrkesmålet", "en": "Confirm the vocational goal"},
    "purpose_start_recruitment": {"no": "Starte rekruttering", "en": "Start recruitment"},
    "purpose_reason": {"no": "Hvorfor dette formålet", "en": "Why this purpose"},
    "tasks": {"no": "Arbeidsoppgaver", "en": "Tasks"},
    "hours_per_week": {"no": "Timer per uke", "en": "Hours per week"},
    "start_date": {"no": "Startdato", "en": "Start date"},
    "end_date": {"no": "Sluttdato", "en": "End date"},
    "workplace_resp": {"no": "Arbeidsplassens ansvar", "en": "The workplace's responsibilities"},
    "training": {"no": "Opplæring", "en": "Training"},
    "adaptations": {"no": "Tilrettelegging arbeidsplassen gir", "en": "Adaptations the workplace gives"},
    "support_resp": {"no": "Støtteapparatets ansvar", "en": "The support system's responsibilities"},
    "unmet_support": {"no": "Støtte arbeidsplassen ikke kan gi", "en": "Support the workplace cannot give"},
    "outside_work": {
        "no": "Behov utenfor jobben (la stå tomt om det ikke gjelder)",
        "en": "Needs outside work (leave empty when none)",
    },
    "contact_person": {"no": "Fast kontaktperson", "en": "Fixed contact person"},
    "tutor": {"no": "Veileder på arbeidsplassen (fadder)", "en": "Workplace tutor"},
    "tutor_to_be_named": {"no": "ikke navngitt ennå", "en": "to be named"},
    "tutor_open_point": {
        "no": "Veilederen på arbeidsplassen (fadder) er ikke navngitt ennå.",
        "en": "The workplace tutor is still to be named.",
    },
    "first_contact_days": {"no": "Dager til første oppfølging (1–7)", "en": "Days to the first follow-up (1–7)"},
    "followup_interval_days": {
        "no": "Dager mellom oppfølgingene (1–28)",
        "en": "Days between follow-ups (1–28)",
    },
    "revision_note": {"no": "Merknad til endringen", "en": "Note on the change"},
    "save_plan": {"no": "Lagre ny versjon", "en": "Save new revision"},
    "schedule": {"no": "Oppfølgingsplan", "en": "Follow-up schedule"},
    "open_points": {"no": "Åpne punkter", "en": "Open points"},
    "approvals": {"no": "Godkjenninger av versjon {revision}", "en": "Approvals of revision {revision}"},
    "approved_by": {"no": "{party}: godkjent av {who} {date}", "en": "{party}: approved by {who} on {date}"},
    "awaiting": {"no": "Venter på: {parties}", "en": "Awaiting: {parties}"},
    "agreed": {
        "no": "Alle har godkjent planen. Arbeidstreningen er åpnet og oppfølgingen satt opp.",
        "en": "Everyone has approved the plan. The placement is open and its follow-ups are scheduled.",
    },
    "confirm_heading": {"no": "Bekreft planen", "en": "Confirm the plan"},
    "person_approved": {
        "no": "Personen har godkjent denne versjonen av planen (registreres av deg)",
        "en": "The person has approved this revision of the plan (recorded by you)",
    },
    "confirm_plan": {"no": "Bekreft planen", "en": "Confirm the plan"},
    "confirm_help": {
        "no": "Du godkjenner versjon {revision} slik den er lagret, som veileder; lagre endringer først. "
        "Arbeidsgiveren godkjenner planen selv.",
        "en": "You approve revision {revision} as saved, as the adviser; save any changes first. The employer "
        "approves the plan themselves.",
    },
    "approve_for_employer": {"no": "Godkjenn for arbeidsgiveren", "en": "Approve for the employer"},
    "employer_page": {"no": "Kandidater presentert for arbeidsplassen", "en": "Persons presented to the workplace"},
    "employer_help": {
        "no": "Her ser du bare personer som selv har sagt at de er interessert i arbeidsplassen, og som en "
        "veileder eller jobbspesialist har presentert for dere. Personene vises bare med pseudonym.",
        "en": "You see only persons who have said themselves that they are interested in the workplace and "
        "whom an adviser or job specialist has presented to you. Persons appear by pseudonym only.",
    },
    "choose_workplace": {"no": "Arbeidsplass", "en": "Workplace"},
    "show_presented": {"no": "Vis presenterte kandidater", "en": "Show presented persons"},
    "no_workplaces": {
        "no": "Arbeidsgiveren har ingen arbeidsplasser her.",
        "en": "Your employer has no workplaces here.",
    },
    "presented_heading": {"no": "Presenterte kandidater", "en": "Presented persons"},
    "presented_on": {"no": "presentert {date}", "en": "presented {date}"},
    "plan_link": {"no": "Inkluderingsplan for {candidate}", "en": "Inclusion plan for {candidate}"},
    "no_presented": {
        "no": "Ingen er presentert for denne arbeidsplassen ennå.",
        "en": "No one has been presented to this workplace yet.",
    },
    "no_plans": {"no": "Ingen planer ennå.", "en": "No plans yet."},
    "error": {"no": "Noe gikk galt", "en": "Something went wrong"},
    "problems": {"no": "Dette må rettes:", "en": "Please correct this:"},
    "not_found": {"no": "Fant ikke siden.", "en": "Page not found."},
    "forbidden": {"no": "Du har ikke tilgang til dette.", "en": "You do not have access to this."},
    "csrf_failed": {
        "no": "Skjemaet var utløpt eller kom ikke fra denne siden. Last siden på nytt og prøv igjen.",
        "en": "The form had expired or did not come from this page. Reload the page and try again.",
    },
}


def lang_or_default(value: str | None) -> Lang:
    """`value` when it is a supported language, else the default (Norwegian)."""
    for lang in LANGUAGES:
        if value == lang:
            return lang
    return DEFAULT_LANG


def label(key: str, lang: Lang, **values: object) -> str:
    """One label in `lang`, filled in."""
    text = LABELS[key][lang]
    return text.format(**values) if values else text


def all_labels_complete() -> list[str]:
    """Labels missing a language (for the tests): empty when every label has both."""
    return [key for key, texts in LABELS.items() if set(texts) != set(HTML_LANG)]
