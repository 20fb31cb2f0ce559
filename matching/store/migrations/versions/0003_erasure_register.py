"""The erasure register: persons whose personal data was erased, by a keyed hash of their id.

`jobmatch load` and every upsert of candidates skip an id whose hash is here, so the same source
data does not bring an erased person back. Nothing in it names the person: the hash is an
HMAC-SHA256 under a key kept outside the database; `key_id` fingerprints that key.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_hash", sa.String(), nullable=False),
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_by", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_erasures"),
        sa.UniqueConstraint("subject_hash", name="uq_erasures_subject_hash"),
    )


def downgrade() -> None:
    op.drop_table("erasures")
