"""The statutory forms as data (`forms/*.json`): a form's columns, each a count of the people it
selects (by sex, age band, nearness to the retirement age of the dated schedule, and the catalog
groups of a fact held on the day) or the staffing quota. A new form, or a corrected column, is a
new or changed file, not a release of code: the files packaged here are read first, then those of
the folder the operator names (`QLCB_REPORTS_STATISTICS_FORMS_DIR`, a ConfigMap under Helm), whose
form of a packaged code replaces it and whose `retirement_ages.json` replaces the schedule.

The layouts are read once, when the service starts (`use_folder`), and are the same for the
process's whole life; a malformed file stops the start, naming the file."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from qlcb_reports.regimes.service import KINDS_OF_UNIT
from qlcb_reports.statistics.projection import CATALOG_OF

SEXES = {"male": "SEX_MALE", "female": "SEX_FEMALE"}
COUNTS = ("people", "quota", "list", "events")
EVENTS = ("recruited", "appointed", "transferred_in", "transferred_out", "discipline", "reward", "status:")
"""What a column of a form of events counts, from the first day of the year to the report's day: the
recruitments, appointments, disciplines and rewards dated then, the moves into and out of a unit,
the statuses (`status:PERSON_STATUS_RETIRED`) taking effect then."""
SOURCES = ("name", "born", "unit", "post", "rank", "rank_since", "salary:", "allowance:")
"""What a list form's column prints: the name; the birth date (of a person of the column's sex); the
unit, post and rank held on the day; the first day of that rank; a value of the salary step held
(`salary:coefficient`); an allowance of a kind held (`allowance:KHU_VUC`), its coefficient or percent."""
RETIREMENT_FILE = "retirement_ages.json"
ROWS = ("units_below",)
"""How a form of counts or events lays out its rows: the unit's total, then each unit directly below
it that holds people the form counts, then the unit's own people (the only layout of TT 11/2012's
forms)."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    header: str = ""
    """The header printed above a run of columns (merged over them in an export)."""
    count: str = "people"
    sex: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    retirement_reached: bool = False
    """Aged at or above the retirement age of the day (for the person's sex)."""
    retirement_within_years: int | None = None
    """Below the retirement age of the day, by at most this many years."""
    fact: str | None = None
    kind: str | None = None
    groups: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    """Groups of the same fact and kind that, held too, count the person elsewhere (a higher level)."""
    source: str = ""
    """In a list form: what the column prints of each person (see `SOURCES`)."""
    event: str = ""
    """In a form of events: what the column counts (see `EVENTS`)."""


@dataclass(frozen=True)
class Form:
    code: str
    title: str
    legal_basis: str
    notes: tuple[str, ...]
    columns: tuple[Column, ...]
    kind: str = "counts"
    """"counts" (rows of units, cells of counts), "list" (a row per person) or "events" (rows of units,
    cells counting what happened in the year up to the day)."""
    unit_kinds: tuple[str, ...] = ()
    """The kinds of unit (reports' lower-case names) whose people the form counts; empty: every kind."""
    except_unit_kinds: tuple[str, ...] = ()
    """The kinds of unit whose people the form leaves to another form (BM01 leaves the communes to BM02)."""
    designation: str = ""
    """What the printed form names itself in its top corner ("Biểu mẫu BM01/BNV"); empty for a form
    the regulation gives no number."""

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    def counts_in(self, unit_kind: str) -> bool:
        """Whether the people of a unit of this kind count in the form."""
        if self.unit_kinds and unit_kind not in self.unit_kinds:
            return False
        return unit_kind not in self.except_unit_kinds


@dataclass(frozen=True)
class RetirementAges:
    """Months of age at which each sex retires, by calendar year (Nghị định 135/2020/NĐ-CP)."""

    schedule: dict[str, dict[str, Any]]

    def months(self, sex: str, day: date) -> int:
        plan = self.schedule[sex]
        by_year: dict[str, int] = plan["months_by_year"]
        if str(day.year) in by_year:
            return by_year[str(day.year)]
        first = min(int(year) for year in by_year)
        return int(plan["before"] if day.year < first else plan["after"])


