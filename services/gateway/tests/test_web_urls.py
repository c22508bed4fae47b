"""The pages' addresses, kept per route: the same as Starlette's `url_for` gives, for routes of
included routers with and without parameters, a mounted folder's files and another host, and a
parameter that could not be sent in an address refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient

from qlcb_gateway.web.urls import page_url

ASKED = [
    ("home", {}),
    ("person", {"person_id": "p-1"}),
    ("entry", {"person_id": "p-2", "section": "salary"}),
    ("entry", {"person_id": "p-3", "section": "family"}),
    ("files", {"path": "css/web.css"}),
]


def _app(folder: Path) -> FastAPI:
    pages = APIRouter(prefix="/web")

    @pages.get("/", name="home")
    async def home() -> None: ...

    @pages.get("/persons/{person_id}", name="person")
    async def person(person_id: str) -> None: ...

    @pages.get("/persons/{person_id}/{section}/new", name="entry")
    async def entry(person_id: str, section: str) -> None: ...

    rest = APIRouter(prefix="/v1")
    for n in range(50):

        @rest.get(f"/things{n}/{{thing_id}}", name=f"thing{n}")
        async def thing(thing_id: str) -> None: ...

    app = FastAPI()
    app.include_router(rest)
    app.include_router(pages)
    app.mount("/web/static", StaticFiles(directory=folder), name="files")

    @app.get("/compare")
    async def compare(request: Request) -> dict[str, Any]:
        pairs = [(str(page_url(request, n, **p)), str(request.url_for(n, **p))) for n, p in ASKED * 2]
        return {"pairs": pairs}

    @app.get("/refused")
    async def refused(request: Request) -> None:
        page_url(request, "person", person_id="")

    return app


def test_each_address_is_the_one_starlette_gives_on_every_asking(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path), base_url="https://qlcb.example") as client:
        pairs = client.get("/compare").json()["pairs"]
    assert [ours for ours, _ in pairs[:5]] == [
        "https://qlcb.example/web/",
        "https://qlcb.example/web/persons/p-1",
        "https://qlcb.example/web/persons/p-2/salary/new",
        "https://qlcb.example/web/persons/p-3/family/new",
        "https://qlcb.example/web/static/css/web.css",
    ]
    assert all(ours == theirs for ours, theirs in pairs), "kept shapes answer as Starlette does"


def test_an_empty_parameter_is_refused_rather_than_made_into_another_address(tmp_path: Path) -> None:
    with (
        TestClient(_app(tmp_path), raise_server_exceptions=True) as client,
        pytest.raises(ValueError, match="person_id"),
    ):
        client.get("/refused")
