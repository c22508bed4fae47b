"""Catalogs: seeded from the repository's data files with their legal basis, looked up by date."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.errors import NotFound
from qlcb_personnel.catalogs.models import CatalogValue

SEEDED_BY = "catalog-seed"


def data_files() -> list[dict[str, Any]]:
    folder = resources.files("qlcb_personnel.catalogs") / "data"
    return [json.loads(f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".json")]


def catalog_names() -> frozenset[str]:
    return frozenset(doc["catalog"] for doc in data_files())


async def seed(session: AsyncSession) -> int:
    """Adds the values of the data files that the store lacks; a value already there (perhaps
    edited through the API since) is left alone. Returns how many were added."""
    existing = set(
        (await session.execute(select(CatalogValue.catalog, CatalogValue.code, CatalogValue.valid_from))).tuples()
    )
    now = datetime.now(UTC)
    added = 0
    for doc in data_files():
        for value in doc["values"]:
            valid_from = date.fromisoformat(value["valid_from"])
            if (doc["catalog"], value["code"], valid_from) in existing:
                continue
            session.add(
                CatalogValue(
                    catalog=doc["catalog"],
                    code=value["code"],
                    valid_from=valid_from,
                    valid_to=date.fromisoformat(value["valid_to"]) if value.get("valid_to") else None,
                    label=value["label"],
                    stat_group=value.get("group"),
                    attributes=value.get("attributes", {}),
                    legal_basis=doc["legal_basis"],
                    recorded_at=now,
                    recorded_by=SEEDED_BY,
                )
            )
            added += 1
    return added


def _valid_on(day: date) -> Any:
    return (CatalogValue.valid_from <= day) & or_(CatalogValue.valid_to.is_(None), CatalogValue.valid_to >= day)


async def value_on(session: AsyncSession, catalog: str, code: str, day: date) -> CatalogValue | None:
    """The value of `code` valid on `day`, or None if the catalog has no such code then."""
    found = await session.scalars(
        select(CatalogValue).where(CatalogValue.catalog == catalog, CatalogValue.code == code, _valid_on(day))
    )
    return found.first()


async def values_on(session: AsyncSession, catalog: str, day: date) -> Sequence[CatalogValue]:
    found = list(
        await session.scalars(
            select(CatalogValue).where(CatalogValue.catalog == catalog, _valid_on(day)).order_by(CatalogValue.code)
        )
    )
    if not found and catalog not in catalog_names():
        raise NotFound(f"Không có danh mục {catalog!r}")
    return found
