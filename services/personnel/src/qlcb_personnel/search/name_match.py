"""The name criterion of a search: each word typed begins a word of the person's folded name
(`qlcb_common.names`). On PostgreSQL the array of the name's word beginnings holds them all, which
`ix_persons_name_prefixes` answers (ADR 0042); elsewhere (the embedded SQLite store) a LIKE per word."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, Text, and_, bindparam, cast, func, literal_column
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import InternalTraversal

from qlcb_personnel.persons.models import Person

NAME_WORDS = literal_column("' '", String) + Person.name_folded
"""The folded name after a space, so that every word of it begins after one."""


class HasWords(ColumnElement[bool]):
    """The person's name has a word beginning with each of `words` (folded, as `names.words` gives)."""

    type = Boolean()
    inherit_cache = True
    # What SQLAlchemy's statement cache keys the criterion by: the words' parameters, not their values.
    _traverse_internals = [("words", InternalTraversal.dp_clauseelement_tuple)]  # noqa: RUF012

    def __init__(self, words: tuple[str, ...]) -> None:
        self.words: tuple[BindParameter[str], ...] = tuple(
            bindparam(f"word_{n}", word, type_=Text, unique=True) for n, word in enumerate(words)
        )


@compiles(HasWords)
def _by_like(element: HasWords, compiler: SQLCompiler, **kw: Any) -> str:
    words = and_(*(NAME_WORDS.like("% " + word + "%") for word in element.words))
    return f"({compiler.process(words, **kw)})"


@compiles(HasWords, "postgresql")
def _by_prefixes(element: HasWords, compiler: SQLCompiler, **kw: Any) -> str:
    prefixes = func.name_prefixes(Person.name_folded, type_=ARRAY(Text))
    return compiler.process(prefixes.contains(cast(array(element.words), ARRAY(Text))), **kw)
