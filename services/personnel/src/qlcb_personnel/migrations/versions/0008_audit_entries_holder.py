"""The holder of a purpose account, kept with each audit entry

An entry of a purpose account named the civil servant who held it by looking the holder history up
when the entry was read, so that a hand-over recorded later (or a copy of the history changed) named
someone else for what had been done. The holder known when the entry is written is now kept with it
and covered by its hash; entries written before keep none (NULL) and are looked up as before.

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
    op.add_column("audit_entries", sa.Column("holder_name", sa.String(length=150), nullable=True))
    op.add_column("audit_entries", sa.Column("holder_personal_id", sa.String(length=12), nullable=True))
    op.add_column("audit_entries", sa.Column("holder_folded", sa.String(length=150), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_entries", "holder_folded")
    op.drop_column("audit_entries", "holder_personal_id")
    op.drop_column("audit_entries", "holder_name")
