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
        "account_holders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("holder_name", sa.String(length=150), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_account_holders_account", "account_holders", ["account", "valid_from"], unique=False)
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("stream", sa.String(length=100), nullable=False),
        sa.Column("stream_sequence", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("consumer", "stream", "stream_sequence"),
    )
    op.create_table(
        "delegations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("unit_path", sa.String(length=1024), nullable=False),
        sa.Column("tiers", sa.String(length=255), nullable=False),
        sa.Column("sections", sa.String(length=255), nullable=False),
        sa.Column("actions", sa.String(length=64), nullable=False),
        sa.Column("target_unit_path", sa.String(length=1024), nullable=True),
        sa.Column("person_ids", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_delegations_unit_path"), "delegations", ["unit_path"], unique=False)
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
        "processed_events",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "report_regimes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("legal_basis", sa.String(length=1000), nullable=False),
        sa.Column("issuer_unit_id", sa.String(length=36), nullable=False),
        sa.Column("unit_kinds", sa.JSON(), nullable=False),
        sa.Column("unit_levels", sa.JSON(), nullable=False),
        sa.Column("cutoff_day", sa.Integer(), nullable=False),
        sa.Column("deadline_days", sa.Integer(), nullable=False),
        sa.Column("deadline_counting", sa.String(length=16), nullable=False),
        sa.Column("reminder_days", sa.Integer(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "report_transitions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("period_id", sa.String(length=36), nullable=False),
        sa.Column("unit_path", sa.String(length=1024), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("tiers", sa.String(length=255), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_report_transitions_assignment", "report_transitions", ["assignment_id", "occurred_at"], unique=False
    )
    op.create_table(
        "signing_authority",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("crl_number", sa.Integer(), nullable=False),
        sa.Column("crl_der", sa.LargeBinary(), nullable=False),
        sa.Column("crl_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "signing_key_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("unit_name", sa.String(length=255), nullable=False),
        sa.Column("unit_path", sa.String(length=1024), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("previous_serial", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("tiers", sa.String(length=255), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signing_key_changes_unit", "signing_key_changes", ["unit_id", "occurred_at"], unique=False)
    op.create_table(
        "signing_unit_certificates",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("unit_name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=255), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=255), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_index(
        "ix_signing_unit_active",
        "signing_unit_certificates",
        ["unit_id"],
        unique=True,
        postgresql_where="state = 'active'",
    )
    op.create_index(
        op.f("ix_signing_unit_certificates_unit_id"), "signing_unit_certificates", ["unit_id"], unique=False
    )
    op.create_table(
        "unit_nodes",
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dissolved_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("unit_id"),
    )
    op.create_index(op.f("ix_unit_nodes_path"), "unit_nodes", ["path"], unique=False)
    op.create_table(
        "report_periods",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("regime_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["regime_id"],
            ["report_regimes.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("regime_id", "key"),
    )
    op.create_table(
        "report_template_versions",
        sa.Column("regime_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("outline", sa.Text(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["regime_id"],
            ["report_regimes.id"],
        ),
        sa.PrimaryKeyConstraint("regime_id", "version"),
    )
    op.create_table(
        "signed_documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("certificate_serial", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_serial"],
            ["signing_unit_certificates.serial"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "owner_id", "version"),
    )
    op.create_table(
        "unit_headcounts",
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("headcount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit_nodes.unit_id"],
        ),
        sa.PrimaryKeyConstraint("unit_id"),
    )
    op.create_table(
        "report_assignments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("period_id", sa.String(length=36), nullable=False),
        sa.Column("regime_id", sa.String(length=36), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("unit_path", sa.String(length=1024), nullable=False),
        sa.Column("unit_name", sa.String(length=255), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("approver_unit_id", sa.String(length=36), nullable=False),
        sa.Column("approver_path", sa.String(length=1024), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("indicator_codes", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("first_submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=255), nullable=True),
        sa.Column("returned_reason", sa.Text(), nullable=True),
        sa.Column("correction_open", sa.Boolean(), nullable=False),
        sa.Column("reopened_until", sa.Date(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["report_assignments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["report_periods.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period_id", "unit_id"),
    )
    op.create_index(
        "ix_report_assignments_due",
        "report_assignments",
        ["deadline"],
        unique=False,
        postgresql_where="state IN ('not_started', 'draft', 'returned')",
    )
    op.create_index(op.f("ix_report_assignments_parent_id"), "report_assignments", ["parent_id"], unique=False)
    op.create_index(
        "ix_report_assignments_scope",
        "report_assignments",
        ["period_id", "unit_path"],
        unique=False,
        postgresql_ops={"unit_path": "varchar_pattern_ops"},
    )
    op.create_table(
        "report_sent_outside",
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["report_assignments.id"],
        ),
        sa.PrimaryKeyConstraint("assignment_id"),
    )
    op.create_table(
        "rollup_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("report_version", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("regime_id", sa.String(length=36), nullable=False),
        sa.Column("regime_code", sa.String(length=32), nullable=False),
        sa.Column("period_id", sa.String(length=36), nullable=False),
        sa.Column("period_key", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("unit_name", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["report_assignments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assignment_id", "report_version"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index(op.f("ix_rollup_deliveries_assignment_id"), "rollup_deliveries", ["assignment_id"], unique=False)
    op.create_index(
        "ix_rollup_deliveries_due",
        "rollup_deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    op.create_index("ix_rollup_deliveries_period", "rollup_deliveries", ["period_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rollup_deliveries_period", table_name="rollup_deliveries")
    op.drop_index("ix_rollup_deliveries_due", table_name="rollup_deliveries", postgresql_where="status = 'pending'")
    op.drop_index(op.f("ix_rollup_deliveries_assignment_id"), table_name="rollup_deliveries")
    op.drop_table("rollup_deliveries")
    op.drop_table("report_sent_outside")
    op.drop_index(
        "ix_report_assignments_scope",
        table_name="report_assignments",
        postgresql_ops={"unit_path": "varchar_pattern_ops"},
    )
    op.drop_index(op.f("ix_report_assignments_parent_id"), table_name="report_assignments")
    op.drop_index(
        "ix_report_assignments_due",
        table_name="report_assignments",
        postgresql_where="state IN ('not_started', 'draft', 'returned')",
    )
    op.drop_table("report_assignments")
    op.drop_table("unit_headcounts")
    op.drop_table("signed_documents")
    op.drop_table("report_template_versions")
    op.drop_table("report_periods")
    op.drop_index(op.f("ix_unit_nodes_path"), table_name="unit_nodes")
    op.drop_table("unit_nodes")
    op.drop_index(op.f("ix_signing_unit_certificates_unit_id"), table_name="signing_unit_certificates")
    op.drop_index("ix_signing_unit_active", table_name="signing_unit_certificates", postgresql_where="state = 'active'")
    op.drop_table("signing_unit_certificates")
    op.drop_index("ix_signing_key_changes_unit", table_name="signing_key_changes")
    op.drop_table("signing_key_changes")
    op.drop_table("signing_authority")
    op.drop_index("ix_report_transitions_assignment", table_name="report_transitions")
    op.drop_table("report_transitions")
    op.drop_table("report_regimes")
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_unpublished", table_name="outbox", postgresql_where="published_at IS NULL")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_delegations_unit_path"), table_name="delegations")
    op.drop_table("delegations")
    op.drop_table("dead_letters")
    op.drop_index("ix_account_holders_account", table_name="account_holders")
    op.drop_table("account_holders")
