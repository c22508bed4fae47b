"""Statistics profiles stored for several days: today's and each recent year's 31 December (ADR 0037)

The profiles gain a slot (0: today's, moved on each day; a year: its 31 December). What was stored is
derived data: the tables are made again empty, and the statistics supervisor computes the profiles of
the serving generation at its next steps. The facts gain two indexes, by the day they begin and the
day they end, through which a form of another day finds whose profile differs from a stored one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_stat_profiles_unit", table_name="stat_profiles")
    op.drop_table("stat_profiles")
    op.drop_table("stat_profile_days")
    op.create_table(
        "stat_profile_days",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("generation", "slot"),
    )
    op.create_table(
        "stat_profiles",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("generation", "slot", "person_id", "unit_id"),
    )
    op.create_index("ix_stat_profiles_unit", "stat_profiles", ["generation", "slot", "unit_id"], unique=False)
    op.create_index("ix_stat_facts_begins", "stat_facts", ["generation", "valid_from", "person_id"], unique=False)
    op.create_index("ix_stat_facts_ends", "stat_facts", ["generation", "valid_to", "person_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_stat_facts_ends", table_name="stat_facts")
    op.drop_index("ix_stat_facts_begins", table_name="stat_facts")
    op.drop_index("ix_stat_profiles_unit", table_name="stat_profiles")
    op.drop_table("stat_profiles")
    op.drop_table("stat_profile_days")
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
