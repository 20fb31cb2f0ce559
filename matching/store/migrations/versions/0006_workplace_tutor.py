"""The workplace's tutor: `workplaces.tutor_name`, the colleague who trains and looks out for a
trainee there, set by the job specialist who works with the workplace (store only: never loaded,
exported or used as a feature; the audit trail names the field, never the name). A plan drafted
at the workplace names the tutor.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workplaces", sa.Column("tutor_name", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column("workplaces", "tutor_name")
