"""Search (R-PER-5, R-TIER-1): persons by any combination of criteria, always inside the caller's
scope, a page at a time with the total, in the order Vietnamese staff lists use (ADR 0015); and the
export of everything the same criteria find, in the same order, inside the caller's scope for
exporting (`export`, `exported`).

A search counts and pages each person's row of the day (`search_days`, ADR 0051): the unit, the
status, the rank and the ethnicity of that day are its columns, with the name's sort key, the birth
date and the sex; the name and the ids read `persons`; what a person may hold several of on one day
(a post, a training level, an evaluation, a membership) and the recruitment read `search_facts`, each
as "this fact held on that day". The caller's scope is a condition of the same query
(`authz.sql_scope`): for the person, and for each record section a criterion reads, so a criterion
never tells what the caller may not read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import True_

from qlcb_common import authz, names
from qlcb_common import personnel_rules as rules
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.days import vietnam_today
from qlcb_common.errors import FieldViolation, InvalidArgument
from qlcb_common.record_sections import BY_NAME
from qlcb_common.text import control_violation
from qlcb_personnel.catalogs.models import CatalogValue
from qlcb_personnel.persons.messages import ACTIVE
from qlcb_personnel.persons.models import Person
from qlcb_personnel.persons.service import DEFAULT_PAGE_SIZE, MAX_AGE, MAX_PAGE_SIZE
from qlcb_personnel.search import facts
from qlcb_personnel.search.models import OPEN_END, SearchDay, SearchFact
from qlcb_personnel.search.name_match import HasWords
from qlcb_personnel.units.models import Unit

MAX_QUERY = 150
STATUSES = {
    "active": ACTIVE,
    "retired": "PERSON_STATUS_RETIRED",
    "resigned": "PERSON_STATUS_RESIGNED",
    "deceased": "PERSON_STATUS_DECEASED",
    "moved_out": "PERSON_STATUS_MOVED_OUT",
}
SEXES = {"male": "SEX_MALE", "female": "SEX_FEMALE"}
SORTS = ("name", "birth_date", "unit")
PARTY_GROUP = "DANG_VIEN"
"""The statistical group of the organisations whose members are Party members (BM01's column)."""
EVALUATION_YEARS = (1975, 2100)


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
    state_management: str = ""
    foreign_language: str = ""
    it_level: str = ""
    evaluation_year: int | None = None
    evaluation_level: str = ""
    sex: str = ""
    ethnicity: str = ""
    religion: str = ""
    home_province: str = ""
    reward: str = ""
    discipline: str = ""
    contract_type: str = ""
    salary_step: int | None = None
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
class OfKind:
    """A code that must be of a kind in its catalog (a training level's): a condition of the search's
    own query, so that it needs no round trip of its own."""

    catalog: str
    code: str
    kind: str

    def condition(self) -> ColumnElement[bool]:
        return (
            select(CatalogValue.code)
            .where(
                CatalogValue.catalog == self.catalog,
                CatalogValue.code == self.code,
                CatalogValue.attributes["kind"].as_string() == self.kind,
            )
            .exists()
        )


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
    kinds: tuple[OfKind, ...] = ()
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
    criteria: Criteria


async def search(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    request: SearchRequest,
) -> Page:
    """A page of what the criteria find in the caller's scope, with the total: the count and the page
    (and the unit when one is named, the catalog's groups when one is). A code its catalog does not
    have finds nobody; only then are the codes looked up, to say which (INVALID_ARGUMENT)."""
    criteria = await check(session, request)
    page = max(request.page, 1)
    size = request.page_size or DEFAULT_PAGE_SIZE
    offset = (page - 1) * size
    queries = statements(criteria, scope_conditions(actor, delegations, criteria, Action.READ))
    found: list[Found] = []
    total: int | None = None
    if criteria.words and criteria.sort != "unit":
        # A name matches few people, anywhere in the name order: found once, then counted and paged
        # from what was found, in one statement, rather than found by walking the order (which the
        # planner may do, expecting many) after a count that finds them again. A page past the end
        # has no row to carry the count: it is counted on its own.
        counted = (await session.execute(queries.counted_page(criteria, offset, size))).all()
        if counted:
            total = int(counted[0][3])
            found = [_found(person, unit_id, status) for person, unit_id, status, _ in counted]
    if total is None:
        total = int(await session.scalar(queries.count) or 0)
    if total == 0:
        await check_codes(session, request)
    if not found and total > offset:
        rows = await session.execute(queries.page(criteria, offset, size))
        found = [_found(person, unit_id, status) for person, unit_id, status in rows]
    return Page(found, total, page, size, criteria)


def _found(person: Person, unit_id: str | None, status: str | None) -> Found:
    return Found(person, unit_id or person.unit_id, status or ACTIVE)


EXPORT_BATCH = 500
"""Rows an export reads from the database cursor at a time, and sends in one chunk."""


@dataclass(frozen=True)
class Export:
    """An export checked and allowed: what it finds, as `statements` lists it."""

    criteria: Criteria
    listed: Select[Person, str | None, str | None]


async def export(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    request: SearchRequest,
) -> Export:
    """Every record the criteria find in the caller's scope for exporting (`Action.EXPORT`), in the
    search's order: checked whole before a row is read (INVALID_ARGUMENT naming each field, the codes
    of catalogs too, since nothing is sent of an export that would be refused; PERMISSION_DENIED
    where the caller may export nothing the criteria read). An export has no page."""
    paged = [FieldViolation(name, "Bản xuất gồm mọi dòng, không chia trang") for name in ("page", "page_size")]
    if unpaged := [v for v in paged if getattr(request, v.field)]:
        raise InvalidArgument(unpaged)
    criteria = await check(session, request)
    await check_codes(session, request)
    queries = statements(criteria, scope_conditions(actor, delegations, criteria, Action.EXPORT))
    return Export(criteria, queries.listed)


async def exported(session: AsyncSession, export: Export, *, batch: int = EXPORT_BATCH) -> AsyncIterator[list[Found]]:
    """The rows of `export`, `batch` at a time, read from a server-side cursor: never all in memory."""
    result = await session.stream(export.listed.execution_options(yield_per=batch))
    async for rows in result.partitions():
        yield [_found(person, unit_id, status) for person, unit_id, status in rows]


@dataclass(frozen=True)
class Statements:
    count: Select[int]
    """How many the criteria find within the scope."""
    listed: Select[Person, str, str]
    """Their rows in order, each with the unit and the status of the day."""
    matching: Select[str, bytes, date]
    """Their ids, with the keys of the name and birth-date orders."""
    unfiltered: Select[Person, str, str]
    """`listed` without the criteria: everyone's row of the day."""
    of_the_day: Select[str, bytes, date, str, str] | None
    """What `listed` pages, from the rows of the day alone (the person's id, the keys of the order,
    the unit and the status of the day), in its order; None where the people are found among their
    own rows (an id), or ordered by unit."""

    def page(self, criteria: Criteria, offset: int, size: int) -> Select[Person, str, str]:
        """A page of `listed`. Its rows of the day are taken first and only they are joined to their
        people: `listed` with an offset joins every row before the page to its person too (the
        tenth page of 50 of the widest scope joined 500)."""
        if self.of_the_day is None:
            return self.listed.offset(offset).limit(size)
        rows = self.of_the_day.offset(offset).limit(size).subquery("page")
        keys = [rows.c.date_of_birth] if criteria.sort == "birth_date" else []
        return (
            select(Person, rows.c.unit, rows.c.status)
            .join(rows, rows.c.person_id == Person.id)
            .order_by(*keys, rows.c.name_sort, rows.c.person_id)
        )

    def counted_page(self, criteria: Criteria, offset: int, size: int) -> Select[Person, str, str, int]:
        """A page of `listed` and, on each row, how many are found: the rows are found first (a
        materialised common table expression), counted, the page's ids taken from them in order, and
        only those rows read whole."""
        found = self.matching.cte("matching").prefix_with("MATERIALIZED", dialect="postgresql")
        keys = [found.c.name_sort, found.c.id]
        if criteria.sort == "birth_date":
            keys.insert(0, found.c.date_of_birth)
        ids = select(found.c.id).order_by(*keys).offset(offset).limit(size).subquery("page")
        total = select(func.count()).select_from(found).scalar_subquery()
        return self.unfiltered.add_columns(total).join(ids, ids.c.id == Person.id)


def statements(criteria: Criteria, scope: Sequence[ColumnElement[bool]]) -> Statements:
    """The queries of what the criteria find within `scope`: over each person's row of the day
    (ADR 0051), joined to the people only for what is theirs alone (an id, a page's rows) and to
    the units only for the caller's scope or the order by unit. A name or an id that asks nothing of
    the day is found among the people alone, by their own indexes: everyone has a row on every day,
    so the day would change nothing but the cost of joining it to each person found."""
    on_days = not _of_the_person(criteria) or _of_the_day(criteria)
    found = conditions(criteria, on_days=on_days)
    scoped = [c for c in scope if not isinstance(c, True_)]
    on_day = (SearchDay.valid_to >= criteria.day, SearchDay.valid_from <= criteria.day)
    present_order = criteria.as_of is None and criteria.sort == "unit"
    by_unit = bool(scoped) or present_order
    of_person = found.on_person or any(_reads(condition, Person.__table__) for condition in scoped)

    def joined(query: Any) -> Any:
        if not on_days:
            query = query.select_from(Person)
            return query.join(Unit, Unit.id == Person.unit_id) if by_unit else query
        query = query.select_from(SearchDay)
        if of_person:
            query = query.join(Person, Person.id == SearchDay.person_id)
        if by_unit:
            query = query.join(Unit, Unit.id == SearchDay.unit_now)
        return query

    filters = [*(on_day if on_days else ()), *found.where, *scoped]
    counted = joined(select(func.count())).where(*filters)
    if on_days:
        matching = joined(select(SearchDay.person_id.label("id"), SearchDay.name_sort, SearchDay.date_of_birth))
    else:
        matching = joined(select(Person.id, Person.name_sort, Person.date_of_birth))
    if criteria.as_of is None:
        unfiltered = select(Person, SearchDay.unit_now, SearchDay.status_now)
        path: Any = Unit.path
    else:
        unfiltered = select(Person, SearchDay.unit_id, SearchDay.status)
        path = _UNIT_PATH_THEN.path
    unfiltered = unfiltered.select_from(SearchDay).join(Person, Person.id == SearchDay.person_id)
    if by_unit:
        unfiltered = unfiltered.join(Unit, Unit.id == SearchDay.unit_now)
    if criteria.sort == "unit" and criteria.as_of is not None:
        unfiltered = unfiltered.outerjoin(_UNIT_PATH_THEN, _UNIT_PATH_THEN.id == SearchDay.unit_id)
    unfiltered = unfiltered.where(*on_day).order_by(*_order(criteria, path))
    listed = unfiltered.where(*found.where, *scoped)
    of_the_day = None
    if on_days and criteria.sort != "unit":
        then = (
            (SearchDay.unit_now, SearchDay.status_now)
            if criteria.as_of is None
            else (SearchDay.unit_id, SearchDay.status)
        )
        of_the_day = (
            joined(
                select(
                    SearchDay.person_id,
                    SearchDay.name_sort,
                    SearchDay.date_of_birth,
                    then[0].label("unit"),
                    then[1].label("status"),
                )
            )
            .where(*filters)
            .order_by(*_order(criteria, path))
        )
    return Statements(counted, listed, matching.where(*filters), unfiltered, of_the_day)


def _of_the_person(criteria: Criteria) -> bool:
    """Whether a criterion is of the person's own (a name, a personal id, a staff number)."""
    return bool(criteria.words) or criteria.personal_id is not None or criteria.staff_number is not None


def _of_the_day(criteria: Criteria) -> bool:
    """Whether a criterion reads the row of the day: the unit, the status, the rank, the ethnicity."""
    return (
        criteria.unit is not None
        or criteria.status is not None
        or any(held.fact in _ON_THE_DAY for held in criteria.held)
    )


def _reads(condition: ColumnElement[bool], table: Any) -> bool:
    """Whether `condition` reads a column of `table` (the scope of one's own record reads the
    person's personal id)."""
    return any(getattr(element, "table", None) is table for element in visitors.iterate(condition))


_UNIT_PATH_THEN = aliased(Unit, name="unit_path_then")
_BELOW = aliased(Unit, name="below")
"""The aliases the queries join (made once: an alias is costly to make, and holds no state)."""

_ON_THE_DAY = {facts.RANK: SearchDay.rank, facts.ETHNICITY: SearchDay.ethnicity}
"""The facts a person holds one of on any day that their row of the day carries."""


def scope_conditions(
    actor: Principal, delegations: Sequence[Delegation], criteria: Criteria, action: Action
) -> list[ColumnElement[bool]]:
    """The caller's scope for `action` (reading a page, or exporting) over the person and over each
    record section a criterion reads: a criterion on a section the caller may not read (or export)
    anywhere is refused (PERMISSION_DENIED). The scope is of the person's present unit."""
    sections = {Section.IDENTITY} | {BY_NAME[name].authz for name in criteria.sections}
    return [
        authz.sql_scope(
            actor,
            section,
            action,
            Unit.path,
            person_id_column=Person.id,
            personal_id_column=Person.personal_id,
            delegations=delegations,
        )
        for section in sorted(sections)
    ]


@dataclass
class Filters:
    """The criteria as WHERE conditions on a person's row of the day (`SearchDay`), on the person,
    and on the facts a person may hold many of on a day (a post, a training level, an evaluation,
    an organisation), each of those an `EXISTS` (or `NOT EXISTS`) tied to the row's person."""

    key: Any
    """The person's id: of their row of the day, or of the person."""
    where: list[ColumnElement[bool]] = field(default_factory=list)
    on_person: bool = False
    """Whether a condition reads the person's own columns."""

    def person(self, condition: ColumnElement[bool]) -> None:
        self.where.append(condition)
        self.on_person = True

    def held(self, fact: str, day: date, values: tuple[str, ...] | None, *, absent: bool = False) -> None:
        """The person held `fact` (one of `values`, or any) on `day`, or with `absent` did not."""
        column = _ON_THE_DAY.get(fact)
        if column is None:
            on_day = _on_day(SearchFact, fact, day, key=self.key, values=values)
            exists = select(SearchFact.person_id).where(*on_day).exists()
            self.where.append(~exists if absent else exists)
            return
        matched = column != "" if values is None else column.in_(values)
        self.where.append(~matched if absent else matched)


def conditions(criteria: Criteria, *, on_days: bool = True) -> Filters:
    """The criteria's conditions (the scope's and the day's are the caller's to add), on the row of
    the day or, without `on_days`, on the person (whose criteria then ask nothing of the day)."""
    found = Filters(key=SearchDay.person_id if on_days else Person.id)
    of = SearchDay if on_days else Person
    where = found.where
    if criteria.words:
        found.person(HasWords(criteria.words))
    if criteria.personal_id is not None:
        found.person(Person.personal_id == criteria.personal_id)
    if criteria.staff_number is not None:
        found.person(Person.staff_number == criteria.staff_number)
    if criteria.sex is not None:
        where.append(of.sex == criteria.sex)
    if criteria.born_from is not None:
        where.append(of.date_of_birth >= criteria.born_from)
    if criteria.born_to is not None:
        where.append(of.date_of_birth <= criteria.born_to)
    # Without `as_of`, the present unit and status (the record's own); with it, those of that day,
    # the unit in the subtree as the tree stands now.
    unit_column = SearchDay.unit_now if criteria.as_of is None else SearchDay.unit_id
    if (unit := criteria.unit) is not None and criteria.include_subtree:
        subtree = or_(_BELOW.path == unit.path, _BELOW.path.startswith(unit.path + "/", autoescape=True))
        where.append(unit_column.in_(select(_BELOW.id).where(subtree)))
    elif unit is not None:
        where.append(unit_column == unit.id)
    if criteria.status is not None and criteria.as_of is None:
        where.append(SearchDay.status_now == criteria.status)
    elif criteria.status is not None:
        # Active that day is in service as far as the recruitment tells: recruited by then, or never
        # recorded, as reports' statistics count (ADR 0040); the days before it are not (ADR 0052).
        where.append(SearchDay.status == criteria.status)
    for held in criteria.held:
        found.held(held.fact, criteria.day, held.values, absent=held.absent)
    where += [kind.condition() for kind in criteria.kinds]
    if criteria.recruited_from is not None or criteria.recruited_to is not None:
        last = min(criteria.recruited_to or criteria.day, criteria.day)
        where.append(
            select(SearchFact.person_id)
            .where(
                SearchFact.person_id == found.key,
                SearchFact.fact == facts.RECRUITED,
                SearchFact.value == "",
                SearchFact.valid_to == OPEN_END,
                SearchFact.valid_from >= (criteria.recruited_from or date.min),
                SearchFact.valid_from <= last,
            )
            .exists()
        )
    return found


def _on_day(fact: Any, name: str, day: date, *, key: Any, values: tuple[str, ...] | None) -> list[ColumnElement[bool]]:
    """A fact of the person `key` names, named `name`, that held on `day`, with one of `values` (any,
    for None)."""
    where = [fact.person_id == key, fact.fact == name, fact.valid_to >= day, fact.valid_from <= day]
    if values is not None:
        where.append(fact.value == values[0] if len(values) == 1 else fact.value.in_(values))
    return where


def _order(criteria: Criteria, unit_path: Any) -> tuple[Any, ...]:
    if criteria.sort == "birth_date":
        return (SearchDay.date_of_birth, SearchDay.name_sort, SearchDay.person_id)
    if criteria.sort == "unit":
        return (unit_path, SearchDay.name_sort, SearchDay.person_id)
    return (SearchDay.name_sort, SearchDay.person_id)


# ---- checking the request -------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCriterion:
    """A criterion naming a code of a catalog: the fact it must match, the section it reads."""

    field: str
    catalog: str
    label: str
    fact: str
    section: str
    kind: str | None = None
    """The kind (a training level's) the code must be of."""


CODE_CRITERIA = (
    CodeCriterion("rank", "ranks", "ngạch", facts.RANK, "salary"),
    CodeCriterion("post", "posts", "chức vụ", facts.POST, "appointments"),
    CodeCriterion("qualification", "training_levels", "trình độ chuyên môn", facts.TRAINING, "trainings", "CM"),
    CodeCriterion(
        "political_theory", "training_levels", "trình độ lý luận chính trị", facts.TRAINING, "trainings", "LLCT"
    ),
    CodeCriterion(
        "state_management", "training_levels", "trình độ quản lý nhà nước", facts.TRAINING, "trainings", "QLNN"
    ),
    CodeCriterion("foreign_language", "training_levels", "trình độ ngoại ngữ", facts.TRAINING, "trainings", "NN"),
    CodeCriterion("it_level", "training_levels", "trình độ tin học", facts.TRAINING, "trainings", "TH"),
    CodeCriterion("ethnicity", "ethnicities", "dân tộc", facts.ETHNICITY, "personal_details"),
    CodeCriterion("religion", "religions", "tôn giáo", facts.RELIGION, "personal_details"),
    CodeCriterion("home_province", "provinces", "tỉnh, thành phố", facts.HOME_PROVINCE, "personal_details"),
    CodeCriterion("reward", "reward_forms", "hình thức khen thưởng", facts.REWARD, "rewards"),
    CodeCriterion("discipline", "discipline_forms", "hình thức kỷ luật", facts.DISCIPLINE, "disciplines"),
    CodeCriterion("contract_type", "contract_types", "loại hợp đồng", facts.CONTRACT, "labour_contracts"),
    CodeCriterion("evaluation_level", "evaluation_levels", "mức xếp loại", "", "evaluations"),
)


def _code(request: SearchRequest, field: str, violations: list[FieldViolation]) -> str | None:
    value: str = getattr(request, field)
    if not value:
        return None
    if refused := control_violation(field, value):
        violations.append(refused)
        return None
    return value.strip().upper()


async def check(session: AsyncSession, request: SearchRequest) -> Criteria:
    """Every criterion checked, all reasons at once, each naming its field (INVALID_ARGUMENT); the
    codes of catalogs only as the search's own query reads them (`check_codes`)."""
    violations: list[FieldViolation] = []
    as_of = _date(request.as_of, "as_of", violations)
    day = as_of or vietnam_today()
    catalogs = _Catalogs(session)
    held: list[Held] = []
    kinds: list[OfKind] = []
    sections: set[str] = set()
    for criterion in CODE_CRITERIA:
        code = _code(request, criterion.field, violations)
        if code is None or criterion.field == "evaluation_level":
            continue
        held.append(Held(criterion.fact, (code,)))
        if criterion.kind is not None:
            kinds.append(OfKind(criterion.catalog, code, criterion.kind))
        sections.add(criterion.section)
    # A group is the list of its codes, as the catalog has them now: a literal list the planner can
    # weigh with the facts' statistics.
    if group := _code(request, "rank_group", violations):
        groups = await catalogs.groups("ranks")
        if group not in groups:
            choices = ", ".join(sorted(groups))
            violations.append(FieldViolation("rank_group", f"Không có nhóm ngạch {group!r}; các nhóm: {choices}"))
        else:
            held.append(Held(facts.RANK, tuple(sorted(groups[group]))))
            sections.add("salary")
    evaluation = _code(request, "evaluation_level", violations)
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
    if request.salary_step is not None:
        step = await _step(catalogs, request.salary_step, _code(request, "rank", []), violations)
        if step is not None:
            held.append(Held(facts.STEP, (str(step),)))
            sections.add("salary")
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
    unit = None
    if request.unit_id and not control_violation("unit_id", request.unit_id):
        unit = await session.get(Unit, request.unit_id)
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
        # Every fault at once: the codes too, which a search that runs checks only if it finds nobody.
        raise InvalidArgument(sorted([*violations, *await _unknown_codes(session, request)], key=_field_order))
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
        kinds=tuple(kinds),
        sex=sex,
        born_from=_latest(born_from, born_after),
        born_to=_earliest(born_to, born_by),
        recruited_from=recruited_from,
        recruited_to=recruited_to,
        sort=sort,
        sections=frozenset(sections),
    )


