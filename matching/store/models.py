"""The store's tables: the contract records, shortlists as served, and the adviser's review.

The contract tables (`workplaces`, `candidates`, `outcomes`, `audit`) hold every column of data
contract v1 with its contract type; `tests/store` checks them against `matching.records`, so a
change of vocabulary fails loudly and needs a migration. `decisions` and `person_answers` are
append-only: a correction is a new row, the latest row of an item is the current one, and the
earlier rows are its history.

The review loop (revision 0002) stores what `matching.inclusion` and `matching.placements` decide
without knowing their rules: an inclusion plan's revisions keep the whole draft as JSON (every
revision is kept, approvals name the revision they approve), a placement keeps its current state as
text next to its append-only events, and follow-ups name the adviser who must do them. The
`audit_events` trail says who did what to which record, never the personal fields themselves.

The erasure register (revision 0003) remembers that a person's data was erased, by a keyed hash
of their id only (`matching.store.rights.erase_person`), so a later load of the same source
data leaves them out.

The live record (revision 0004): `record_changes` logs which person or workplace changed, so every
API worker picks up live edits; `presentations` says who was presented to which workplace; and
two store-only columns outside the contract (never loaded, exported or used as features): a
person's `display_name` and the `job_specialist_id` who works with a workplace. Revision 0006
adds a third, the workplace's `tutor_name`, whom a plan drafted there names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from matching.clock import utc_now
from matching.review import DECISIONS, FOLLOWUP_PARTIES, PERSON_ANSWERS, PLAN_PARTIES, REASON_CODES
from matching.store.base import Base, quoted

# the served tables whose changes `record_changes` logs, and their columns outside the contract
CHANGE_TABLES = ("candidates", "workplaces")
STORE_ONLY_COLUMNS = {"candidates": ("display_name",), "workplaces": ("job_specialist_id", "tutor_name")}


class Workplace(Base):
    """One contract `workplaces` row."""

    __tablename__ = "workplaces"

    workplace_id: Mapped[str] = mapped_column(primary_key=True)
    employer_id: Mapped[str]
    occupation_code: Mapped[str]
    lat: Mapped[float]
    lon: Mapped[float]
    hours_per_week: Mapped[float]
    slots: Mapped[int]
    task_public_service: Mapped[float]
    task_caring: Mapped[float]
    task_handling_objects: Mapped[float]
    task_operating_machines: Mapped[float]
    task_using_hands: Mapped[float]
    task_telephone: Mapped[float]
    task_attention_to_detail: Mapped[float]
    task_analytical_thinking: Mapped[float]
    demand_stress: Mapped[float]
    demand_contact_with_others: Mapped[float]
    demand_customer_contact: Mapped[float]
    demand_teamwork: Mapped[float]
    demand_physical_proximity: Mapped[float]
    demand_independence: Mapped[float]
    demand_change: Mapped[float]
    offers_flexible_hours: Mapped[bool]
    offers_gradual_start: Mapped[bool]
    offers_quiet_workspace: Mapped[bool]
    offers_fixed_routines: Mapped[bool]
    offers_mentor: Mapped[bool]
    offers_written_instructions: Mapped[bool]
    offers_breaks_as_needed: Mapped[bool]
    offers_physical_adaptation: Mapped[bool]
    offers_job_coach_on_site: Mapped[bool]
    past_placements: Mapped[int]
    past_hires: Mapped[int]
    active: Mapped[bool]
    job_specialist_id: Mapped[str | None] = mapped_column(index=True)  # store-only, not a contract column
    tutor_name: Mapped[str | None] = mapped_column(String(100))  # store-only: the workplace's tutor


class Candidate(Base):
    """One contract `candidates` row; `adviser_id` is the fixed contact person."""

    __tablename__ = "candidates"

    candidate_id: Mapped[str] = mapped_column(primary_key=True)
    adviser_id: Mapped[str] = mapped_column(index=True)
    lat: Mapped[float]
    lon: Mapped[float]
    max_commute_km: Mapped[float]
    desired_hours: Mapped[float]
    preferred_occupations: Mapped[list[str]]
    interest_realistic: Mapped[float]
    interest_investigative: Mapped[float]
    interest_artistic: Mapped[float]
    interest_social: Mapped[float]
    interest_enterprising: Mapped[float]
    interest_conventional: Mapped[float]
    skill_public_service: Mapped[float]
    skill_caring: Mapped[float]
    skill_handling_objects: Mapped[float]
    skill_operating_machines: Mapped[float]
    skill_using_hands: Mapped[float]
    skill_telephone: Mapped[float]
    skill_attention_to_detail: Mapped[float]
    skill_analytical_thinking: Mapped[float]
    tolerance_stress: Mapped[float]
    tolerance_contact_with_others: Mapped[float]
    tolerance_customer_contact: Mapped[float]
    tolerance_teamwork: Mapped[float]
    tolerance_physical_proximity: Mapped[float]
    tolerance_independence: Mapped[float]
    tolerance_change: Mapped[float]
    needs_flexible_hours: Mapped[int]
    needs_gradual_start: Mapped[int]
    needs_quiet_workspace: Mapped[int]
    needs_fixed_routines: Mapped[int]
    needs_mentor: Mapped[int]
    needs_written_instructions: Mapped[int]
    needs_breaks_as_needed: Mapped[int]
    needs_physical_adaptation: Mapped[int]
    needs_job_coach_on_site: Mapped[int]
    consent: Mapped[bool]
    active: Mapped[bool]
    display_name: Mapped[str | None] = mapped_column(String(100))  # store-only: never exported, never a feature


class Outcome(Base):
    """One contract `outcomes` row, keyed by candidate, workplace and the day it was suggested."""

    __tablename__ = "outcomes"
    __table_args__ = (
        UniqueConstraint("candidate_id", "workplace_id", "suggested_on"),
        CheckConstraint("grade BETWEEN 0 AND 4", name="grade"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.candidate_id"), index=True)
    workplace_id: Mapped[str] = mapped_column(ForeignKey("workplaces.workplace_id"), index=True)
    suggested_on: Mapped[dt.date]
    grade: Mapped[int]
    reason: Mapped[str | None] = mapped_column(Text)


class Audit(Base):
    """One contract `audit` row: for fairness reports only, never a feature."""

    __tablename__ = "audit"

    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.candidate_id"), primary_key=True)
    age_band: Mapped[str]
    gender: Mapped[str]


class Shortlist(Base):
    """A shortlist as it was served: who asked, when, and which model made it."""

    __tablename__ = "shortlists"
    __table_args__ = (CheckConstraint("top_k >= 1", name="top_k"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.candidate_id"), index=True)
    requested_by: Mapped[str]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    model_name: Mapped[str]
    model_version: Mapped[str]
    top_k: Mapped[int]
    # revision 0007: {"filtered": {rule: count}, "wider": {...}} (`matching.why_short`); None before it
    filtered: Mapped[dict[str, Any] | None]


class ShortlistItem(Base):
    """One suggestion of a shortlist, with the feature values and explanation behind it.

    `details` keeps the served item's other keys (employer, occupation and its title, distance),
    as they were when it was served, so the item reads back unchanged.
    """

    __tablename__ = "shortlist_items"
    __table_args__ = (UniqueConstraint("shortlist_id", "rank"), CheckConstraint("rank >= 1", name="rank"))

    id: Mapped[int] = mapped_column(primary_key=True)
    shortlist_id: Mapped[int] = mapped_column(ForeignKey("shortlists.id"), index=True)
    rank: Mapped[int]
    workplace_id: Mapped[str] = mapped_column(ForeignKey("workplaces.workplace_id"), index=True)
    score: Mapped[float]
    features: Mapped[dict[str, Any]]
    explanation: Mapped[dict[str, Any]]
    details: Mapped[dict[str, Any]]


class Decision(Base):
    """The adviser's accept or reject of one suggestion; append-only (a correction is a new row)."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(f"decision IN ({quoted(DECISIONS)})", name="decision"),
        CheckConstraint(f"reason_code IS NULL OR reason_code IN ({quoted(REASON_CODES)})", name="reason_code"),
        CheckConstraint("decision = 'accept' OR reason_code IS NOT NULL", name="reject_has_reason"),
        CheckConstraint("decision = 'reject' OR reason_code IS NULL", name="accept_has_no_reason"),
        CheckConstraint(
            "reason_code IS NULL OR reason_code <> 'other' OR (reason_text IS NOT NULL AND reason_text <> '')",
            name="other_has_text",
        ),
        Index(None, "shortlist_item_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shortlist_item_id: Mapped[int] = mapped_column(ForeignKey("shortlist_items.id"))
    decision: Mapped[str]
    reason_code: Mapped[str | None]
    reason_text: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str]
    decided_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class PersonAnswer(Base):
    """The person's own answer to one suggestion, asked before any employer is contacted; append-only."""

    __tablename__ = "person_answers"
    __table_args__ = (
        CheckConstraint(f"answer IN ({quoted(PERSON_ANSWERS)})", name="answer"),
        Index(None, "shortlist_item_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shortlist_item_id: Mapped[int] = mapped_column(ForeignKey("shortlist_items.id"))
    answer: Mapped[str]
    words: Mapped[str | None] = mapped_column(Text)  # the person's own words, if they gave any
    recorded_by: Mapped[str]
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class InclusionPlan(Base):
    """The inclusion plan opened for an accepted suggestion (one plan per suggestion)."""

    __tablename__ = "inclusion_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.candidate_id"), index=True)
    workplace_id: Mapped[str] = mapped_column(ForeignKey("workplaces.workplace_id"), index=True)
    shortlist_item_id: Mapped[int] = mapped_column(ForeignKey("shortlist_items.id"), index=True, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    created_by: Mapped[str]


class PlanRevision(Base):
    """One revision of a plan: the whole draft as the caller gave it; revisions are never changed."""

    __tablename__ = "plan_revisions"
    __table_args__ = (UniqueConstraint("plan_id", "number"), CheckConstraint("number >= 1", name="number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inclusion_plans.id"))
    number: Mapped[int]
    body: Mapped[dict[str, Any]]
    changed_by: Mapped[str]
    changed_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class PlanApproval(Base):
    """One party's approval of one revision of a plan; a new revision needs approval again."""

    __tablename__ = "plan_approvals"
    __table_args__ = (
        UniqueConstraint("plan_id", "revision", "party"),
        CheckConstraint(f"party IN ({quoted(PLAN_PARTIES)})", name="party"),
        ForeignKeyConstraint(["plan_id", "revision"], ["plan_revisions.plan_id", "plan_revisions.number"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int]
    revision: Mapped[int]
    party: Mapped[str]
    approved_by: Mapped[str]
    approved_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Placement(Base):
    """The placement that follows a plan; `state` is the caller's state machine's current state."""

    __tablename__ = "placements"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inclusion_plans.id"), index=True, unique=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.candidate_id"), index=True)
    workplace_id: Mapped[str] = mapped_column(ForeignKey("workplaces.workplace_id"), index=True)
    state: Mapped[str]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class PlacementEvent(Base):
    """One event of a placement (contacted, trial started, an assessment...); append-only."""

    __tablename__ = "placement_events"
    __table_args__ = (Index(None, "placement_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"))
    kind: Mapped[str]
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None]
    recorded_by: Mapped[str]
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Followup(Base):
    """A follow-up the fixed contact person owes the person or the workplace on a day."""

    __tablename__ = "followups"
    __table_args__ = (
        UniqueConstraint("placement_id", "party", "due_on"),
        CheckConstraint(f"party IN ({quoted(FOLLOWUP_PARTIES)})", name="party"),
        CheckConstraint("done_on IS NULL OR done_by IS NOT NULL", name="done_has_by"),
        Index(None, "contact_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"))
    due_on: Mapped[dt.date]
    party: Mapped[str]
    contact_id: Mapped[str]
    done_on: Mapped[dt.date | None]
    done_by: Mapped[str | None]
    note: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """Who did what to which record, and when; `detail` never holds support needs or other personal fields."""

    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "subject_type", "subject_id"), Index(None, "at"), Index(None, "actor", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    actor: Mapped[str]
    role: Mapped[str]
    action: Mapped[str]
    subject_type: Mapped[str]
    subject_id: Mapped[str]
    detail: Mapped[dict[str, Any] | None]


class Erasure(Base):
    """A person whose personal data was erased: only a keyed one-way hash of their id (HMAC-SHA256,
    `subject_hash`), the fingerprint of the key it was made with, who erased it, when and why.
    Loads and upserts skip a candidate whose hash is here."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_hash: Mapped[str] = mapped_column(unique=True)
    key_id: Mapped[str]
    erased_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    erased_by: Mapped[str]
    reason: Mapped[str] = mapped_column(Text)


class RecordChange(Base):
    """One change of a served record (a person or a workplace): which, by what (`source`: api, load,
    slot, erasure...) and when. The newest id tells a worker whether its copy is current."""

    __tablename__ = "record_changes"
    __table_args__ = (
        CheckConstraint(f"table_name IN ({quoted(CHANGE_TABLES)})", name="table_name"),
        Index(None, "table_name", "record_id"),
        {"sqlite_autoincrement": True},  # an id is never used twice, even after its row was deleted
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    table_name: Mapped[str]
    record_id: Mapped[str]
    source: Mapped[str]
    changed_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Presentation(Base):
    """A person presented to a workplace by an adviser or job specialist (once per pair)."""

    __tablename__ = "presentations"
    __table_args__ = (UniqueConstraint("candidate_id", "workplace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.candidate_id"), index=True)
    workplace_id: Mapped[str] = mapped_column(ForeignKey("workplaces.workplace_id"), index=True)
    presented_by: Mapped[str]
    presented_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


CONTRACT_MODELS: dict[str, type[Base]] = {
    "workplaces": Workplace,
    "candidates": Candidate,
    "outcomes": Outcome,
    "audit": Audit,
}
