"""The people behind the accounts that prepared each report's figures, and the personal id of each
purpose account's holder, so that one person does not approve with one account what they prepared
with another

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Neither is backfilled: the steps already taken kept no personal id, and the holdings already
    # copied are told again with theirs only when identity next publishes them.
    op.add_column("report_assignments", sa.Column("prepared_people", sa.JSON(), nullable=True))
    op.add_column("account_holders", sa.Column("holder_personal_id", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("account_holders", "holder_personal_id")
    op.drop_column("report_assignments", "prepared_people")
