"""The holder of a purpose account, kept with each report step and signing-key change

A step taken with a purpose account named its holder by looking the holder history up by day when
it was read: a hand-over later the same day made the morning's steps the next holder's. The holder
the copy knew when the step was taken is now kept with it (ADR 0047); steps taken before keep none
(NULL) and are looked up as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("report_transitions", sa.Column("holder_name", sa.String(length=150), nullable=True))
    op.add_column("signing_key_changes", sa.Column("holder_name", sa.String(length=150), nullable=True))


def downgrade() -> None:
    op.drop_column("signing_key_changes", "holder_name")
    op.drop_column("report_transitions", "holder_name")
