"""The day a report was sent by another channel while the system was down (004 Điều 9.4)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("report_assignments", sa.Column("sent_otherwise_on", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("report_assignments", "sent_otherwise_on")
