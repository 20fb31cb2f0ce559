"""The vocabularies of the review loop, as plain data: what an adviser may decide on a suggestion
and why a suggestion is rejected, what the person may answer, who approves a plan and whom a
follow-up is with. The store checks against them (`matching.store.models` builds its CHECK
constraints from them); the API and the page offer them. Changing one needs a migration."""

from __future__ import annotations

from matching.inclusion import Contact, Party

DECISIONS = ("accept", "reject")
REASON_CODES = (
    "task_mismatch",
    "person_not_interested",
    "support_not_available",
    "too_far",
    "workplace_not_ready",
    "barrier_incompatible",
    "other",
)
PERSON_ANSWERS = ("interested", "not_interested", "unsure")
# the parties who approve a plan, and whom a follow-up is with, in the domain's order
PLAN_PARTIES: tuple[str, ...] = tuple(party.value for party in Party)
FOLLOWUP_PARTIES: tuple[str, ...] = tuple(contact.value for contact in Contact)
