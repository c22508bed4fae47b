"""Identity keeps the records' appointments, and a review may ask for one tier to be taken away
(R-ACC-8: a head whose appointments have all ended keeps no unit-leader tier)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("personal_id", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("head", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("retracted", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("settled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.create_index("ix_appointments_personal_id", "appointments", ["personal_id"])
    op.create_index("ix_appointments_unsettled", "appointments", ["settled", "valid_to"])
    op.add_column("account_reviews", sa.Column("revoke_tier", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("account_reviews", "revoke_tier")
    op.drop_table("appointments")
