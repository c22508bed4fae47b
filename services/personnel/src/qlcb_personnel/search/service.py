"""Search (R-PER-5, R-TIER-1): persons by any combination of criteria, always inside the caller's
scope, a page at a time with the total, in the order Vietnamese staff lists use (ADR 0012).

Criteria on the person (name, ids, sex, birth) read `persons`; criteria on the record (rank,
post, training, evaluation, ethnicity, Party membership, recruitment), the status and, with
`as_of`, the unit read `search_facts`, each as "this fact held on that day". The caller's scope is
a condition of the same query (`authz.sql_scope`): for the person, and for each record section a
criterion reads, so a criterion never tells what the caller may not read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import True_

from qlcb_common import authz, names
from qlcb_common import personnel_rules as rules
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.errors import FieldViolation, InvalidArgument
from qlcb_common.record_sections import BY_NAME
from qlcb_common.text import control_violation
from qlcb_personnel.catalogs.models import CatalogValue
from qlcb_personnel.persons import status as statuses
from qlcb_personnel.persons.messages import ACTIVE
from qlcb_personnel.persons.models import Person
from qlcb_personnel.persons.service import DEFAULT_PAGE_SIZE, MAX_AGE, MAX_PAGE_SIZE
from qlcb_personnel.search import facts
from qlcb_personnel.search.models import OPEN_END, SearchFact
from qlcb_personnel.units.models import Unit, in_subtree

MAX_QUERY = 150
STATUSES = {
    "active": ACTIVE,
    "retired": "PERSON_STATUS_RETIRED",
    "resigned": "PERSON_STATUS_RESIGNED",
    "deceased": "PERSON_STATUS_DECEASED",
}
SEXES = {"male": "SEX_MALE", "female": "SEX_FEMALE"}
SORTS = ("name", "birth_date", "unit")
PARTY_GROUP = "DANG_VIEN"
"""The statistical group of the organisations whose members are Party members (BM01's column)."""
EVALUATION_YEARS = (1975, 2100)
NAME_WORDS = literal_column("' '", String) + Person.name_folded
"""The folded name after a space, so that every word of it begins after one: the expression the
trigram index `ix_persons_name_words` holds, written alike so that PostgreSQL matches the two."""


@dataclass(frozen=True)
class SearchRequest:
    """The criteria as asked: text as typed, each checked and named by its field."""

    q: str = ""
    personal_id: str = ""
    staff_number: str = ""
    unit_id: str = ""
    include_subtree: bool = False
    status: str = ""
    rank: str = ""
    rank_group: str = ""
    post: str = ""
    qualification: str = ""
    political_theory: str = ""
    evaluation_year: int | None = None
    evaluation_level: str = ""
    sex: str = ""
    ethnicity: str = ""
    party_member: bool | None = None
    born_from: str = ""
    born_to: str = ""
    age_min: int | None = None
    age_max: int | None = None
    recruited_from: str = ""
    recruited_to: str = ""
    as_of: str = ""
    sort: str = ""
    page: int = 0
    page_size: int = 0


@dataclass(frozen=True)
class Held:
    """A fact that must (or, with `absent`, must not) have held on the day: one of `values`, or any."""

    fact: str
    values: tuple[str, ...] | None = None
    absent: bool = False


@dataclass(frozen=True)
class Criteria:
    """Checked criteria, as the query applies them."""

    day: date
    """The day the facts must hold on: `as_of`, else today."""
    as_of: date | None = None
    words: tuple[str, ...] = ()
    personal_id: str | None = None
    staff_number: str | None = None
    unit: Unit | None = None
    include_subtree: bool = False
    status: str | None = None
    held: tuple[Held, ...] = ()
    sex: str | None = None
    born_from: date | None = None
    born_to: date | None = None
    recruited_from: date | None = None
    recruited_to: date | None = None
    sort: str = "name"
    sections: frozenset[str] = field(default_factory=frozenset)
    """The record sections the criteria read, whose scope the caller's must also cover."""


@dataclass(frozen=True)
class Found:
    person: Person
    unit_id: str
    """The unit the person is in, or was in on `as_of`."""
    status: str
    """The person's status, or their status on `as_of`."""


@dataclass(frozen=True)
class Page:
    found: list[Found]
    total: int
    page: int
    page_size: int


async def search(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    request: SearchRequest,
) -> Page:
    criteria = await check(session, request)
    page = max(request.page, 1)
    size = request.page_size or DEFAULT_PAGE_SIZE
    counted, listed = statements(criteria, scope_conditions(actor, delegations, criteria))
    total = int(await session.scalar(counted) or 0)
    rows: list[Person] = []
    if total > (page - 1) * size:
        rows = list(await session.scalars(listed.offset((page - 1) * size).limit(size)))
    return Page(await _found(session, criteria, rows), total, page, size)


def statements(criteria: Criteria, scope: Sequence[ColumnElement[bool]]) -> tuple[Select[int], Select[Person]]:
    """The count of what the criteria find within `scope`, and the query of its rows in order."""
    filters = [*conditions(criteria), *(c for c in scope if not isinstance(c, True_))]
    counted = select(func.count()).select_from(Person)
    if any(not isinstance(c, True_) for c in scope) or (criteria.include_subtree and criteria.as_of is None):
        counted = counted.join(Unit, Unit.id == Person.unit_id)
    listed = _ordered(select(Person).join(Unit, Unit.id == Person.unit_id), criteria)
    return counted.where(*filters), listed.where(*filters)


def scope_conditions(
    actor: Principal, delegations: Sequence[Delegation], criteria: Criteria
) -> list[ColumnElement[bool]]:
    """The caller's scope over the person and over each record section a criterion reads: a
    criterion on a section the caller may not read anywhere is refused (PERMISSION_DENIED)."""
    sections = {Section.IDENTITY} | {BY_NAME[name].authz for name in criteria.sections}
    return [
        authz.sql_scope(
            actor,
            section,
            Action.READ,
            Unit.path,
            person_id_column=Person.id,
            personal_id_column=Person.personal_id,
            delegations=delegations,
        )
        for section in sorted(sections)
    ]


def conditions(criteria: Criteria) -> list[ColumnElement[bool]]:
    """The WHERE conditions of the criteria (the scope's are the caller's to add)."""
    found: list[ColumnElement[bool]] = []
    for word in criteria.words:
        found.append(NAME_WORDS.like(f"% {word}%"))
    if criteria.personal_id is not None:
        found.append(Person.personal_id == criteria.personal_id)
    if criteria.staff_number is not None:
        found.append(Person.staff_number == criteria.staff_number)
    if criteria.sex is not None:
        found.append(Person.sex == criteria.sex)
    if criteria.born_from is not None:
        found.append(Person.date_of_birth >= criteria.born_from)
    if criteria.born_to is not None:
        found.append(Person.date_of_birth <= criteria.born_to)
    unit = criteria.unit
    if unit is not None and criteria.as_of is None:
        found.append(in_subtree(unit.path) if criteria.include_subtree else Person.unit_id == unit.id)
    elif unit is not None and criteria.include_subtree:
        # The unit the person was in that day, in the subtree as the tree stands now.
        below = aliased(Unit)
        subtree = or_(below.path == unit.path, below.path.startswith(unit.path + "/", autoescape=True))
        found.append(_held(facts.UNIT, criteria.day, in_units=select(below.id).where(subtree).scalar_subquery()))
    elif unit is not None:
        found.append(_held(facts.UNIT, criteria.day, values=(unit.id,)))
    if criteria.status is not None:
        # With `as_of`, the status of that day; else the present one: the open status period.
        day = criteria.day if criteria.as_of is not None else OPEN_END
        if criteria.status == ACTIVE:
            found.append(~_held(facts.STATUS, day, excluded=ACTIVE))
        else:
            found.append(_held(facts.STATUS, day, values=(criteria.status,)))
    for held in criteria.held:
        condition = _held(held.fact, criteria.day, values=held.values)
        found.append(~condition if held.absent else condition)
    if criteria.recruited_from is not None or criteria.recruited_to is not None:
        last = min(criteria.recruited_to or criteria.day, criteria.day)
        found.append(
            select(SearchFact.person_id)
            .where(
                SearchFact.person_id == Person.id,
                SearchFact.fact == facts.RECRUITED,
                SearchFact.value == "",
                SearchFact.valid_to == OPEN_END,
                SearchFact.valid_from >= (criteria.recruited_from or date.min),
                SearchFact.valid_from <= last,
            )
            .exists()
        )
    return found


def _held(
    fact: str,
    day: date,
    *,
    values: tuple[str, ...] | None = None,
    excluded: str | None = None,
    in_units: Any = None,
) -> ColumnElement[bool]:
    """EXISTS a fact of the person that held on `day` (with one of `values`, other than `excluded`)."""
    where = [
        SearchFact.person_id == Person.id,
        SearchFact.fact == fact,
        SearchFact.valid_to >= day,
        SearchFact.valid_from <= day,
    ]
    if values is not None:
        where.append(SearchFact.value == values[0] if len(values) == 1 else SearchFact.value.in_(values))
    if excluded is not None:
        where.append(SearchFact.value != excluded)
    if in_units is not None:
        where.append(SearchFact.value.in_(in_units))
    return select(SearchFact.person_id).where(*where).exists()


def _ordered(query: Select[Person], criteria: Criteria) -> Select[Person]:
    if criteria.sort == "birth_date":
        return query.order_by(Person.date_of_birth, Person.name_sort, Person.id)
    if criteria.sort == "unit" and criteria.as_of is None:
        return query.order_by(Unit.path, Person.name_sort, Person.id)
    if criteria.sort == "unit":
        then, unit_then = aliased(SearchFact), aliased(Unit)
        on_day = and_(
            then.person_id == Person.id,
            then.fact == facts.UNIT,
            then.valid_to >= criteria.day,
            then.valid_from <= criteria.day,
        )
        query = query.outerjoin(then, on_day).outerjoin(unit_then, unit_then.id == then.value)
        return query.order_by(unit_then.path, Person.name_sort, Person.id)
    return query.order_by(Person.name_sort, Person.id)


async def _found(session: AsyncSession, criteria: Criteria, persons: Sequence[Person]) -> list[Found]:
    """The page's persons with their unit and status: as they are, or as they were on `as_of`."""
    ids = [p.id for p in persons]
    if criteria.as_of is None:
        latest = await statuses.current(session, ids)
        return [Found(p, p.unit_id, latest[p.id].status if p.id in latest else ACTIVE) for p in persons]
    then = await session.execute(
        select(SearchFact.person_id, SearchFact.fact, SearchFact.value).where(
            SearchFact.person_id.in_(ids),
            SearchFact.fact.in_((facts.UNIT, facts.STATUS)),
            SearchFact.valid_to >= criteria.as_of,
            SearchFact.valid_from <= criteria.as_of,
        )
    )
    held = {(row.person_id, row.fact): row.value for row in then}
    return [Found(p, held.get((p.id, facts.UNIT), p.unit_id), held.get((p.id, facts.STATUS), ACTIVE)) for p in persons]


# ---- checking the request -------------------------------------------------------------------------


async def check(session: AsyncSession, request: SearchRequest) -> Criteria:
    """Every criterion checked, all reasons at once, each naming its field (INVALID_ARGUMENT)."""
    violations: list[FieldViolation] = []
    as_of = _date(request.as_of, "as_of", violations)
    day = as_of or date.today()
    catalogs = _Catalogs(session)
    held: list[Held] = []
    sections: set[str] = set()

    async def code(name: str, value: str, catalog: str, label: str, kind: str | None = None) -> str | None:
        if not value:
            return None
        wanted = value.strip().upper()
        known = await catalogs.codes(catalog, kind)
        if refused := control_violation(name, value):
            violations.append(refused)
        elif wanted not in known:
            violations.append(FieldViolation(name, f"Không có mã {value.strip()!r} trong danh mục {label}"))
        else:
            return wanted
        return None

    if rank := await code("rank", request.rank, "ranks", "ngạch"):
        held.append(Held(facts.RANK, (rank,)))
        sections.add("salary")
    if request.rank_group:
        groups = await catalogs.groups("ranks")
        wanted = request.rank_group.strip().upper()
        if wanted not in groups:
            choices = ", ".join(sorted(groups))
            violations.append(FieldViolation("rank_group", f"Không có nhóm ngạch {wanted!r}; các nhóm: {choices}"))
        else:
            held.append(Held(facts.RANK, tuple(sorted(groups[wanted]))))
            sections.add("salary")
    if post := await code("post", request.post, "posts", "chức vụ"):
        held.append(Held(facts.POST, (post,)))
        sections.add("appointments")
    if level := await code("qualification", request.qualification, "training_levels", "trình độ chuyên môn", "CM"):
        held.append(Held(facts.TRAINING, (level,)))
        sections.add("trainings")
    political = await code(
        "political_theory", request.political_theory, "training_levels", "trình độ lý luận chính trị", "LLCT"
    )
    if political:
        held.append(Held(facts.TRAINING, (political,)))
        sections.add("trainings")
    if ethnicity := await code("ethnicity", request.ethnicity, "ethnicities", "dân tộc"):
        held.append(Held(facts.ETHNICITY, (ethnicity,)))
        sections.add("personal_details")
    evaluation = await code("evaluation_level", request.evaluation_level, "evaluation_levels", "mức xếp loại")
    year = request.evaluation_year
    if year is not None and not EVALUATION_YEARS[0] <= year <= EVALUATION_YEARS[1]:
        violations.append(
            FieldViolation("evaluation_year", f"Năm đánh giá phải từ {EVALUATION_YEARS[0]} đến {EVALUATION_YEARS[1]}")
        )
    elif year is not None:
        held.append(Held(facts.evaluation_fact(year), (evaluation,) if evaluation else None))
        sections.add("evaluations")
    elif request.evaluation_level:
        violations.append(FieldViolation("evaluation_year", "Cần năm đánh giá cho mức xếp loại evaluation_level"))
    if request.party_member is not None:
        party = tuple(sorted((await catalogs.groups("organisations")).get(PARTY_GROUP, ())))
        held.append(Held(facts.ORGANISATION, party, absent=not request.party_member))
        sections.add("memberships")

    words = _words(request.q, violations)
    personal_id = rules.personal_id(request.personal_id, violations) if request.personal_id else None
    staff_number = rules.staff_number(request.staff_number, violations) if request.staff_number else None
    status = _choice(request.status, "status", STATUSES, "Tình trạng", violations)
    sex = _choice(request.sex, "sex", SEXES, "Giới tính", violations)
    sort = _choice(request.sort, "sort", {s: s for s in SORTS}, "Sắp xếp theo", violations) or "name"
    unit = await session.get(Unit, request.unit_id) if request.unit_id else None
    if request.unit_id and unit is None:
        violations.append(FieldViolation("unit_id", "Không có đơn vị này"))
    born_from, born_to = _range(request.born_from, request.born_to, "born", violations)
    recruited_from, recruited_to = _range(request.recruited_from, request.recruited_to, "recruited", violations)
    if request.recruited_from or request.recruited_to:
        sections.add("recruitment")
    born_after, born_by = _ages(request.age_min, request.age_max, day, violations)
    if request.page < 0:
        violations.append(FieldViolation("page", "Trang phải từ 1 trở lên"))
    if not 0 <= request.page_size <= MAX_PAGE_SIZE:
        violations.append(FieldViolation("page_size", f"Số dòng mỗi trang phải từ 1 đến {MAX_PAGE_SIZE}"))
    if violations:
        raise InvalidArgument(violations)
    return Criteria(
        day=day,
        as_of=as_of,
        words=words,
        personal_id=personal_id,
        staff_number=staff_number,
        unit=unit,
        include_subtree=request.include_subtree,
        status=status,
        held=tuple(held),
        sex=sex,
        born_from=_latest(born_from, born_after),
        born_to=_earliest(born_to, born_by),
        recruited_from=recruited_from,
        recruited_to=recruited_to,
        sort=sort,
        sections=frozenset(sections),
    )


class _Catalogs:
    """The codes of the catalogs a request names, each read once; every version counts, so that a
    code no longer in use still finds the records of the years it was."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._read: dict[str, list[CatalogValue]] = {}

    async def _values(self, catalog: str) -> list[CatalogValue]:
        if catalog not in self._read:
            query = select(CatalogValue).where(CatalogValue.catalog == catalog)
            self._read[catalog] = list(await self._session.scalars(query))
        return self._read[catalog]

    async def codes(self, catalog: str, kind: str | None = None) -> set[str]:
        values = await self._values(catalog)
        return {v.code for v in values if kind is None or (v.attributes or {}).get("kind") == kind}

    async def groups(self, catalog: str) -> dict[str, set[str]]:
        """Statistical group → the codes in it."""
        found: dict[str, set[str]] = {}
        for value in await self._values(catalog):
            if value.stat_group:
                found.setdefault(value.stat_group, set()).add(value.code)
        return found


def _words(q: str, violations: list[FieldViolation]) -> tuple[str, ...]:
    """The words a name must have: what is not a letter or digit separates them (nothing typed is
    stored, so nothing is refused but a length no name has)."""
    if len(q) > MAX_QUERY:
        violations.append(FieldViolation("q", f"Dài quá {MAX_QUERY} ký tự"))
        return ()
    return tuple(names.words(q))


def _choice(value: str, name: str, choices: dict[str, str], label: str, violations: list[FieldViolation]) -> str | None:
    if not value:
        return None
    chosen = choices.get(value.strip().lower())
    if chosen is None:
        violations.append(FieldViolation(name, f"{label} phải là một trong: {', '.join(choices)}"))
    return chosen


def _date(value: str, name: str, violations: list[FieldViolation]) -> date | None:
    if not value:
        return None
    if refused := control_violation(name, value):
        violations.append(refused)
        return None
    return rules.iso_date(value, violations, name, "Ngày phải theo dạng YYYY-MM-DD")


def _range(start: str, end: str, prefix: str, violations: list[FieldViolation]) -> tuple[date | None, date | None]:
    first = _date(start, f"{prefix}_from", violations)
    last = _date(end, f"{prefix}_to", violations)
    if first is not None and last is not None and last < first:
        violations.append(FieldViolation(f"{prefix}_to", f"Ngày kết thúc trước ngày bắt đầu ({prefix}_from)"))
    return first, last


def _ages(
    minimum: int | None, maximum: int | None, day: date, violations: list[FieldViolation]
) -> tuple[date | None, date | None]:
    """The birth dates of an age band on `day`: born after the earliest, on or before the latest."""
    for name, age in (("age_min", minimum), ("age_max", maximum)):
        if age is not None and not 0 <= age <= MAX_AGE:
            violations.append(FieldViolation(name, f"Tuổi phải từ 0 đến {MAX_AGE}"))
            return None, None
    if minimum is not None and maximum is not None and maximum < minimum:
        violations.append(FieldViolation("age_max", "Nhỏ hơn tuổi thấp nhất (age_min)"))
        return None, None
    # Aged at least `minimum`: born on or before the day `minimum` years back. At most `maximum`:
    # not yet `maximum + 1`, so born after the day `maximum + 1` years back.
    latest = _years_before(day, minimum) if minimum is not None else None
    earliest = _years_before(day, maximum + 1) + timedelta(days=1) if maximum is not None else None
    return earliest, latest


def _years_before(day: date, years: int) -> date:
    if day.year - years < date.min.year:
        return date.min
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February, in a year without one
        return day.replace(year=day.year - years, day=28)


def _latest(a: date | None, b: date | None) -> date | None:
    return max(a, b) if a is not None and b is not None else a or b


def _earliest(a: date | None, b: date | None) -> date | None:
    return min(a, b) if a is not None and b is not None else a or b