def _column(raw: dict[str, Any], where: str, kind: str) -> Column:
    if kind == "events":
        column = Column(
            key=raw["key"], label=raw["label"], header=raw.get("header", ""), count="events", event=raw["event"]
        )
        if not (column.event in EVENTS or (column.event.startswith("status:") and column.event != "status:")):
            raise ValueError(f"{where}: event must be one of {EVENTS}")
        return column
    if kind == "list":
        column = Column(
            key=raw["key"],
            label=raw["label"],
            header=raw.get("header", ""),
            count="list",
            sex=SEXES[raw["sex"]] if "sex" in raw else None,
            source=raw["source"],
        )
        if not column.source.startswith(SOURCES) or column.source.endswith(":"):
            raise ValueError(f"{where}: source must be one of {SOURCES}")
        return column
    age = raw.get("age", {})
    retirement = raw.get("retirement", {})
    column = Column(
        key=raw["key"],
        label=raw["label"],
        header=raw.get("header", ""),
        count=raw.get("count", "people"),
        sex=SEXES[raw["sex"]] if "sex" in raw else None,
        age_min=age.get("min"),
        age_max=age.get("max"),
        retirement_reached=bool(retirement.get("reached", False)),
        retirement_within_years=retirement.get("within_years"),
        fact=raw.get("fact"),
        kind=raw.get("kind"),
        groups=tuple(raw.get("groups", ())),
        unless=tuple(raw.get("unless", ())),
    )
    if column.count not in COUNTS[:2]:
        raise ValueError(f"{where}: count must be one of {COUNTS}")
    if column.fact is not None and (column.fact not in CATALOG_OF or not column.groups):
        raise ValueError(f"{where}: fact must be one of {sorted(CATALOG_OF)}, with groups")
    if column.fact is None and (column.groups or column.unless or column.kind):
        raise ValueError(f"{where}: groups, unless and kind need a fact")
    return column


_folder: Path | None = None


def use_folder(folder: Path | None) -> None:
    """Reads the operator's layouts from `folder` besides the packaged ones from now on, and checks
    them all at once (a malformed file raises ValueError naming it)."""
    global _folder
    _folder = folder
    forms.cache_clear()
    retirement_ages.cache_clear()
    forms()
    retirement_ages()


def _files() -> Iterable[Traversable]:
    packaged = resources.files("qlcb_reports.statistics").joinpath("forms")
    yield from sorted(packaged.iterdir(), key=lambda i: i.name)
    if _folder is not None:
        if not _folder.is_dir():
            raise ValueError(f"{_folder}: the statistics forms folder does not exist")
        yield from sorted(_folder.iterdir(), key=lambda i: i.name)


def _form(item: Traversable) -> Form:
    try:
        raw = json.loads(item.read_text(encoding="utf-8"))
        kind = raw.get("kind", "counts")
        columns = tuple(_column(c, f"column {i}", kind) for i, c in enumerate(raw["columns"]))
        rows = raw.get("rows", ROWS[0])
        code, title, basis = raw["form"], raw["title"], raw["legal_basis"]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{item.name}: {error}") from error
    if kind not in ("counts", "list", "events"):
        raise ValueError(f"{item.name}: kind must be counts, list or events")
    if kind != "list" and rows not in ROWS:
        raise ValueError(f"{item.name}: rows must be one of {ROWS}")
    if len({c.key for c in columns}) != len(columns):
        raise ValueError(f"{item.name}: column keys repeat")
    notes = tuple(raw.get("notes", ()))
    only, but = tuple(raw.get("unit_kinds", ())), tuple(raw.get("except_unit_kinds", ()))
    if not set(only + but) <= KINDS_OF_UNIT or (only and but):
        raise ValueError(f"{item.name}: unit_kinds or except_unit_kinds, each of {sorted(KINDS_OF_UNIT)}")
    return Form(code, title, basis, notes, columns, kind, only, but, raw.get("designation", ""))


@functools.cache
def forms() -> dict[str, Form]:
    """Every form, by code: the packaged files', then the operator's folder's (see the module)."""
    found: dict[str, Form] = {}
    for item in _files():
        if item.name.endswith(".json") and item.name != RETIREMENT_FILE:
            form = _form(item)
            found[form.code] = form
    return found


@functools.cache
def retirement_ages() -> RetirementAges:
    schedule = next(i for i in reversed(list(_files())) if i.name == RETIREMENT_FILE)
    try:
        raw = json.loads(schedule.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"{schedule.name}: {error}") from error
    if not all(sex in raw for sex in SEXES.values()):
        raise ValueError(f"{schedule.name}: a schedule for each of {sorted(SEXES.values())}")
    return RetirementAges({k: v for k, v in raw.items() if k in SEXES.values()})
