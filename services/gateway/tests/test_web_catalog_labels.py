"""The catalog labels the pages show beside codes: asked of personnel once per catalog, kept for the
time set, asked again after it, and only for the catalogs whose labels are too old."""

from __future__ import annotations

import asyncio

from qlcb_gateway.web.catalog_labels import CatalogLabels


def test_labels_are_kept_for_the_time_set_then_asked_again_catalog_by_catalog() -> None:
    lists = {"ranks": {"01.003": "Chuyên viên"}, "reward_forms": {"GIAY_KHEN": "Giấy khen"}}
    now = [1000.0]
    asked: list[str] = []
    labels = CatalogLabels(ttl_seconds=300, clock=lambda: now[0])

    async def fetch(catalog: str) -> dict[str, str]:
        asked.append(catalog)
        return dict(lists[catalog])

    assert asyncio.run(labels.of(["ranks"], fetch)) == {"ranks": {"01.003": "Chuyên viên"}}
    now[0] += 200
    assert asyncio.run(labels.of(["ranks", "reward_forms"], fetch)) == lists
    assert asked == ["ranks", "reward_forms"], "ranks held, reward forms asked"
    now[0] += 150
    lists["ranks"]["01.002"] = "Chuyên viên chính"
    assert asyncio.run(labels.of(["ranks", "reward_forms"], fetch))["ranks"]["01.002"] == "Chuyên viên chính"
    assert asked == ["ranks", "reward_forms", "ranks"], "ranks asked again after 350 s; reward forms still held"
