"""Each person's statistics profile as of one day (ADR 0036)

A counting form of the profiles' day (today's) reads one row per person in service: their unit, sex,
birth date and the catalog groups they hold then as bits. Empty at first: the statistics supervisor
computes them for the serving generation at its next step.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stat_profile_days",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("generation"),
    )
    op.create_table(
        "stat_profiles",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("generation", "person_id", "unit_id"),
    )
    op.create_index("ix_stat_profiles_unit", "stat_profiles", ["generation", "unit_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_stat_profiles_unit", table_name="stat_profiles")
    op.drop_table("stat_profiles")
    op.drop_table("stat_profile_days")
