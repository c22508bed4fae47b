"""The stream sequence of the event that gave each statistics fact and catalog code

Placements and statuses cut each other's periods, and a code takes its group from the latest event
naming it, in the order personnel published them, whatever order they reach reports in. Rows
written before hold 0; a rebuild (`POST /v1/statistics/rebuild`)
gives every fact its sequence.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("stat_facts", sa.Column("sequence", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("stat_codes", sa.Column("sequence", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("stat_codes", "sequence")
    op.drop_column("stat_facts", "sequence")
