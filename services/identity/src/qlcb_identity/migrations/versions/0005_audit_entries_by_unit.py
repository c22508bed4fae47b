"""The unit each account audit entry concerns, so that the unit's account admin reads it (R-AUD-1)

Entries written before are given the unit their target names where identity's own tables tell it:
an account request's unit, a delegation's, a quota's, a purpose account's, and an account issued on
a request (the unit it was issued for). Entries of any other kind keep none: the system admin reads
them, as before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BY_TARGET = (
    # (the actions, the table and column that hold the unit, the column the target matches)
    ("account_request.%", "account_requests", "unit_path", "id"),
    ("purpose_account.%", "purpose_accounts", "unit_path", "username"),
    ("account.%", "purpose_accounts", "unit_path", "username"),
    ("account.%", "account_requests", "unit_path", "username"),
)


def upgrade() -> None:
    op.add_column("audit_entries", sa.Column("unit_path", sa.String(length=1024), nullable=True))
    op.create_index(
        "ix_audit_entries_unit",
        "audit_entries",
        ["unit_path", "at"],
        postgresql_ops={"unit_path": "varchar_pattern_ops"},
    )
    for actions, table, column, key in _BY_TARGET:
        op.execute(
            f"""
            UPDATE audit_entries SET unit_path = (
                SELECT t.{column} FROM {table} t WHERE t.{key} = audit_entries.target
            )
            WHERE unit_path IS NULL AND action LIKE '{actions}'
            """
        )
    op.execute("UPDATE audit_entries SET unit_path = target WHERE action IN ('delegation.grant', 'delegation.revoke')")
    connection = op.get_bind()
    entries = sa.table(
        "audit_entries", sa.column("id", sa.String), sa.column("target", sa.String), sa.column("unit_path", sa.String)
    )
    quotas = connection.execute(sa.select(entries.c.id, entries.c.target).where(sa.text("action = 'quota.set'"))).all()
    for entry_id, target in quotas:
        connection.execute(
            sa.update(entries).where(entries.c.id == entry_id).values(unit_path=target.rsplit("#", 1)[0])
        )


def downgrade() -> None:
    op.drop_index("ix_audit_entries_unit", table_name="audit_entries")
    op.drop_column("audit_entries", "unit_path")
