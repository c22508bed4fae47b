"""Baseline: the schema of the first release

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backup_sets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stores", sa.String(length=1024), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("failure", sa.String(length=1024), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_backup_sets_created_at"), "backup_sets", ["created_at"], unique=False)
    op.create_index(op.f("ix_backup_sets_status"), "backup_sets", ["status"], unique=False)
    op.create_table(
        "backups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_backups_created_at"), "backups", ["created_at"], unique=False)
    op.create_index(op.f("ix_backups_store"), "backups", ["store"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["seq"], unique=False, postgresql_where="published_at IS NULL")
    op.create_table(
        "backup_drills",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("set_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.String(length=1024), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["backup_sets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_backup_drills_set_id"), "backup_drills", ["set_id"], unique=False)
    op.create_index(op.f("ix_backup_drills_started_at"), "backup_drills", ["started_at"], unique=False)
    op.create_index(op.f("ix_backup_drills_status"), "backup_drills", ["status"], unique=False)
    op.create_table(
        "backup_restore_leases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("set_id", sa.String(length=36), nullable=False),
        sa.Column("backup_id", sa.String(length=36), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["backup_sets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_backup_restore_leases_set_id"), "backup_restore_leases", ["set_id"], unique=False)
    op.create_table(
        "backup_restores",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("set_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("target_suffix", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_by_username", sa.String(length=255), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("switched_by", sa.String(length=64), nullable=False),
        sa.Column("switched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.String(length=1024), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["backup_sets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_backup_restores_requested_at"), "backup_restores", ["requested_at"], unique=False)
    op.create_index(op.f("ix_backup_restores_set_id"), "backup_restores", ["set_id"], unique=False)
    op.create_index(op.f("ix_backup_restores_status"), "backup_restores", ["status"], unique=False)
    op.create_table(
        "backup_set_parts",
        sa.Column("backup_id", sa.String(length=36), nullable=False),
        sa.Column("set_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["backup_id"],
            ["backups.id"],
        ),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["backup_sets.id"],
        ),
        sa.PrimaryKeyConstraint("backup_id"),
    )
    op.create_index(op.f("ix_backup_set_parts_set_id"), "backup_set_parts", ["set_id"], unique=False)
    op.create_table(
        "backup_drill_parts",
        sa.Column("drill_id", sa.String(length=36), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("backup_id", sa.String(length=36), nullable=False),
        sa.Column("target", sa.String(length=63), nullable=False),
        sa.Column("expected_digest", sa.String(length=64), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["backup_id"],
            ["backups.id"],
        ),
        sa.ForeignKeyConstraint(
            ["drill_id"],
            ["backup_drills.id"],
        ),
        sa.PrimaryKeyConstraint("drill_id", "store"),
    )
    op.create_table(
        "backup_restore_parts",
        sa.Column("restore_id", sa.String(length=36), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("backup_id", sa.String(length=36), nullable=False),
        sa.Column("target", sa.String(length=63), nullable=False),
        sa.Column("expected_digest", sa.String(length=64), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("kept_as", sa.String(length=63), nullable=False),
        sa.Column("resent_events", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["backup_id"],
            ["backups.id"],
        ),
        sa.ForeignKeyConstraint(
            ["restore_id"],
            ["backup_restores.id"],
        ),
        sa.PrimaryKeyConstraint("restore_id", "store"),
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("backup_restore_parts")
    op.drop_table("backup_drill_parts")
    op.drop_index(op.f("ix_backup_set_parts_set_id"), table_name="backup_set_parts")
    op.drop_table("backup_set_parts")
    op.drop_index(op.f("ix_backup_restores_status"), table_name="backup_restores")
    op.drop_index(op.f("ix_backup_restores_set_id"), table_name="backup_restores")
    op.drop_index(op.f("ix_backup_restores_requested_at"), table_name="backup_restores")
    op.drop_table("backup_restores")
    op.drop_index(op.f("ix_backup_restore_leases_set_id"), table_name="backup_restore_leases")
    op.drop_table("backup_restore_leases")
    op.drop_index(op.f("ix_backup_drills_status"), table_name="backup_drills")
    op.drop_index(op.f("ix_backup_drills_started_at"), table_name="backup_drills")
    op.drop_index(op.f("ix_backup_drills_set_id"), table_name="backup_drills")
    op.drop_table("backup_drills")
    op.drop_index("ix_outbox_unpublished", table_name="outbox", postgresql_where="published_at IS NULL")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_backups_store"), table_name="backups")
    op.drop_index(op.f("ix_backups_created_at"), table_name="backups")
    op.drop_table("backups")
    op.drop_index(op.f("ix_backup_sets_status"), table_name="backup_sets")
    op.drop_index(op.f("ix_backup_sets_created_at"), table_name="backup_sets")
    op.drop_table("backup_sets")
    # ### end Alembic commands ###
