"""Names searched by the beginnings of their words, not by trigrams

A name search asks that each word typed begin a word of the folded name. pg_trgm's index answered it
as a LIKE per word, and the search counted every match through the table's pages after it; over a
million people the count of a common two-word name took 25–60 ms. A GIN index over the array of
every beginning of every word of the name answers it as one containment, in 9–38 ms (ADR 0042). The
array is the immutable function `name_prefixes` of the folded name, so nothing else is written with a
person. PostgreSQL only: the embedded SQLite store searches by LIKE without an index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_PREFIXES = """
CREATE OR REPLACE FUNCTION name_prefixes(folded text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT ARRAY(
    SELECT DISTINCT left(word, n)
    FROM unnest(string_to_array(folded, ' ')) AS word, generate_series(1, length(word)) AS n
  )
$$
"""


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return
    op.execute(NAME_PREFIXES)
    op.create_index(
        "ix_persons_name_prefixes",
        "persons",
        [sa.text("name_prefixes(name_folded)")],
        unique=False,
        postgresql_using="gin",
    )
    op.drop_index("ix_persons_name_words", table_name="persons")


def downgrade() -> None:
    if not _postgresql():
        return
    op.create_index(
        "ix_persons_name_words",
        "persons",
        [sa.literal_column("(' ' || name_folded) gin_trgm_ops")],
        unique=False,
        postgresql_using="gin",
    )
    op.drop_index("ix_persons_name_prefixes", table_name="persons")
    op.execute("DROP FUNCTION name_prefixes(text)")
