"""Initial schema: the contract records (data contract v1), shortlists as served, decisions and
the person's answers.

The vocabulary below is frozen as it was when this revision was written (catalogue of contract
v1): a migration must create the same schema whenever it runs. A later change of vocabulary
needs a new revision; `tests/store` checks the models, this revision and `matching.records` agree.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RIASEC = ("realistic", "investigative", "artistic", "social", "enterprising", "conventional")
ACTIVITIES = (
    "public_service",
    "caring",
    "handling_objects",
    "operating_machines",
    "using_hands",
    "telephone",
    "attention_to_detail",
    "analytical_thinking",
)
CONTEXTS = (
    "stress",
    "contact_with_others",
    "customer_contact",
    "teamwork",
    "physical_proximity",
    "independence",
    "change",
)
SUPPORTS = (
    "flexible_hours",
    "gradual_start",
    "quiet_workspace",
    "fixed_routines",
    "mentor",
    "written_instructions",
    "breaks_as_needed",
    "physical_adaptation",
    "job_coach_on_site",
)
REASON_CODES = (
    "task_mismatch",
    "person_not_interested",
    "support_not_available",
    "too_far",
    "workplace_not_ready",
    "barrier_incompatible",
    "other",
)


def levels(prefix: str, names: Sequence[str]) -> list[sa.Column[float]]:
    return [sa.Column(f"{prefix}{name}", sa.Double(), nullable=False) for name in names]


def quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "candidates",
        sa.Column("candidate_id", sa.String(), nullable=False),
        sa.Column("adviser_id", sa.String(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("max_commute_km", sa.Double(), nullable=False),
        sa.Column("desired_hours", sa.Double(), nullable=False),
        sa.Column("preferred_occupations", sa.JSON(), nullable=False),
        *levels("interest_", RIASEC),
        *levels("skill_", ACTIVITIES),
        *levels("tolerance_", CONTEXTS),
        *[sa.Column(f"needs_{name}", sa.Integer(), nullable=False) for name in SUPPORTS],
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("candidate_id", name="pk_candidates"),
    )
    op.create_index("ix_candidates_adviser_id", "candidates", ["adviser_id"])

    op.create_table(
        "workplaces",
        sa.Column("workplace_id", sa.String(), nullable=False),
        sa.Column("employer_id", sa.String(), nullable=False),
        sa.Column("occupation_code", sa.String(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("hours_per_week", sa.Double(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        *levels("task_", ACTIVITIES),
        *levels("demand_", CONTEXTS),
        *[sa.Column(f"offers_{name}", sa.Boolean(), nullable=False) for name in SUPPORTS],
        sa.Column("past_placements", sa.Integer(), nullable=False),
        sa.Column("past_hires", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("workplace_id", name="pk_workplaces"),
    )

    op.create_table(
        "audit",
        sa.Column("candidate_id", sa.String(), nullable=False),
        sa.Column("age_band", sa.String(), nullable=False),
        sa.Column("gender", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidates.candidate_id"], name="fk_audit_candidate_id_candidates"),
        sa.PrimaryKeyConstraint("candidate_id", name="pk_audit"),
    )

    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.String(), nullable=False),
        sa.Column("workplace_id", sa.String(), nullable=False),
        sa.Column("suggested_on", sa.Date(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint("grade BETWEEN 0 AND 4", name=op.f("ck_outcomes_grade")),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.candidate_id"], name="fk_outcomes_candidate_id_candidates"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"], ["workplaces.workplace_id"], name="fk_outcomes_workplace_id_workplaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outcomes"),
        sa.UniqueConstraint(
            "candidate_id", "workplace_id", "suggested_on", name="uq_outcomes_candidate_id_workplace_id_suggested_on"
        ),
    )
    op.create_index("ix_outcomes_candidate_id", "outcomes", ["candidate_id"])
    op.create_index("ix_outcomes_workplace_id", "outcomes", ["workplace_id"])

    op.create_table(
        "shortlists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.String(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        timestamp("created_at"),
        sa.Column("model_name", sa.String(), nullable=False),
        sa.Column("model_version", sa.String(), nullable=False),
        sa.Column("top_k", sa.Integer(), nullable=False),
        sa.CheckConstraint("top_k >= 1", name=op.f("ck_shortlists_top_k")),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.candidate_id"], name="fk_shortlists_candidate_id_candidates"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_shortlists"),
    )
    op.create_index("ix_shortlists_candidate_id", "shortlists", ["candidate_id"])

    op.create_table(
        "shortlist_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shortlist_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("workplace_id", sa.String(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.CheckConstraint("rank >= 1", name=op.f("ck_shortlist_items_rank")),
        sa.ForeignKeyConstraint(["shortlist_id"], ["shortlists.id"], name="fk_shortlist_items_shortlist_id_shortlists"),
        sa.ForeignKeyConstraint(
            ["workplace_id"], ["workplaces.workplace_id"], name="fk_shortlist_items_workplace_id_workplaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_shortlist_items"),
        sa.UniqueConstraint("shortlist_id", "rank", name="uq_shortlist_items_shortlist_id_rank"),
    )
    op.create_index("ix_shortlist_items_shortlist_id", "shortlist_items", ["shortlist_id"])
    op.create_index("ix_shortlist_items_workplace_id", "shortlist_items", ["workplace_id"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shortlist_item_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("reason_code", sa.String(), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=False),
        timestamp("decided_at"),
        sa.CheckConstraint("decision IN ('accept', 'reject')", name=op.f("ck_decisions_decision")),
        sa.CheckConstraint(
            f"reason_code IS NULL OR reason_code IN ({quoted(REASON_CODES)})", name=op.f("ck_decisions_reason_code")
        ),
        sa.CheckConstraint(
            "decision = 'accept' OR reason_code IS NOT NULL", name=op.f("ck_decisions_reject_has_reason")
        ),
        sa.CheckConstraint(
            "decision = 'reject' OR reason_code IS NULL", name=op.f("ck_decisions_accept_has_no_reason")
        ),
        sa.CheckConstraint(
            "reason_code IS NULL OR reason_code <> 'other' OR (reason_text IS NOT NULL AND reason_text <> '')",
            name=op.f("ck_decisions_other_has_text"),
        ),
        sa.ForeignKeyConstraint(
            ["shortlist_item_id"], ["shortlist_items.id"], name="fk_decisions_shortlist_item_id_shortlist_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
    )
    op.create_index("ix_decisions_shortlist_item_id_decided_at", "decisions", ["shortlist_item_id", "decided_at"])

    op.create_table(
        "person_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shortlist_item_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        timestamp("recorded_at"),
        sa.CheckConstraint(
            "answer IN ('interested', 'not_interested', 'unsure')", name=op.f("ck_person_answers_answer")
        ),
        sa.ForeignKeyConstraint(
            ["shortlist_item_id"], ["shortlist_items.id"], name="fk_person_answers_shortlist_item_id_shortlist_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_person_answers"),
    )
    op.create_index(
        "ix_person_answers_shortlist_item_id_recorded_at", "person_answers", ["shortlist_item_id", "recorded_at"]
    )


def downgrade() -> None:
    for table in (
        "person_answers",
        "decisions",
        "shortlist_items",
        "shortlists",
        "outcomes",
        "audit",
        "workplaces",
        "candidates",
    ):
        op.drop_table(table)
