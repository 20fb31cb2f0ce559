"""The adviser's review loop: inclusion plans with their revisions and approvals, placements with
their events, follow-ups, and the audit trail.

Plan drafts, event payloads and audit details are JSON: their rules live in the domain code
(`matching.inclusion`, `matching.placements`), not in the schema. Only what the store itself
relies on is constrained here (revision numbers, approving parties, follow-up parties), frozen as
it was when this revision was written.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLAN_PARTIES = ("person", "employer", "adviser")
FOLLOWUP_PARTIES = ("person", "workplace")


def quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "inclusion_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.String(), nullable=False),
        sa.Column("workplace_id", sa.String(), nullable=False),
        sa.Column("shortlist_item_id", sa.Integer(), nullable=False),
        timestamp("created_at"),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.candidate_id"], name="fk_inclusion_plans_candidate_id_candidates"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"], ["workplaces.workplace_id"], name="fk_inclusion_plans_workplace_id_workplaces"
        ),
        sa.ForeignKeyConstraint(
            ["shortlist_item_id"], ["shortlist_items.id"], name="fk_inclusion_plans_shortlist_item_id_shortlist_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_inclusion_plans"),
    )
    op.create_index("ix_inclusion_plans_candidate_id", "inclusion_plans", ["candidate_id"])
    op.create_index("ix_inclusion_plans_workplace_id", "inclusion_plans", ["workplace_id"])
    op.create_index("ix_inclusion_plans_shortlist_item_id", "inclusion_plans", ["shortlist_item_id"], unique=True)

    op.create_table(
        "plan_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.String(), nullable=False),
        timestamp("changed_at"),
        sa.CheckConstraint("number >= 1", name=op.f("ck_plan_revisions_number")),
        sa.ForeignKeyConstraint(["plan_id"], ["inclusion_plans.id"], name="fk_plan_revisions_plan_id_inclusion_plans"),
        sa.PrimaryKeyConstraint("id", name="pk_plan_revisions"),
        sa.UniqueConstraint("plan_id", "number", name="uq_plan_revisions_plan_id_number"),
    )

    op.create_table(
        "plan_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(), nullable=False),
        sa.Column("approved_by", sa.String(), nullable=False),
        timestamp("approved_at"),
        sa.CheckConstraint(f"party IN ({quoted(PLAN_PARTIES)})", name=op.f("ck_plan_approvals_party")),
        sa.ForeignKeyConstraint(
            ["plan_id", "revision"],
            ["plan_revisions.plan_id", "plan_revisions.number"],
            name="fk_plan_approvals_plan_id_plan_revisions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_plan_approvals"),
        sa.UniqueConstraint("plan_id", "revision", "party", name="uq_plan_approvals_plan_id_revision_party"),
    )

    op.create_table(
        "placements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.String(), nullable=False),
        sa.Column("workplace_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        timestamp("created_at"),
        sa.ForeignKeyConstraint(["plan_id"], ["inclusion_plans.id"], name="fk_placements_plan_id_inclusion_plans"),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.candidate_id"], name="fk_placements_candidate_id_candidates"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"], ["workplaces.workplace_id"], name="fk_placements_workplace_id_workplaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_placements"),
    )
    op.create_index("ix_placements_plan_id", "placements", ["plan_id"], unique=True)
    op.create_index("ix_placements_candidate_id", "placements", ["candidate_id"])
    op.create_index("ix_placements_workplace_id", "placements", ["workplace_id"])

    op.create_table(
        "placement_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("recorded_by", sa.String(), nullable=False),
        timestamp("recorded_at"),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placements.id"], name="fk_placement_events_placement_id_placements"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_placement_events"),
    )
    op.create_index("ix_placement_events_placement_id_recorded_at", "placement_events", ["placement_id", "recorded_at"])

    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("party", sa.String(), nullable=False),
        sa.Column("contact_id", sa.String(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("done_by", sa.String(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(f"party IN ({quoted(FOLLOWUP_PARTIES)})", name=op.f("ck_followups_party")),
        sa.CheckConstraint("done_on IS NULL OR done_by IS NOT NULL", name=op.f("ck_followups_done_has_by")),
        sa.ForeignKeyConstraint(["placement_id"], ["placements.id"], name="fk_followups_placement_id_placements"),
        sa.PrimaryKeyConstraint("id", name="pk_followups"),
        sa.UniqueConstraint("placement_id", "party", "due_on", name="uq_followups_placement_id_party_due_on"),
    )
    op.create_index("ix_followups_contact_id_due_on", "followups", ["contact_id", "due_on"])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        timestamp("at"),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("subject_type", sa.String(), nullable=False),
        sa.Column("subject_id", sa.String(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_subject_type_subject_id", "audit_events", ["subject_type", "subject_id"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_actor_at", "audit_events", ["actor", "at"])


def downgrade() -> None:
    # children first; dropping a table drops its indexes and constraints with it
    for table in (
        "audit_events",
        "followups",
        "placement_events",
        "placements",
        "plan_approvals",
        "plan_revisions",
        "inclusion_plans",
    ):
        op.drop_table(table)
