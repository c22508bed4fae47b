"""Who sent each report's current submission, so that the sender does not approve it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("report_assignments", sa.Column("submitted_by", sa.String(255), nullable=True))
    # The sender of a report already sent is the account of its last "submitted" step.
    op.execute(
        """
        UPDATE report_assignments SET submitted_by = (
            SELECT t.account FROM report_transitions t
            WHERE t.assignment_id = report_assignments.id AND t.action = 'submitted'
            ORDER BY t.occurred_at DESC, t.version DESC LIMIT 1
        )
        WHERE submitted_at IS NOT NULL
        """
    )


def downgrade() -> None:
    op.drop_column("report_assignments", "submitted_by")
