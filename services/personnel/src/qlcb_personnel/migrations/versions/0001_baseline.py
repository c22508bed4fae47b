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


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgresql():
        # Trigram indexes for name search (ADR 0015). A trusted extension: the database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "account_holders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("unit_path", sa.String(length=1024), nullable=False),
        sa.Column("holder_name", sa.String(length=150), nullable=False),
        sa.Column("holder_personal_id", sa.String(length=12), nullable=True),
        sa.Column("holder_folded", sa.String(length=150), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("held_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_account_holders_account", "account_holders", ["account", "valid_from"], unique=False)
    op.create_index(
        op.f("ix_account_holders_holder_personal_id"), "account_holders", ["holder_personal_id"], unique=False
    )
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transaction_id", sa.String(length=36), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("tiers", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=255), nullable=True),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("unit_path", sa.String(length=1024), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    op.create_index("ix_audit_entries_account", "audit_entries", ["account", "occurred_at"], unique=False)
    op.create_index(op.f("ix_audit_entries_occurred_at"), "audit_entries", ["occurred_at"], unique=False)
    op.create_index("ix_audit_entries_person", "audit_entries", ["person_id", "occurred_at"], unique=False)
    op.create_index(
        "ix_audit_entries_unit",
        "audit_entries",
        ["unit_path", "occurred_at"],
        unique=False,
        postgresql_ops={"unit_path": "varchar_pattern_ops"},
    )
    op.create_index(
        "ix_audit_entries_unsealed",
        "audit_entries",
        ["occurred_at", "id"],
        unique=False,
        postgresql_where="seq IS NULL",
    )
    op.create_table(
        "catalog_values",
        sa.Column("catalog", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("stat_group", sa.String(length=32), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("legal_basis", sa.String(length=1000), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("catalog", "code", "valid_from"),
    )
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
        "decision_documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("body", sa.String(length=255), nullable=False),
        sa.Column("signer", sa.String(length=150), nullable=False),
        sa.Column("signer_post", sa.String(length=255), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("cancel_number", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number", "decision_date"),
    )
    op.create_index("ix_decision_documents_due", "decision_documents", ["state", "effective_date"], unique=False)
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
        "units",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("path"),
    )
    op.create_index(op.f("ix_units_parent_id"), "units", ["parent_id"], unique=False)
    op.create_table(
        "persons",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("personal_id", sa.String(length=12), nullable=False),
        sa.Column("staff_number", sa.String(length=20), nullable=False),
        sa.Column("full_name", sa.String(length=150), nullable=False),
        sa.Column("name_folded", sa.String(length=150), nullable=False),
        sa.Column("name_sort", sa.LargeBinary(length=1024), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("personal_id"),
        sa.UniqueConstraint("staff_number"),
    )
    op.create_index("ix_persons_date_of_birth", "persons", ["date_of_birth", "id"], unique=False)
    op.create_index("ix_persons_name_sort", "persons", ["name_sort", "id"], unique=False)
    if _postgresql():
        op.create_index(
            "ix_persons_name_words",
            "persons",
            [sa.literal_column("(' ' || name_folded) gin_trgm_ops")],
            unique=False,
            postgresql_using="gin",
        )
    op.create_index("ix_persons_unit", "persons", ["unit_id", "id"], unique=False)
    op.create_table(
        "unit_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("change", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("dissolved", sa.Boolean(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("decision", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_unit_changes_effective_date"), "unit_changes", ["effective_date"], unique=False)
    op.create_index(op.f("ix_unit_changes_unit_id"), "unit_changes", ["unit_id"], unique=False)
    op.create_table(
        "unit_quotas",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("decision", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_unit_quotas_year_unit", "unit_quotas", ["year", "unit_id", "effective_date", "recorded_at"], unique=False
    )
    op.create_table(
        "decision_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("entry_id", sa.String(length=36), nullable=True),
        sa.Column("status_entry_id", sa.String(length=36), nullable=True),
        sa.Column("previous_status", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decision_documents.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("decision_id", "person_id"),
    )
    op.create_index(op.f("ix_decision_items_decision_id"), "decision_items", ["decision_id"], unique=False)
    op.create_index(op.f("ix_decision_items_person_id"), "decision_items", ["person_id"], unique=False)
    op.create_table(
        "entry_deadlines",
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.create_index(
        "ix_entry_deadlines_late",
        "entry_deadlines",
        ["entered_on", "entry_id"],
        unique=False,
        postgresql_where=sa.text("late"),
        sqlite_where=sa.text("late"),
    )
    op.create_index(
        "ix_entry_deadlines_unit_day",
        "entry_deadlines",
        ["unit_id", "entered_on"],
        unique=False,
        postgresql_include=["late", "section", "person_id"],
    )
    op.create_table(
        "person_statuses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("decision", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_person_statuses_person_id"), "person_statuses", ["person_id"], unique=False)
    op.create_table(
        "record_entries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("decision_number", sa.String(length=100), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("decision_body", sa.String(length=255), nullable=True),
        sa.Column("decision_signer", sa.String(length=150), nullable=True),
        sa.Column("decision_signer_post", sa.String(length=255), nullable=True),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=True),
        sa.Column("closed_entry_id", sa.String(length=36), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retracted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id", "version"),
    )
    op.create_index(
        "ix_record_entries_current",
        "record_entries",
        ["person_id", "section", "valid_from"],
        unique=False,
        postgresql_where=sa.text("superseded_at IS NULL"),
        sqlite_where=sa.text("superseded_at IS NULL"),
    )
    op.create_index(op.f("ix_record_entries_decision_id"), "record_entries", ["decision_id"], unique=False)
    op.create_index(op.f("ix_record_entries_entry_id"), "record_entries", ["entry_id"], unique=False)
    op.create_table(
        "search_facts",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.Column("fact", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=36), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("person_id", "source_id", "fact"),
    )
    op.create_index(
        "ix_search_facts_lookup", "search_facts", ["fact", "value", "valid_to", "valid_from", "person_id"], unique=False
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("from_unit_id", sa.String(length=36), nullable=False),
        sa.Column("to_unit_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("decision", sa.String(length=100), nullable=False),
        sa.Column("sent_by", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_unit_id"],
            ["units.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_transfers_from_unit_id"), "transfers", ["from_unit_id"], unique=False)
    op.create_index(op.f("ix_transfers_person_id"), "transfers", ["person_id"], unique=False)
    op.create_index(op.f("ix_transfers_to_unit_id"), "transfers", ["to_unit_id"], unique=False)
    op.create_index(
        "one_open_transfer_per_person",
        "transfers",
        ["person_id"],
        unique=True,
        postgresql_where=sa.text("status = 'TRANSFER_STATUS_SENT'"),
        sqlite_where=sa.text("status = 'TRANSFER_STATUS_SENT'"),
    )


def downgrade() -> None:
    op.drop_index(
        "one_open_transfer_per_person",
        table_name="transfers",
        postgresql_where=sa.text("status = 'TRANSFER_STATUS_SENT'"),
        sqlite_where=sa.text("status = 'TRANSFER_STATUS_SENT'"),
    )
    op.drop_index(op.f("ix_transfers_to_unit_id"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_person_id"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_from_unit_id"), table_name="transfers")
    op.drop_table("transfers")
    op.drop_index("ix_search_facts_lookup", table_name="search_facts")
    op.drop_table("search_facts")
    op.drop_index(op.f("ix_record_entries_entry_id"), table_name="record_entries")
    op.drop_index(op.f("ix_record_entries_decision_id"), table_name="record_entries")
    op.drop_index(
        "ix_record_entries_current",
        table_name="record_entries",
        postgresql_where=sa.text("superseded_at IS NULL"),
        sqlite_where=sa.text("superseded_at IS NULL"),
    )
    op.drop_table("record_entries")
    op.drop_index(op.f("ix_person_statuses_person_id"), table_name="person_statuses")
    op.drop_table("person_statuses")
    op.drop_index(
        "ix_entry_deadlines_unit_day", table_name="entry_deadlines", postgresql_include=["late", "section", "person_id"]
    )
    op.drop_index(
        "ix_entry_deadlines_late",
        table_name="entry_deadlines",
        postgresql_where=sa.text("late"),
        sqlite_where=sa.text("late"),
    )
    op.drop_table("entry_deadlines")
    op.drop_index(op.f("ix_decision_items_person_id"), table_name="decision_items")
    op.drop_index(op.f("ix_decision_items_decision_id"), table_name="decision_items")
    op.drop_table("decision_items")
    op.drop_index("ix_unit_quotas_year_unit", table_name="unit_quotas")
    op.drop_table("unit_quotas")
    op.drop_index(op.f("ix_unit_changes_unit_id"), table_name="unit_changes")
    op.drop_index(op.f("ix_unit_changes_effective_date"), table_name="unit_changes")
    op.drop_table("unit_changes")
    op.drop_index("ix_persons_unit", table_name="persons")
    if _postgresql():
        op.drop_index("ix_persons_name_words", table_name="persons", postgresql_using="gin")
    op.drop_index("ix_persons_name_sort", table_name="persons")
    op.drop_index("ix_persons_date_of_birth", table_name="persons")
    op.drop_table("persons")
    op.drop_index(op.f("ix_units_parent_id"), table_name="units")
    op.drop_table("units")
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_unpublished", table_name="outbox", postgresql_where="published_at IS NULL")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_delegations_unit_path"), table_name="delegations")
    op.drop_table("delegations")
    op.drop_index("ix_decision_documents_due", table_name="decision_documents")
    op.drop_table("decision_documents")
    op.drop_table("dead_letters")
    op.drop_table("catalog_values")
    op.drop_index("ix_audit_entries_unsealed", table_name="audit_entries", postgresql_where="seq IS NULL")
    op.drop_index(
        "ix_audit_entries_unit", table_name="audit_entries", postgresql_ops={"unit_path": "varchar_pattern_ops"}
    )
    op.drop_index("ix_audit_entries_person", table_name="audit_entries")
    op.drop_index(op.f("ix_audit_entries_occurred_at"), table_name="audit_entries")
    op.drop_index("ix_audit_entries_account", table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_table("audit_chain_head")
    op.drop_index(op.f("ix_account_holders_holder_personal_id"), table_name="account_holders")
    op.drop_index("ix_account_holders_account", table_name="account_holders")
    op.drop_table("account_holders")
