"""A periodic regime opens each of its periods by itself (R-REP-2)

Regimes kept until now are periodic ones whose periods their issuers opened by hand: they open by
themselves from now on, from the period that takes in the day of the upgrade; the others never do.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("report_regimes", sa.Column("opens_periods", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE report_regimes SET opens_periods = (kind = 'periodic')")


def downgrade() -> None:
    op.drop_column("report_regimes", "opens_periods")
