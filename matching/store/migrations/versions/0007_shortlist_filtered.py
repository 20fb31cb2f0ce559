"""Why a shortlist is short: `shortlists.filtered`, how many workplaces each rule of candidate
generation removed for the person when the shortlist was made (not active, no free slot, beyond
the commute, a required support no one can arrange), and how many more a longer commute would
reach. Shortlists made before this revision have none.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("shortlists", sa.Column("filtered", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("shortlists", "filtered")
