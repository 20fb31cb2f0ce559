"""The person's answer in their own words: `person_answers.words`, free text kept with the answer
(personal data: never in the audit trail or logs, erased with the person, in their data export).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("person_answers", sa.Column("words", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("person_answers", "words")
