"""The page's labels in Norwegian bokmål (`no`, the default) and English (`en`).

Every label has both languages (`tests/e2e/test_browser.py` checks it). The texts a person reads
(reasons, supports, tasks, areas) come from `matching.plain`; only the page's own words are here.
"""

from __future__ import annotations

from matching.plain import ESTIMATE_NOTE, LANGUAGES, Lang
from serving.web.i18n_caseload import CASELOAD_LABELS
from serving.web.i18n_norsk import NORSK_LABELS
from serving.web.i18n_profile import PROFILE_LABELS
from serving.web.i18n_specialist import SPECIALIST_LABELS

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
    "why_short": {"no": "Hvorfor listen ikke er lengre", "en": "Why the list is not longer"},
    "to_arrange": {
        "no": "Støtteapparatet ordner før arbeidstreningen starter",
        "en": "The support system arranges before the trial starts",
    },
    "support_options": {"no": "Dette kan gjøre det lettere", "en": "What would make it work"},
    "estimate_note": dict(ESTIMATE_NOTE),
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
    # the person's answer and presenting them (the shortlist page)
    "person_answer": {"no": "Personens eget svar", "en": "The person's own answer"},
    "no_answer": {"no": "Personen har ikke svart ennå.", "en": "The person has not answered yet."},
    "answer_label": {"no": "Personens svar på forslag {rank}", "en": "The person's answer to suggestion {rank}"},
    "answer_words_label": {
        "no": "Med personens egne ord, forslag {rank} (valgfritt)",
        "en": "In the person's own words, suggestion {rank} (optional)",
    },
    "answer_words_said": {"no": "Personen sa: «{words}»", "en": "The person said: “{words}”"},
    "choose_answer": {"no": "Velg personens svar", "en": "Choose the person's answer"},
    "answer_interested": {"no": "Interessert", "en": "Interested"},
    "answer_not_interested": {"no": "Ikke interessert", "en": "Not interested"},
    "answer_unsure": {"no": "Usikker", "en": "Unsure"},
    "answer_recorded": {
        "no": "Svar: {answer} (registrert av {who} {date})",
        "en": "Answer: {answer} (recorded by {who} on {date})",
    },
    "save_answer": {"no": "Lagre svaret", "en": "Save the answer"},
    "save_answer_explained": {"no": "Lagre svaret på forslag {rank}", "en": "Save the answer to suggestion {rank}"},
    "saved_answer": {"no": "Personens svar er lagret.", "en": "The person's answer is saved."},
    "present": {"no": "Presenter for arbeidsplassen", "en": "Present to the workplace"},
    "present_explained": {
        "no": "Presenter for arbeidsplassen: forslag {rank}",
        "en": "Present to the workplace: suggestion {rank}",
    },
    "presented_by": {
        "no": "Presentert for arbeidsplassen av {who} {date}",
        "en": "Presented to the workplace by {who} on {date}",
    },
    "not_presented": {
        "no": "Ikke presentert. Personen kan presenteres for arbeidsplassen når hen har sagt at hen er interessert.",
        "en": "Not presented. The person can be presented to the workplace once they have said they are interested.",
    },
    "saved_presentation": {
        "no": "Personen er presentert for arbeidsplassen.",
        "en": "The person is presented to the workplace.",
    },
    "present_needs_interest": {
        "no": "Personen er ikke presentert: registrer først at personen selv er interessert i arbeidsplassen.",
        "en": "The person is not presented: first record that the person is interested in the workplace.",
    },
    "present_no_consent": {
        "no": "Personen er ikke presentert: samtykket er trukket tilbake.",
        "en": "The person is not presented: their consent is withdrawn.",
    },
    "not_saved": {"no": "Ingenting ble lagret.", "en": "Nothing was saved."},
    # the placement (the plan page)
    "placement_heading": {"no": "Arbeidstreningen", "en": "The placement"},
    "stage_now": {"no": "Status: {stage}", "en": "Stage: {stage}"},
    "stage_none": {"no": "ikke startet", "en": "not started"},
    "stage_contacted": {"no": "arbeidsgiveren er kontaktet", "en": "the employer is contacted"},
    "stage_trial_started": {"no": "arbeidstreningen pågår", "en": "the trial is under way"},
    "stage_trial_completed": {"no": "arbeidstreningen er fullført", "en": "the trial is completed"},
    "stage_hired": {"no": "ansatt", "en": "hired"},
    "stage_ended": {"no": "avsluttet", "en": "ended"},
    "timeline": {"no": "Tidslinje", "en": "Timeline"},
    "no_events": {"no": "Ingenting er registrert ennå.", "en": "Nothing is recorded yet."},
    "recorded_by": {"no": "registrert av {who}", "en": "recorded by {who}"},
    "event_contacted": {"no": "Arbeidsgiveren kontaktet", "en": "Employer contacted"},
    "event_trial_started": {"no": "Arbeidstrening startet", "en": "Trial started"},
    "event_trial_completed": {"no": "Arbeidstrening fullført", "en": "Trial completed"},
    "event_hired": {"no": "Ansatt", "en": "Hired"},
    "event_ended": {"no": "Avsluttet", "en": "Ended"},
    "event_assessment": {"no": "Vurdering", "en": "Assessment"},
    "nothing_more": {"no": "ingen (arbeidstreningen er avsluttet)", "en": "none (the placement is closed)"},
    "end_not_pursued": {"no": "Ikke videreført", "en": "Not pursued"},
    "end_person_quit": {"no": "Personen avsluttet selv", "en": "The person quit"},
    "end_employer_ended": {"no": "Arbeidsgiveren avsluttet", "en": "The employer ended it"},
    "end_no_position": {"no": "Ingen stilling å gå videre til", "en": "No position to go on to"},
    "end_health": {"no": "Helse", "en": "Health"},
    "end_moved": {"no": "Flyttet", "en": "Moved"},
    "end_other": {"no": "Annet", "en": "Other"},
    "record_step": {"no": "Registrer neste steg", "en": "Record the next step"},
    "step": {"no": "Hva skjedde", "en": "What happened"},
    "end_reason": {"no": "Grunn til avslutning (bare ved «Avsluttet»)", "en": "Reason for ending (only with 'Ended')"},
    "choose_end_reason_option": {"no": "Velg grunn", "en": "Choose a reason"},
    "record_step_button": {"no": "Registrer steget", "en": "Record the step"},
    "saved_event": {"no": "Steget er registrert.", "en": "The step is recorded."},
    "assessment_heading": {
        "no": "Vurdering ved slutten av arbeidstreningen",
        "en": "Assessment at the end of the trial",
    },
    "assessment_source": {"no": "Vurderingen er fra", "en": "The assessment is from"},
    "assessment_from": {"no": "Vurdering fra {source}", "en": "Assessment from {source}"},
    "tasks_mastered": {"no": "Hvor godt mestres oppgavene", "en": "How well the tasks are mastered"},
    "choose_level": {"no": "Velg nivå", "en": "Choose a level"},
    "level_1": {"no": "1 – mestres ikke", "en": "1 – not mastered"},
    "level_2": {"no": "2 – mestres litt", "en": "2 – a little"},
    "level_3": {"no": "3 – mestres delvis", "en": "3 – partly"},
    "level_4": {"no": "4 – mestres godt", "en": "4 – well"},
    "level_5": {"no": "5 – mestres fullt ut", "en": "5 – fully"},
    "tasks_mastered_text": {"no": "mestrer oppgavene {level} av 5", "en": "masters the tasks {level} of 5"},
    "what_worked": {
        "no": "Støtte og tilrettelegging som virket",
        "en": "Supports and adaptations that worked",
    },
    "what_worked_text": {"no": "virket: {text}", "en": "worked: {text}"},
    "what_to_change": {"no": "Dette bør endres", "en": "What should change"},
    "what_to_change_text": {"no": "bør endres: {text}", "en": "to change: {text}"},
    "would_continue": {"no": "Ønsker å fortsette", "en": "Wants to go on"},
    "choose_continue": {"no": "Velg svar", "en": "Choose an answer"},
    "continue_yes": {"no": "ja", "en": "yes"},
    "continue_no": {"no": "nei", "en": "no"},
    "continue_unsure": {"no": "usikker", "en": "unsure"},
    "would_continue_text": {"no": "vil fortsette: {answer}", "en": "would go on: {answer}"},
    "save_assessment": {"no": "Lagre vurderingen", "en": "Save the assessment"},
    "saved_assessment": {"no": "Vurderingen er lagret.", "en": "The assessment is saved."},
    "choose_step": {"no": "Velg hva som skjedde.", "en": "Choose what happened."},
    "choose_end_reason": {
        "no": "Velg en grunn til at arbeidstreningen avsluttes.",
        "en": "Choose why the placement ends.",
    },
    "end_other_needs_text": {
        "no": "Skriv en utdyping når grunnen er «Annet».",
        "en": "Write the details when the reason is 'Other'.",
    },
    "choose_assessment_source": {"no": "Velg hvem vurderingen er fra.", "en": "Choose whose assessment it is."},
    "choose_tasks_mastered": {
        "no": "Velg hvor godt oppgavene mestres (1–5).",
        "en": "Choose how well the tasks are mastered (1–5).",
    },
    "choose_would_continue": {"no": "Velg om det er ønske om å fortsette.", "en": "Choose whether to go on."},
    "employer_assessment_only": {
        "no": "Som arbeidsgiver kan du bare gi arbeidsgiverens vurdering her.",
        "en": "As the employer you can only give the employer's assessment here.",
    },
    "impossible_step": {
        "no": "«{step}» er ikke mulig nå, og ingenting ble lagret. Mulige neste steg: {allowed}.",
        "en": "'{step}' is not possible now, and nothing was saved. Possible next steps: {allowed}.",
    },
    "no_free_slot": {
        "no": "Arbeidsplassen har ingen ledig plass, så arbeidstreningen kan ikke starte. Ingenting ble lagret.",
        "en": "The workplace has no free slot, so the trial cannot start. Nothing was saved.",
    },
    "contact_needs_interest": {
        "no": "Registrer at personen selv er interessert før arbeidsgiveren kontaktes. Ingenting ble lagret.",
        "en": "Record the person's interest before the employer is contacted. Nothing was saved.",
    },
    "assessment_already_given": {
        "no": "Denne vurderingen er allerede registrert. Ingenting ble lagret.",
        "en": "This assessment is already recorded. Nothing was saved.",
    },
    "error": {"no": "Noe gikk galt", "en": "Something went wrong"},
    "problems": {"no": "Dette må rettes:", "en": "Please correct this:"},
    "not_found": {"no": "Fant ikke siden.", "en": "Page not found."},
    "forbidden": {"no": "Du har ikke tilgang til dette.", "en": "You do not have access to this."},
    "csrf_failed": {
        "no": "Skjemaet var utløpt eller kom ikke fra denne siden. Last siden på nytt og prøv igjen.",
        "en": "The form had expired or did not come from this page. Reload the page and try again.",
    },
}
LABELS |= PROFILE_LABELS  # the profile page, the new-person form and the caseload list


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


LABELS |= NORSK_LABELS  # the plan form's own problems (serving.web.i18n_norsk)
LABELS |= SPECIALIST_LABELS  # the job specialist's page (serving.web.i18n_specialist)
LABELS |= CASELOAD_LABELS  # the caseload list's filters, stages and overdue follow-ups (serving.web.i18n_caseload)
