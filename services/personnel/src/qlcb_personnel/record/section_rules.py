"""Rules of particular sections beyond their fields' types: codes valid in their catalog on the
entry's date, and what the catalogs say of them (a rank's steps and coefficients, the kind of
training a level belongs to, the province a commune belongs to)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.errors import FieldViolation
from qlcb_common.record_sections import Field, Kind, RecordSection
from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.catalogs.models import CatalogValue


async def check(
    session: AsyncSession,
    section: RecordSection,
    values: dict[str, object],
    day: date,
    violations: list[FieldViolation],
) -> None:
    found: dict[str, CatalogValue] = {}
    for spec in section.fields:
        if spec.kind is not Kind.CODE or spec.catalog is None or spec.name not in values:
            continue
        value = await catalogs.value_on(session, spec.catalog, str(values[spec.name]), day)
        if value is None:
            violations.append(
                FieldViolation(
                    f"values.{spec.name}",
                    f"{spec.label}: mã {values[spec.name]!r} không có trong danh mục {spec.catalog} "
                    f"ngày {day.isoformat()}",
                )
            )
        else:
            found[spec.name] = value
    for spec in section.fields:
        if spec.within is not None and spec.name in found and spec.within in found:
            await _within(session, spec, found[spec.name], found[spec.within], day, violations)
    if section.name == "salary" and "rank_code" in found:
        _salary(found["rank_code"], values, violations)
    year = values.get("year")
    if section.name == "evaluations" and isinstance(year, int) and year > day.year:
        violations.append(
            FieldViolation(
                "values.year",
                f"Năm đánh giá {year} sau năm có hiệu lực của quyết định ({day.isoformat()}): "
                "không đánh giá, xếp loại trước một năm chưa đến",
            )
        )
    if section.name == "trainings" and {"kind", "level"} <= found.keys():
        level, kind = found["level"], found["kind"]
        if level.attributes.get("kind") != kind.code:
            violations.append(FieldViolation("values.level", f"Trình độ {level.label} không thuộc loại {kind.label}"))


async def _within(
    session: AsyncSession,
    spec: Field,
    value: CatalogValue,
    given: CatalogValue,
    day: date,
    violations: list[FieldViolation],
) -> None:
    """A code belongs to the parent code the same entry gives (a commune to the entry's province)."""
    link = catalogs.parent_of(value.catalog)
    if link is None or link.catalog != given.catalog:
        raise RuntimeError(f"{spec.name}: catalog {value.catalog} has no parent {given.catalog}")
    owner_code = str(value.attributes.get(link.attribute, ""))
    if owner_code == given.code:
        return
    owner = await catalogs.value_on(session, link.catalog, owner_code, day)
    owner_name = f"{owner.label} ({owner_code})" if owner is not None else f"mã {owner_code!r}"
    violations.append(
        FieldViolation(
            f"values.{spec.name}",
            f"{spec.label}: {value.label} ({value.code}) thuộc {owner_name}, "
            f"không thuộc {given.label} ({given.code}) ghi ở values.{spec.within}",
        )
    )


def _salary(rank: CatalogValue, values: dict[str, object], violations: list[FieldViolation]) -> None:
    """The step exists in the rank's salary group, the coefficient is the grid's for that step,
    and the over-frame allowance is only paid at the last step."""
    coefficients: list[str] = rank.attributes["coefficients"]
    step = values.get("step")
    if not isinstance(step, int):
        return
    last = len(coefficients)
    if step > last:
        violations.append(
            FieldViolation("values.step", f"Bậc {step} vượt bậc cuối ({last}) của ngạch {rank.code} ({rank.label})")
        )
        return
    expected = Decimal(coefficients[step - 1])
    given = values.get("coefficient")
    if isinstance(given, str) and Decimal(given) != expected:
        violations.append(
            FieldViolation(
                "values.coefficient",
                f"Hệ số {given} không khớp bảng lương: ngạch {rank.code} bậc {step} là {expected}",
            )
        )
    if values.get("over_frame_percent") is not None and step != last:
        violations.append(
            FieldViolation("values.over_frame_percent", f"Chỉ hưởng phụ cấp vượt khung ở bậc cuối ({last})")
        )
