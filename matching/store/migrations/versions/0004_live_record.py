"""The live record: a change log of served records, presentations, and two store-only columns.

`record_changes` logs every change of a person or a workplace (by a load, the API, a slot taken
or given back, an erasure), so every API worker sees a live edit without a restart.
`presentations` records that an adviser or job specialist presented a person to a workplace.
`candidates.display_name` (the name an adviser sets) and `workplaces.job_specialist_id` (who
works with the workplace) live in the store only: they are not contract columns, so a load
leaves them alone and an export does not write them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("candidates", sa.Column("display_name", sa.String(length=100), nullable=True))
    op.add_column("workplaces", sa.Column("job_specialist_id", sa.String(), nullable=True))
    op.create_index("ix_workplaces_job_specialist_id", "workplaces", ["job_specialist_id"])
    op.create_table(
        "record_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("table_name IN ('candidates', 'workplaces')", name=op.f("ck_record_changes_table_name")),
        sa.PrimaryKeyConstraint("id", name="pk_record_changes"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_record_changes_table_name_record_id", "record_changes", ["table_name", "record_id"])
    op.create_table(
        "presentations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.String(), nullable=False),
        sa.Column("workplace_id", sa.String(), nullable=False),
        sa.Column("presented_by", sa.String(), nullable=False),
        sa.Column("presented_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.candidate_id"], name="fk_presentations_candidate_id_candidates"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"], ["workplaces.workplace_id"], name="fk_presentations_workplace_id_workplaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_presentations"),
        sa.UniqueConstraint("candidate_id", "workplace_id", name="uq_presentations_candidate_id_workplace_id"),
    )
    op.create_index("ix_presentations_candidate_id", "presentations", ["candidate_id"])
    op.create_index("ix_presentations_workplace_id", "presentations", ["workplace_id"])


def downgrade() -> None:
    op.drop_index("ix_presentations_workplace_id", table_name="presentations")
    op.drop_index("ix_presentations_candidate_id", table_name="presentations")
    op.drop_table("presentations")
    op.drop_index("ix_record_changes_table_name_record_id", table_name="record_changes")
    op.drop_table("record_changes")
    op.drop_index("ix_workplaces_job_specialist_id", table_name="workplaces")
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch would copy the tables other rows refer to
    op.drop_column("workplaces", "job_specialist_id")
    op.drop_column("candidates", "display_name")
