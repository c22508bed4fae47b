"""What the pages keep of the backends' answers: asked once per key, kept for the time set, asked
again after it and only for the keys held too long; a key the backend does not know kept as unknown."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from qlcb_gateway.web.kept import Kept


def test_answers_are_kept_for_the_time_set_then_asked_again_key_by_key() -> None:
    lists = {"ranks": {"01.003": "Chuyên viên"}, "reward_forms": {"GIAY_KHEN": "Giấy khen"}}
    now = [1000.0]
    asked: list[list[str]] = []
    kept: Kept[dict[str, str]] = Kept(ttl_seconds=300, clock=lambda: now[0])

    async def fetch(keys: list[str]) -> Mapping[str, dict[str, str]]:
        asked.append(keys)
        return {k: dict(lists[k]) for k in keys if k in lists}

    assert asyncio.run(kept.of(["ranks"], fetch)) == {"ranks": {"01.003": "Chuyên viên"}}
    now[0] += 200
    assert asyncio.run(kept.of(["ranks", "reward_forms", "no_such"], fetch)) == lists
    assert asked == [["ranks"], ["no_such", "reward_forms"]], "ranks held; the others asked together"
    assert asyncio.run(kept.of(["no_such"], fetch)) == {}
    assert len(asked) == 2, "an unknown key is kept as unknown"
    now[0] += 150
    lists["ranks"]["01.002"] = "Chuyên viên chính"
    assert asyncio.run(kept.of(["ranks", "reward_forms"], fetch))["ranks"]["01.002"] == "Chuyên viên chính"
    assert asked[-1] == ["ranks"], "ranks asked again after 350 s; reward forms still held"


def test_past_its_size_what_is_held_too_long_is_let_go() -> None:
    now = [0.0]
    kept: Kept[str] = Kept(ttl_seconds=10, max_keys=3, clock=lambda: now[0])

    async def fetch(keys: list[str]) -> Mapping[str, str]:
        return {k: k.upper() for k in keys}

    asyncio.run(kept.of(["a", "b"], fetch))
    now[0] += 20
    asyncio.run(kept.of(["c", "d"], fetch))
    assert sorted(kept._held) == ["c", "d"]
