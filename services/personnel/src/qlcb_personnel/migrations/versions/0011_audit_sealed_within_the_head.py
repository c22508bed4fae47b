"""An audit entry is written unsealed, and sealed only within the chain's head

Migration 0009 let an unsealed entry be given its seal once, by anyone with a connection, and an entry
be inserted sealed: given a number far beyond the chain's head, the entry left the sealer's queue and
the verification's range (which reads up to the head) and went unseen. An entry is now refused if it
is inserted sealed, and a deferred trigger checks, as the transaction that seals commits, that each
entry it sealed is within the head as that transaction left it; moving the head on to cover it leaves
a gap the verification names.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION audit_entries_born_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL THEN
            RAISE EXCEPTION 'Mục nhật ký được ghi chưa niêm phong' USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_entries_born_unsealed BEFORE INSERT ON audit_entries
        FOR EACH ROW EXECUTE FUNCTION audit_entries_born_unsealed()
        """
    )
    op.execute(
        """
        CREATE FUNCTION audit_entries_within_head() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.seq > COALESCE((SELECT seq FROM audit_chain_head WHERE id = 1), 0) THEN
            RAISE EXCEPTION 'Mục nhật ký số % được niêm phong ngoài đầu chuỗi', NEW.seq
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER audit_entries_within_head AFTER UPDATE ON audit_entries
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (OLD.seq IS NULL AND NEW.seq IS NOT NULL)
        EXECUTE FUNCTION audit_entries_within_head()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER audit_entries_within_head ON audit_entries")
    op.execute("DROP FUNCTION audit_entries_within_head()")
    op.execute("DROP TRIGGER audit_entries_born_unsealed ON audit_entries")
    op.execute("DROP FUNCTION audit_entries_born_unsealed()")
