"""The names a page shows for the people and units it lists by id, asked of personnel a few at a
time; those outside what the caller may read are left out, and the page says so in their place."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

import grpc
from fastapi import Request

from qlcb_gateway.routes.organisation import get_person, get_unit
from qlcb_gateway.web.pages import Visit, backends_of

AT_ONCE = 16
"""Names asked of personnel at once."""
OUT_OF_REACH = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)


async def _names(ids: Iterable[str], name_of: Callable[[str], Awaitable[str]]) -> dict[str, str]:
    calls = asyncio.Semaphore(AT_ONCE)

    async def one(key: str) -> tuple[str, str | None]:
        async with calls:
            try:
                return key, await name_of(key)
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in OUT_OF_REACH:
                    raise
                return key, None

    found = await asyncio.gather(*(one(key) for key in set(ids)))
    return {key: name for key, name in found if name is not None}


async def people_names(request: Request, visit: Visit, person_ids: Iterable[str]) -> dict[str, str]:
    backends = backends_of(request)

    async def name_of(person_id: str) -> str:
        return (await get_person(person_id, visit.principal, backends)).full_name

    return await _names(person_ids, name_of)


async def unit_names(request: Request, visit: Visit, unit_ids: Iterable[str]) -> dict[str, str]:
    backends = backends_of(request)

    async def name_of(unit_id: str) -> str:
        return (await get_unit(unit_id, visit.principal, backends)).name

    return await _names(unit_ids, name_of)
