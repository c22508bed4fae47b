"""The stream sequence of the event each unit node and each statistics quota holds

A unit's name and place, and a quota of a date, are what the latest published event gives, whatever
order the events reach reports in. Rows written before hold 0: the next event about one replaces what
it holds, as every event did before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("unit_nodes", sa.Column("sequence", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("stat_quotas", sa.Column("sequence", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("stat_quotas", "sequence")
    op.drop_column("unit_nodes", "sequence")
