"""The day each unit was established, for the forms of an earlier day to leave it out

Empty for the units already held: the events that established them did not tell it (ADR 0041), so
their rows stay on the forms of every day, as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("unit_nodes", sa.Column("established_on", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("unit_nodes", "established_on")
