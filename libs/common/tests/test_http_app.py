"""What every REST service shares, on a small app wired as the services are: requests counted
under their route template, every error answered in the one schema, and each operation's
OpenAPI document listing the error statuses it can answer with that schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from prometheus_client import REGISTRY
from pydantic import BaseModel

from qlcb_common.auth import Principal
from qlcb_common.errors import Gone, NotFound
from qlcb_common.http_app import caller_dependency, install_error_handlers, instrument
from qlcb_common.ops_http import Readiness
from qlcb_common.settings import HttpApiSettings

SERVICE = "http-app-test"
TOKEN = {"Authorization": "Bearer token-of-someone"}
Caller = Annotated[Principal, Depends(caller_dependency(SERVICE))]


class Note(BaseModel):
    text: str


class AnyToken:
    async def verify(self, token: str) -> Principal:
        return Principal(subject="s-1", username="someone", roles=frozenset(), unit_path=None, token=token)


def _app() -> FastAPI:
    app = FastAPI()
    instrument(app, service=SERVICE, readiness=Readiness(), http=HttpApiSettings())
    install_error_handlers(app, every_operation=(503,))
    app.state.verifier = AnyToken()
    router = APIRouter(prefix="/v1")

    @router.get("/notes/{note_id}")
    async def get_note(note_id: str, principal: Caller) -> Note:
        if note_id == "missing":
            raise NotFound("Không có ghi chú")
        return Note(text=note_id)

    @router.post("/notes", responses={410: {"description": "The notebook was closed"}})
    async def add_note(note: Note, principal: Caller) -> Note:
        if note.text == "late":
            raise Gone("Sổ đã đóng")
        return note

    @router.get("/version")
    async def version() -> str:
        return "1"

    app.include_router(router)
    return app


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://test") as client:
        yield client


def _requests(route: str, status: str) -> float:
    labels = {"service": SERVICE, "method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("qlcb_http_server_requests_total", labels) or 0.0


async def test_requests_are_counted_under_their_route_template(api: httpx.AsyncClient) -> None:
    before = {
        ("/v1/notes/{note_id}", "200"): _requests("/v1/notes/{note_id}", "200"),
        ("/v1/notes/{note_id}", "404"): _requests("/v1/notes/{note_id}", "404"),
        ("/livez", "200"): _requests("/livez", "200"),
        ("unmatched", "404"): _requests("unmatched", "404"),
    }

    for path in ("/v1/notes/a", "/v1/notes/b", "/v1/notes/missing", "/livez", "/nowhere"):
        await api.get(path, headers=TOKEN)

    counted = {key: _requests(*key) - value for key, value in before.items()}
    assert counted == {
        ("/v1/notes/{note_id}", "200"): 2,
        ("/v1/notes/{note_id}", "404"): 1,
        ("/livez", "200"): 1,
        ("unmatched", "404"): 1,
    }


async def test_every_error_is_answered_in_the_one_schema(api: httpx.AsyncClient) -> None:
    no_token = await api.get("/v1/notes/a")
    missing = await api.get("/v1/notes/missing", headers=TOKEN)
    gone = await api.post("/v1/notes", json={"text": "late"}, headers=TOKEN)
    nowhere = await api.get("/nowhere")
    not_json = await api.post("/v1/notes", content=b"\x80", headers=TOKEN | {"Content-Type": "application/json"})
    invalid = await api.post("/v1/notes", json={"text": 5}, headers=TOKEN)

    assert no_token.status_code == 401
    assert (no_token.json()["detail"]["code"], no_token.json()["detail"]["reason"]) == ("Unauthenticated", "missing")
    assert "invalid_token" in no_token.headers["WWW-Authenticate"]
    assert missing.status_code == 404
    assert missing.json() == {"detail": {"code": "NotFound", "message": "Không có ghi chú"}}
    assert (gone.status_code, gone.json()) == (410, {"detail": {"code": "Gone", "message": "Sổ đã đóng"}})
    assert (nowhere.status_code, nowhere.json()) == (404, {"detail": {"code": "NotFound", "message": "Not Found"}})
    assert not_json.status_code == 400
    assert not_json.json()["detail"]["code"] == "BadRequest"
    assert invalid.status_code == 422
    assert [error["loc"] for error in invalid.json()["detail"]] == [["body", "text"]]


async def test_each_operation_documents_the_errors_it_can_answer(api: httpx.AsyncClient) -> None:
    document: dict[str, Any] = (await api.get("/openapi.json")).json()

    def errors(path: str, method: str) -> dict[str, str]:
        responses = document["paths"][path][method]["responses"]
        return {
            status: response["content"]["application/json"]["schema"]["$ref"]
            for status, response in responses.items()
            if int(status) >= 400
        }

    error = "#/components/schemas/Error"
    assert errors("/v1/notes/{note_id}", "get") == dict.fromkeys(["401", "403", "404", "422", "503"], error)
    assert errors("/v1/notes", "post") == dict.fromkeys(["400", "401", "403", "409", "410", "413", "422", "503"], error)
    assert errors("/v1/version", "get") == {"503": error}
    assert document["paths"]["/v1/notes"]["post"]["responses"]["410"]["description"] == "The notebook was closed"
    schemas = document["components"]["schemas"]
    assert {"Error", "Problem", "FieldError"} <= schemas.keys()
    assert not {"HTTPValidationError", "ValidationError"} & schemas.keys()
