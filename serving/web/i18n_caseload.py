"""The labels of the caseload list on the adviser's home page (its filters, each person's stage in
the loop and their overdue follow-ups), in Norwegian bokmål (`no`) and English (`en`);
`serving.web.i18n` merges them into its `LABELS`, so the check that every label has both languages
covers them too."""

from __future__ import annotations

from matching.plain import Lang

CASELOAD_LABELS: dict[str, dict[Lang, str]] = {
    "caseload_filters": {"no": "Filtrer personene", "en": "Filter the persons"},
    "caseload_stage": {"no": "Fase", "en": "Stage"},
    "caseload_any_stage": {"no": "Alle faser", "en": "Every stage"},
    "caseload_only_overdue": {"no": "Bare med forfalt oppfølging", "en": "Only with an overdue follow-up"},
    "caseload_show": {"no": "Vis", "en": "Show"},
    "caseload_clear": {"no": "Fjern filtrene", "en": "Clear the filters"},
    "caseload_person": {"no": "Person", "en": "Person"},
    "caseload_followup": {"no": "Oppfølging", "en": "Follow-up"},
    "caseload_count": {"no": "{count} av {total} personer vises.", "en": "Showing {count} of {total} persons."},
    "caseload_table": {"no": "Personene i porteføljen", "en": "The persons in the caseload"},
    "caseload_unknown_stage": {
        "no": "Ukjent fase i filteret; alle faser vises.",
        "en": "Unknown stage in the filter; every stage is shown.",
    },
    "caseload_none_overdue": {"no": "Ingen forfalt", "en": "None overdue"},
    "caseload_overdue_since": {
        "no": "Forfalt: {count} siden {date}",
        "en": "Overdue: {count} since {date}",
    },
    "caseload_stage_no_shortlist": {"no": "Ingen forslagsliste ennå", "en": "No shortlist yet"},
    "caseload_stage_shortlisted": {
        "no": "Forslagsliste laget, ingen forslag godtatt",
        "en": "Shortlist made, no suggestion accepted",
    },
    "caseload_stage_ended": {"no": "Avsluttet", "en": "Ended"},
    "caseload_stage_waiting_answer": {"no": "Venter på personens svar", "en": "Waiting for the person's answer"},
    "caseload_stage_plan_to_approve": {"no": "Plan til godkjenning", "en": "Plan to approve"},
    "caseload_stage_agreed": {
        "no": "Plan godkjent, utprøving ikke startet",
        "en": "Plan agreed, trial not started",
    },
    "caseload_stage_in_trial": {"no": "I utprøving", "en": "In trial"},
    "caseload_stage_trial_completed": {"no": "Utprøving fullført", "en": "Trial completed"},
    "caseload_stage_hired": {"no": "Ansatt", "en": "Hired"},
}
