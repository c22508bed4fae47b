"""A request its schema refuses is answered in Vietnamese: each fault at its location, said by its
kind with the schema's limits, a validator's own message kept without pydantic's prefix, the input
never echoed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import httpx
import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, Field, field_validator

from qlcb_common.http_app import install_error_handlers


class Body(BaseModel):
    name: str = Field(min_length=2, max_length=5)
    kind: Literal["lost", "stolen"]
    count: int = Field(ge=1, le=10)
    since: date

    @field_validator("since")
    @classmethod
    def _not_ahead(cls, value: date) -> date:
        if value > date(2026, 12, 31):
            raise ValueError("Không được sau hôm nay")
        return value


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    async def make(body: Body, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, str]:
        return {"name": body.name}

    return app


async def _faults(body: object, query: str = "") -> list[tuple[list[str | int], str, str]]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(f"/things{query}", json=body)
    assert response.status_code == 422
    assert "input" not in response.text, "what was sent is not echoed back"
    return [(f["loc"], f["msg"], f["type"]) for f in response.json()["detail"]]


GOOD = {"name": "Hà", "kind": "lost", "count": 3, "since": "2026-12-01"}


@pytest.mark.parametrize(
    ("changed", "field", "said"),
    [
        ({"name": "Nguyễn"}, "name", "Dài quá 5 ký tự"),
        ({"name": "H"}, "name", "Phải có ít nhất 2 ký tự"),
        ({"kind": "forgot"}, "kind", "Phải là một trong: 'lost' hoặc 'stolen'"),
        ({"count": 0}, "count", "Không được nhỏ hơn 1"),
        ({"count": 11}, "count", "Không được lớn hơn 10"),
        ({"count": "ba"}, "count", "Phải là một số nguyên"),
        ({"since": "31/12/2026"}, "since", "Không phải một ngày (YYYY-MM-DD)"),
        ({"since": "2027-01-01"}, "since", "Không được sau hôm nay"),
    ],
)
async def test_each_fault_is_said_in_vietnamese_at_its_field(changed: dict[str, object], field: str, said: str) -> None:
    [(loc, msg, _kind)] = await _faults(GOOD | changed)
    assert (loc, msg) == (["body", field], said)


async def test_a_missing_field_and_a_query_out_of_range_are_named_together() -> None:
    body = {k: v for k, v in GOOD.items() if k != "name"}
    faults = await _faults(body, "?limit=501")
    assert sorted((loc, msg) for loc, msg, _ in faults) == [
        (["body", "name"], "Bắt buộc nhập"),
        (["query", "limit"], "Không được lớn hơn 500"),
    ]
    assert {kind for *_, kind in faults} == {"missing", "less_than_equal"}, "the kind stays pydantic's"
