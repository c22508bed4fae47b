"""Adding the search facts a new version of `entry_facts` gives, to the entries already stored."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from qlcb_personnel.search import facts

AT_ONCE = 5_000

_entries = sa.table(
    "record_entries",
    sa.column("id", sa.String),
    sa.column("entry_id", sa.String),
    sa.column("person_id", sa.String),
    sa.column("section", sa.String),
    sa.column("valid_from", sa.Date),
    sa.column("valid_to", sa.Date),
    sa.column("values", sa.JSON),
    sa.column("superseded_at", sa.DateTime),
    sa.column("retracted", sa.Boolean),
)
search_facts = sa.table(
    "search_facts",
    sa.column("source_id", sa.String),
    sa.column("fact", sa.String),
    sa.column("person_id", sa.String),
    sa.column("value", sa.String),
    sa.column("valid_from", sa.Date),
    sa.column("valid_to", sa.Date),
)


def add_facts(connection: Connection, sections: Collection[str], added: Collection[str]) -> None:
    """The facts named `added` of the current entries of `sections`, a batch of entries at a time by
    their key: no cursor stays open while the facts are written."""
    after = ""
    while True:
        batch = connection.execute(
            sa.select(
                _entries.c.id,
                _entries.c.entry_id,
                _entries.c.person_id,
                _entries.c.section,
                _entries.c.valid_from,
                _entries.c.valid_to,
                _entries.c["values"],
            )
            .where(
                _entries.c.id > after,
                _entries.c.section.in_(sections),
                _entries.c.superseded_at.is_(None),
                _entries.c.retracted.is_(sa.false()),
            )
            .order_by(_entries.c.id)
            .limit(AT_ONCE)
        ).all()
        if not batch:
            return
        rows = [
            {
                "source_id": entry_id,
                "fact": fact.fact,
                "person_id": person_id,
                "value": fact.value,
                "valid_from": fact.valid_from,
                "valid_to": fact.valid_to,
            }
            for _id, entry_id, person_id, section, valid_from, valid_to, values in batch
            for fact in facts.entry_facts(section, values, valid_from, valid_to)
            if fact.fact in added
        ]
        if rows:
            connection.execute(sa.insert(search_facts), rows)
        after = batch[-1].id


def remove_facts(connection: Connection, added: Collection[str]) -> None:
    connection.execute(sa.delete(search_facts).where(search_facts.c.fact.in_(added)))