async def check_codes(session: AsyncSession, request: SearchRequest) -> None:
    """Refuses the codes the request names that their catalog does not have (INVALID_ARGUMENT naming
    each): a search that found nobody asks, since an unknown code finds nobody."""
    if violations := await _unknown_codes(session, request):
        raise InvalidArgument(violations)


async def _unknown_codes(session: AsyncSession, request: SearchRequest) -> list[FieldViolation]:
    catalogs = _Catalogs(session)
    violations: list[FieldViolation] = []
    for criterion in CODE_CRITERIA:
        code = _code(request, criterion.field, [])
        if code is not None and code not in await catalogs.codes(criterion.catalog, criterion.kind):
            where = f"danh mục {criterion.label}"
            violations.append(FieldViolation(criterion.field, f"Không có mã {code!r} trong {where}"))
    return violations


def _field_order(violation: FieldViolation) -> int:
    names = list(SearchRequest.__dataclass_fields__)
    return names.index(violation.field) if violation.field in names else len(names)


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

    async def last_steps(self) -> dict[str, int]:
        """Rank code → its last step, in the version of the rank with the most."""
        found: dict[str, int] = {}
        for value in await self._values("ranks"):
            coefficients = (value.attributes or {}).get("coefficients")
            steps = len(coefficients) if isinstance(coefficients, list) else 0
            found[value.code] = max(found.get(value.code, 0), steps)
        return found

    async def groups(self, catalog: str) -> dict[str, set[str]]:
        """Statistical group → the codes in it."""
        found: dict[str, set[str]] = {}
        for value in await self._values(catalog):
            if value.stat_group:
                found.setdefault(value.stat_group, set()).add(value.code)
        return found


async def _step(catalogs: _Catalogs, step: int, rank: str | None, violations: list[FieldViolation]) -> int | None:
    """A step some rank has: the rank's own, when the search names a rank the catalog knows."""
    last = await catalogs.last_steps()
    highest, named = max(last.values(), default=0), last.get(rank or "")
    if step < 1:
        violations.append(FieldViolation("salary_step", "Bậc lương phải từ 1 trở lên"))
    elif named is not None and step > named:
        violations.append(FieldViolation("salary_step", f"Ngạch {rank} chỉ có {named} bậc"))
    elif step > highest:
        violations.append(FieldViolation("salary_step", f"Không ngạch nào có quá {highest} bậc"))
    else:
        return step
    return None


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
