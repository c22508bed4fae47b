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
        "account_incidents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("reported_by", sa.String(length=255), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reset_by", sa.String(length=255), nullable=True),
        sa.Column("reset_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_account_incidents_username"), "account_incidents", ["username"], unique=False)
    op.create_table(
        "account_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("holder_name", sa.String(length=150), nullable=False),
        sa.Column("holder_personal_id", sa.String(length=12), nullable=True),
        sa.Column("holder_email", sa.String(length=255), nullable=False),
        sa.Column("unit_path", sa.String(length=1024), nullable=False),
        sa.Column("division", sa.String(length=255), nullable=False),
        sa.Column("position", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("account_types", sa.JSON(), nullable=False),
        sa.Column("reply_name", sa.String(length=150), nullable=False),
        sa.Column("reply_unit", sa.String(length=255), nullable=False),
        sa.Column("reply_email", sa.String(length=255), nullable=False),
        sa.Column("reply_phone", sa.String(length=20), nullable=False),
        sa.Column("requester_name", sa.String(length=150), nullable=False),
        sa.Column("dedup_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_by_username", sa.String(length=255), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consented_by", sa.String(length=64), nullable=True),
        sa.Column("consented_by_username", sa.String(length=255), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_by_username", sa.String(length=255), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("keycloak_user_id", sa.String(length=64), nullable=True),
        sa.Column("unlinked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_index(op.f("ix_account_requests_dedup_key"), "account_requests", ["dedup_key"], unique=False)
    op.create_index(op.f("ix_account_requests_due_at"), "account_requests", ["due_at"], unique=False)
    op.create_index(
        op.f("ix_account_requests_holder_personal_id"), "account_requests", ["holder_personal_id"], unique=False
    )
    op.create_index(op.f("ix_account_requests_status"), "account_requests", ["status"], unique=False)
    op.create_index(op.f("ix_account_requests_unit_path"), "account_requests", ["unit_path"], unique=False)
    op.create_index(
        "one_open_request_per_holder",
        "account_requests",
        ["dedup_key"],
        unique=True,
        postgresql_where=sa.text("status IN ('submitted', 'consented', 'approved')"),
        sqlite_where=sa.text("status IN ('submitted', 'consented', 'approved')"),
    )
    op.create_table(
        "account_reviews",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("unit_path", sa.String(length=1024), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=255), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_account_reviews_username"), "account_reviews", ["username"], unique=False)
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_subject", sa.String(length=64), nullable=False),
        sa.Column("actor_username", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_entries_action"), "audit_entries", ["action"], unique=False)
    op.create_index(op.f("ix_audit_entries_at"), "audit_entries", ["at"], unique=False)
    op.create_index(op.f("ix_audit_entries_target"), "audit_entries", ["target"], unique=False)
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
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("target_unit_path", sa.String(length=1024), nullable=True),
        sa.Column("person_ids", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("granted_by", sa.String(length=255), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(length=255), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_delegations_unit_path"), "delegations", ["unit_path"], unique=False)
    op.create_table(
        "holders",
        sa.Column("personal_id", sa.String(length=12), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("full_name", sa.String(length=150), nullable=False),
        sa.Column("unit_path", sa.String(length=1024), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("personal_id"),
    )
    op.create_index(op.f("ix_holders_unit_path"), "holders", ["unit_path"], unique=False)
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
        "purpose_accounts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("unit_path", sa.String(length=1024), nullable=False),
        sa.Column("purpose", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("keycloak_user_id", sa.String(length=64), nullable=False),
        sa.Column("unlinked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_by", sa.String(length=255), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_index(op.f("ix_purpose_accounts_unit_path"), "purpose_accounts", ["unit_path"], unique=False)
    op.create_table(
        "unit_quotas",
        sa.Column("unit_path", sa.String(length=1024), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=255), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("unit_path", "kind"),
    )
    op.create_table(
        "credential_deliveries",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.Column("sealed_password", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_token", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_attempts", sa.Integer(), nullable=False),
        sa.Column("last_mail_error", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wiped_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["account_requests.id"],
        ),
        sa.PrimaryKeyConstraint("token_sha256"),
    )
    op.create_index(op.f("ix_credential_deliveries_expires_at"), "credential_deliveries", ["expires_at"], unique=False)
    op.create_index(op.f("ix_credential_deliveries_request_id"), "credential_deliveries", ["request_id"], unique=False)
    op.create_index(op.f("ix_credential_deliveries_username"), "credential_deliveries", ["username"], unique=False)
    op.create_index(op.f("ix_credential_deliveries_wiped_at"), "credential_deliveries", ["wiped_at"], unique=False)
    op.create_table(
        "holder_assignments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("holder_name", sa.String(length=150), nullable=False),
        sa.Column("holder_personal_id", sa.String(length=12), nullable=True),
        sa.Column("holder_email", sa.String(length=255), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["purpose_accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_holder_assignments_account_id"), "holder_assignments", ["account_id"], unique=False)
    op.create_index(
        op.f("ix_holder_assignments_holder_personal_id"), "holder_assignments", ["holder_personal_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_holder_assignments_holder_personal_id"), table_name="holder_assignments")
    op.drop_index(op.f("ix_holder_assignments_account_id"), table_name="holder_assignments")
    op.drop_table("holder_assignments")
    op.drop_index(op.f("ix_credential_deliveries_wiped_at"), table_name="credential_deliveries")
    op.drop_index(op.f("ix_credential_deliveries_username"), table_name="credential_deliveries")
    op.drop_index(op.f("ix_credential_deliveries_request_id"), table_name="credential_deliveries")
    op.drop_index(op.f("ix_credential_deliveries_expires_at"), table_name="credential_deliveries")
    op.drop_table("credential_deliveries")
    op.drop_table("unit_quotas")
    op.drop_index(op.f("ix_purpose_accounts_unit_path"), table_name="purpose_accounts")
    op.drop_table("purpose_accounts")
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_unpublished", table_name="outbox", postgresql_where="published_at IS NULL")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_holders_unit_path"), table_name="holders")
    op.drop_table("holders")
    op.drop_index(op.f("ix_delegations_unit_path"), table_name="delegations")
    op.drop_table("delegations")
    op.drop_table("dead_letters")
    op.drop_index(op.f("ix_audit_entries_target"), table_name="audit_entries")
    op.drop_index(op.f("ix_audit_entries_at"), table_name="audit_entries")
    op.drop_index(op.f("ix_audit_entries_action"), table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_index(op.f("ix_account_reviews_username"), table_name="account_reviews")
    op.drop_table("account_reviews")
    op.drop_index(
        "one_open_request_per_holder",
        table_name="account_requests",
        postgresql_where=sa.text("status IN ('submitted', 'consented', 'approved')"),
        sqlite_where=sa.text("status IN ('submitted', 'consented', 'approved')"),
    )
    op.drop_index(op.f("ix_account_requests_unit_path"), table_name="account_requests")
    op.drop_index(op.f("ix_account_requests_status"), table_name="account_requests")
    op.drop_index(op.f("ix_account_requests_holder_personal_id"), table_name="account_requests")
    op.drop_index(op.f("ix_account_requests_due_at"), table_name="account_requests")
    op.drop_index(op.f("ix_account_requests_dedup_key"), table_name="account_requests")
    op.drop_table("account_requests")
    op.drop_index(op.f("ix_account_incidents_username"), table_name="account_incidents")
    op.drop_table("account_incidents")
