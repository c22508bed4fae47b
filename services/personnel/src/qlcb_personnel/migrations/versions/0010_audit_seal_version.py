"""What the sealer hashed, kept with each sealed audit entry; the trail searched by holder

The hash covers the purpose account's holder (0008), but a replica of the code before it, sealing
while an upgrade rolls out, hashes without it: the verification then took its entries for altered.
Each entry now keeps the version of the sealer that hashed it (None for the earlier one), and is
verified as it was hashed. An index serves the trail's search by the holder's personal id.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_entries", sa.Column("seal_version", sa.SmallInteger(), nullable=True))
    op.create_index("ix_audit_entries_holder", "audit_entries", ["holder_personal_id", "occurred_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_entries_holder", table_name="audit_entries")
    op.drop_column("audit_entries", "seal_version")
