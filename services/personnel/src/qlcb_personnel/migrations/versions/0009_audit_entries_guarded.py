"""The audit trail guarded by the database: entries are never deleted and change only as sealed

An audit entry could be edited or deleted in the moment before the sealer chained it, and the
chain's head row wound back, by any statement of the service's role, with nothing to show for it
(ADR 0050). On PostgreSQL, triggers now refuse deleting or truncating entries, changing anything of
an entry but its seal (seq and hashes, set once, on an unsealed entry), and moving the chain's head
anywhere but forwards. Getting past them takes turning them off, which only the tables' owner can.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONTENT = (
    "id, occurred_at, transaction_id, account, subject, tiers, action, target, target_id, person_id, "
    "unit_path, details::text, holder_name, holder_personal_id, holder_folded"
)
_OLD = ", ".join(f"OLD.{c}" for c in _CONTENT.split(", "))
_NEW = ", ".join(f"NEW.{c}" for c in _CONTENT.split(", "))

_STATEMENTS = (
    f"""
    CREATE FUNCTION audit_entries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'Mục nhật ký không bao giờ bị xoá' USING ERRCODE = 'insufficient_privilege';
      END IF;
      IF OLD.seq IS NOT NULL OR NEW.seq IS NULL OR NEW.hash IS NULL OR NEW.prev_hash IS NULL
         OR ROW({_NEW}) IS DISTINCT FROM ROW({_OLD}) THEN
        RAISE EXCEPTION 'Mục nhật ký chỉ được niêm phong một lần và không bao giờ bị sửa'
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER audit_entries_guard BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_guard()
    """,
    """
    CREATE TRIGGER audit_entries_not_truncated BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_guard()
    """,
    """
    CREATE FUNCTION audit_chain_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'Đầu chuỗi nhật ký không bao giờ bị xoá' USING ERRCODE = 'insufficient_privilege';
      END IF;
      IF NEW.id <> OLD.id OR NEW.seq < OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash <> OLD.hash) THEN
        RAISE EXCEPTION 'Đầu chuỗi nhật ký chỉ tiến lên' USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER audit_chain_head_guard BEFORE UPDATE OR DELETE ON audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard()
    """,
    """
    CREATE TRIGGER audit_chain_head_not_truncated BEFORE TRUNCATE ON audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_guard()
    """,
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("audit_chain_head", "audit_entries"):
        op.execute(f"DROP TRIGGER {table}_not_truncated ON {table}")
        op.execute(f"DROP TRIGGER {table}_guard ON {table}")
        op.execute(f"DROP FUNCTION {table}_guard()")
