"""The name criterion: each word typed begins a word of the folded name, on the embedded SQLite store
by LIKE, on PostgreSQL by the index of the words' beginnings (ADR 0042; the integration tests search
the real one)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.orm import Session

from qlcb_common import names
from qlcb_personnel.persons.models import Person
from qlcb_personnel.search.name_match import HasWords
from qlcb_personnel.units.models import Unit

PEOPLE = ("Nguyễn Văn An", "Nguyễn Văn Anh", "Trần Văn Bình", "Lê An Khánh", "Đặng Thị Đào")


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("văn an", ["Nguyễn Văn An", "Nguyễn Văn Anh"]),
        ("AN", ["Lê An Khánh", "Nguyễn Văn An", "Nguyễn Văn Anh"]),
        ("ngu an", ["Nguyễn Văn An", "Nguyễn Văn Anh"]),
        ("dao dang", ["Đặng Thị Đào"]),
        ("van b", ["Trần Văn Bình"]),
        ("anh khanh", []),
        ("nh", []),
    ],
)
def test_each_word_typed_begins_a_word_of_the_name_on_sqlite(typed: str, found: list[str]) -> None:
    engine = create_engine("sqlite://")
    Person.metadata.create_all(engine, tables=[Unit.__table__, Person.__table__])  # type: ignore[list-item]
    with Session(engine) as session:
        session.add_all(
            Person(
                id=str(n),
                personal_id=f"{n:012d}",
                staff_number=f"S{n}",
                full_name=name,
                name_folded=names.fold(name),
                name_sort=names.sort_key(name),
                date_of_birth=date(1980, 1, 1),
                sex="SEX_MALE",
                unit_id="u",
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                created_by="test",
            )
            for n, name in enumerate(PEOPLE)
        )
        session.commit()
        query = select(Person.full_name).where(HasWords(tuple(names.words(typed)))).order_by(Person.full_name)
        assert list(session.scalars(query)) == found


def test_on_postgresql_the_words_are_one_containment_the_index_answers() -> None:
    dialect = asyncpg.dialect()  # type: ignore[no-untyped-call]
    compiled = select(Person.id).where(HasWords(("van", "an"))).compile(dialect=dialect)
    assert "name_prefixes(persons.name_folded) @> CAST(ARRAY[" in str(compiled)
    assert "LIKE" not in str(compiled)
    assert sorted(compiled.params.values()) == ["an", "van"]
