"""Catalogs: seeded from the repository's data files with their legal basis, looked up by date,
kept by the sector's HR through the API; every change made through the API is published
(`qlcb.personnel.catalog.changed`), seeding is not."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

from sqlalchemy import insert, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import events_pb2
from qlcb_common import authz
from qlcb_common import personnel_rules as rules
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Section
from qlcb_common.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.text import control_violation
from qlcb_personnel.audit import trail
from qlcb_personnel.catalogs import messages
from qlcb_personnel.catalogs.models import CatalogValue

ADDED, CLOSED, ENDED = "added", "closed", "ended"

SEEDED_BY = "catalog-seed"


def data_files() -> list[dict[str, Any]]:
    folder = resources.files("qlcb_personnel.catalogs") / "data"
    return [json.loads(f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".json")]


@dataclass(frozen=True)
class Parent:
    """A catalog whose values each belong to a value of another (a commune to its province): the
    other catalog, and the attribute of each value that holds the code it belongs to."""

    catalog: str
    attribute: str


@cache
def _catalogs() -> tuple[frozenset[str], Mapping[str, Parent]]:
    """The names of the catalogs and their parents, as the data files declare them (read once:
    the files ship with the service)."""
    documents = data_files()
    parents = {doc["catalog"]: Parent(**doc["parent"]) for doc in documents if "parent" in doc}
    return frozenset(doc["catalog"] for doc in documents), parents


def catalog_names() -> frozenset[str]:
    return _catalogs()[0]


def parent_of(catalog: str) -> Parent | None:
    return _catalogs()[1].get(catalog)


async def seed(session: AsyncSession) -> int:
    """Adds the values of the data files that the store lacks; a value already there (perhaps
    edited through the API since) is left alone. Returns how many were added. The rows go in as
    one bulk insert: the communes alone are some 13,000 values on a fresh store."""
    stored = await session.execute(select(CatalogValue.catalog, CatalogValue.code, CatalogValue.valid_from))
    existing = {(catalog, code, since) for catalog, code, since in stored}
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for doc in data_files():
        for value in doc["values"]:
            valid_from = date.fromisoformat(value["valid_from"])
            if (doc["catalog"], value["code"], valid_from) in existing:
                continue
            rows.append(
                {
                    "catalog": doc["catalog"],
                    "code": value["code"],
                    "valid_from": valid_from,
                    "valid_to": date.fromisoformat(value["valid_to"]) if value.get("valid_to") else None,
                    "label": value["label"],
                    "stat_group": value.get("group"),
                    "attributes": value.get("attributes", {}),
                    "legal_basis": doc["legal_basis"],
                    "recorded_at": now,
                    "recorded_by": SEEDED_BY,
                }
            )
    if rows:
        await session.execute(insert(CatalogValue), rows)
        # A bulk insert passes the flush that audits each row: one entry tells what the files added.
        added: dict[str, int] = {}
        for row in rows:
            added[row["catalog"]] = added.get(row["catalog"], 0) + 1
        await trail.note_import(
            session, unit_path=None, details={"kind": "catalog_seed", "values": len(rows), "by_catalog": added}
        )
    return len(rows)


def _valid_on(day: date) -> Any:
    return (CatalogValue.valid_from <= day) & or_(CatalogValue.valid_to.is_(None), CatalogValue.valid_to >= day)


_VERSIONS_READ = "catalog_versions"
"""The key of `session.info` under which a unit of work keeps the catalog codes it has read."""


async def value_on(session: AsyncSession, catalog: str, code: str, day: date) -> CatalogValue | None:
    """The value of `code` valid on `day`, or None if the catalog has no such code then. A code's
    versions are read once per unit of work: a record taken in at once names the same few codes
    (a rank, evaluation levels) in many entries."""
    read: dict[tuple[str, str], list[CatalogValue]] = session.info.setdefault(_VERSIONS_READ, {})
    versions = read.get((catalog, code))
    if versions is None:
        versions = read[catalog, code] = list(
            await session.scalars(
                select(CatalogValue).where(CatalogValue.catalog == catalog, CatalogValue.code == code)
            )
        )
    return next((v for v in versions if v.valid_from <= day and (v.valid_to is None or v.valid_to >= day)), None)


async def read_versions(session: AsyncSession, codes: Iterable[tuple[str, str]]) -> None:
    """Reads the versions of every (catalog, code) in one statement into `value_on`'s cache: what a
    whole record names is then labelled without a statement per code."""
    read: dict[tuple[str, str], list[CatalogValue]] = session.info.setdefault(_VERSIONS_READ, {})
    wanted = sorted(set(codes) - set(read))
    if not wanted:
        return
    for pair in wanted:
        read[pair] = []
    for value in await session.scalars(
        select(CatalogValue).where(tuple_(CatalogValue.catalog, CatalogValue.code).in_(wanted))
    ):
        read[value.catalog, value.code].append(value)


async def latest(session: AsyncSession, catalog: str, code: str) -> CatalogValue | None:
    """The code's latest version, whatever its dates (read through `value_on`'s cache)."""
    await value_on(session, catalog, code, date.max)
    versions: list[CatalogValue] = session.info[_VERSIONS_READ][catalog, code]
    return max(versions, key=lambda v: v.valid_from, default=None)


async def values_on(session: AsyncSession, catalog: str, day: date, parent: str = "") -> Sequence[CatalogValue]:
    """The catalog's values valid on `day`; with `parent`, only those that belong to that code of
    the parent catalog (the communes of a province), which must itself be valid on `day`."""
    query = select(CatalogValue).where(CatalogValue.catalog == catalog, _valid_on(day))
    if parent:
        if catalog not in catalog_names():
            raise NotFound(f"Không có danh mục {catalog!r}")
        link = parent_of(catalog)
        if link is None:
            raise InvalidArgument.single("parent", f"Danh mục {catalog} không chia theo danh mục cấp trên")
        code = parent.strip().upper()
        if await value_on(session, link.catalog, code, day) is None:
            raise InvalidArgument.single(
                "parent", f"Mã {code!r} không có trong danh mục {link.catalog} ngày {day.isoformat()}"
            )
        query = query.where(CatalogValue.attributes[link.attribute].as_string() == code)
    found = list(await session.scalars(query.order_by(CatalogValue.code)))
    if not found and catalog not in catalog_names():
        raise NotFound(f"Không có danh mục {catalog!r}")
    return found


@dataclass(frozen=True)
class ValueInput:
    label: str
    valid_from: str
    legal_basis: str
    stat_group: str = ""
    attributes: Mapping[str, object] = field(default_factory=dict)


def _check_input(
    catalog: str, data: ValueInput, violations: list[FieldViolation]
) -> tuple[str, date | None, str, str | None]:
    label = rules.short_text(data.label, "label", rules.MAX_CATALOG_LABEL, violations, required=True)
    basis = rules.short_text(data.legal_basis, "legal_basis", rules.MAX_LEGAL_BASIS, violations, required=True)
    group = rules.short_text(data.stat_group, "stat_group", rules.MAX_CATALOG_GROUP, violations)
    start = rules.iso_date(data.valid_from, violations, "valid_from", "Ngày phải theo dạng YYYY-MM-DD")
    if catalog == "ranks":
        _rank_attributes(data.attributes, violations)
    if catalog == "posts":
        _post_attributes(data.attributes, violations)
    return label or "", start, basis or "", group


def _rank_attributes(attributes: Mapping[str, object], violations: list[FieldViolation]) -> None:
    """A rank carries its salary grid: the coefficients of its steps, rising, and months per step."""
    coefficients = attributes.get("coefficients")
    months = attributes.get("months_per_step")
    written = coefficients if isinstance(coefficients, list) else []
    steps = [Decimal(c) for c in written if isinstance(c, str) and COEFFICIENT.fullmatch(c)]
    if not steps or len(steps) != len(written) or any(b <= a for a, b in pairwise(steps)):
        violations.append(
            FieldViolation("attributes.coefficients", 'danh sách hệ số các bậc, tăng dần, mỗi hệ số dạng "2.34"')
        )
    if not isinstance(months, int) or isinstance(months, bool) or months not in (12, 24, 36, 60):
        violations.append(FieldViolation("attributes.months_per_step", "số tháng mỗi bậc: 12, 24, 36 hoặc 60"))
    if not isinstance(attributes.get("salary_group"), str):
        violations.append(FieldViolation("attributes.salary_group", "nhóm ngạch, ví dụ A1"))


def _post_attributes(attributes: Mapping[str, object], violations: list[FieldViolation]) -> None:
    """A leadership post carries its allowance coefficient (phụ cấp chức vụ lãnh đạo), or null
    while the figure is not confirmed."""
    coefficient = attributes.get("allowance_coefficient")
    if coefficient is None and "allowance_coefficient" in attributes:
        return
    number = Decimal(coefficient) if isinstance(coefficient, str) and COEFFICIENT.fullmatch(coefficient) else None
    if number is None or not 0 < number < 10:
        violations.append(
            FieldViolation("attributes.allowance_coefficient", 'hệ số phụ cấp chức vụ, ví dụ "0.70", hoặc null')
        )


COEFFICIENT = re.compile(r"[0-9]{1,2}\.[0-9]{2}")
"""A coefficient as the grids and the allowance tables write one, e.g. "2.34": compared as written
with the coefficients records carry."""


def _clean_attributes(value: Any, where: str, violations: list[FieldViolation]) -> Any:
    """The attributes with every text in NFC; text holding a control character is refused, named."""
    if isinstance(value, str):
        if refused := control_violation(where, value):
            violations.append(refused)
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Mapping):
        return {key: _clean_attributes(item, f"{where}.{key}", violations) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean_attributes(item, f"{where}[{n}]", violations) for n, item in enumerate(value)]
    return value


async def _belongs_to_parent(
    session: AsyncSession, link: Parent, attributes: Mapping[str, object], start: date, violations: list[FieldViolation]
) -> None:
    """A value of a catalog with a parent names a parent's code valid from its first day (a new
    commune names its province), so that records can check a code against the parent they give."""
    code = attributes.get(link.attribute)
    if not isinstance(code, str) or await value_on(session, link.catalog, code, start) is None:
        violations.append(
            FieldViolation(
                f"attributes.{link.attribute}",
                f"mã trong danh mục {link.catalog} còn hiệu lực ngày {start.isoformat()} mà giá trị này thuộc về",
            )
        )


async def _publish(outbox: Outbox, session: AsyncSession, actor: Principal, value: CatalogValue, change: str) -> None:
    await outbox.add(
        session,
        subject=subjects.PERSONNEL_CATALOG_CHANGED,
        payload=events_pb2.CatalogValueChanged(value=messages.to_proto(value), change=change, changed_by=actor.subject),
        actor=actor.subject,
    )


async def put_value(
    session: AsyncSession, *, outbox: Outbox, actor: Principal, catalog: str, code: str, data: ValueInput
) -> CatalogValue:
    """A value from a date (R-PER-6): a new code, or a new version of one, which closes the version
    valid until then the day before. History is only added to: a version may not start on or
    before the one it follows."""
    authz.require(actor, Section.CATALOG, Action.UPDATE, "/")
    if catalog not in catalog_names():
        raise NotFound(f"Không có danh mục {catalog!r}")
    session.info.pop(_VERSIONS_READ, None)
    violations: list[FieldViolation] = []
    code = rules.catalog_code(code, violations)
    label, start, basis, group = _check_input(catalog, data, violations)
    attributes = _clean_attributes(data.attributes, "attributes", violations)
    link = parent_of(catalog)
    if link is not None and start is not None and not violations:
        await _belongs_to_parent(session, link, attributes, start, violations)
    if violations or start is None:
        raise InvalidArgument(violations)
    versions = list(
        await session.scalars(
            select(CatalogValue)
            .where(CatalogValue.catalog == catalog, CatalogValue.code == code)
            .order_by(CatalogValue.valid_from)
            .with_for_update()
        )
    )
    if versions and versions[-1].valid_from >= start:
        latest = versions[-1]
        raise FailedPrecondition(
            f"valid_from: phiên bản từ {latest.valid_from.isoformat()} đã có; phiên bản mới phải bắt đầu sau ngày đó"
        )
    if versions and (versions[-1].valid_to is None or versions[-1].valid_to >= start):
        versions[-1].valid_to = start - timedelta(days=1)
        await _publish(outbox, session, actor, versions[-1], CLOSED)
    value = CatalogValue(
        catalog=catalog,
        code=code,
        valid_from=start,
        valid_to=None,
        label=label,
        stat_group=group,
        attributes=attributes,
        legal_basis=basis,
        recorded_at=datetime.now(UTC),
        recorded_by=actor.subject,
    )
    session.add(value)
    await _publish(outbox, session, actor, value, ADDED)
    return value


async def end_value(
    session: AsyncSession, *, outbox: Outbox, actor: Principal, catalog: str, code: str, valid_to: str
) -> CatalogValue:
    """A code no longer used after `valid_to` (a form abolished, a rank renamed): records keep it
    for the dates it was valid."""
    authz.require(actor, Section.CATALOG, Action.UPDATE, "/")
    session.info.pop(_VERSIONS_READ, None)
    violations: list[FieldViolation] = []
    end = rules.iso_date(valid_to, violations, "valid_to", "Ngày phải theo dạng YYYY-MM-DD")
    if end is None:
        raise InvalidArgument(violations)
    latest = await session.scalar(
        select(CatalogValue)
        .where(CatalogValue.catalog == catalog, CatalogValue.code == code.strip().upper())
        .order_by(CatalogValue.valid_from.desc())
        .limit(1)
        .with_for_update()
    )
    if latest is None:
        raise NotFound(f"Không có mã {code!r} trong danh mục {catalog!r}")
    if end < latest.valid_from:
        raise InvalidArgument.single("valid_to", f"Trước ngày bắt đầu của phiên bản hiện hành ({latest.valid_from})")
    latest.valid_to = end
    await _publish(outbox, session, actor, latest, ENDED)
    return latest
