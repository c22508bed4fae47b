"""Control characters in a request's path or query are refused by name before any route reads them,
on a small FastAPI app wired as the services are (`instrument`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Query

from qlcb_common.http_app import install_error_handlers, instrument
from qlcb_common.ops_http import Readiness
from qlcb_common.request_text import NO_CONTROLS
from qlcb_common.settings import HttpApiSettings


@pytest.fixture
async def client() -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    app = FastAPI()
    reached: list[str] = []

    @app.get("/v1/persons/{person_id}")
    async def person(person_id: str, q: str = "") -> dict[str, str]:
        reached.append(person_id)
        return {"id": person_id, "q": q}

    instrument(app, service="test", readiness=Readiness(), http=HttpApiSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c, reached


@pytest.mark.parametrize(
    ("url", "loc"),
    [
        ("/v1/persons/%00", ["path"]),
        ("/v1/persons/a%1Bb", ["path"]),
        ("/v1/persons/p1?q=a%00", ["query", "q"]),
        ("/v1/persons/p1?q=Nguy%E1%BB%85n%7F", ["query", "q"]),
        ("/v1/persons/p1?other=%01", ["query", "other"]),
    ],
)
async def test_a_control_character_in_the_path_or_a_query_is_refused_by_name(
    client: tuple[httpx.AsyncClient, list[str]], url: str, loc: list[str]
) -> None:
    api, reached = client
    response = await api.get(url)
    assert response.status_code == 422
    [fault] = response.json()["detail"]
    assert fault["loc"] == loc
    assert fault["msg"].startswith("Không được chứa ký tự điều khiển: U+")
    assert reached == []


async def test_vietnamese_text_and_spaces_go_through(client: tuple[httpx.AsyncClient, list[str]]) -> None:
    api, reached = client
    response = await api.get("/v1/persons/p%201", params={"q": "Nguyễn Văn An"})
    assert response.status_code == 200
    assert response.json() == {"id": "p 1", "q": "Nguyễn Văn An"}
    assert reached == ["p 1"]


def test_the_openapi_document_says_a_string_parameter_holds_no_control_character() -> None:
    app = FastAPI()

    @app.get("/v1/units/{unit_id}")
    async def unit(unit_id: str, q: str | None = None, code: str = Query("", pattern="^[A-Z]+$")) -> None:
        return None

    install_error_handlers(app)
    parameters = {p["name"]: p["schema"] for p in app.openapi()["paths"]["/v1/units/{unit_id}"]["get"]["parameters"]}
    assert parameters["unit_id"]["pattern"] == NO_CONTROLS
    assert [v.get("pattern") for v in parameters["q"]["anyOf"]] == [NO_CONTROLS, None]
    assert parameters["code"]["pattern"] == "^[A-Z]+$", "a parameter's own pattern says more already"
