"""The cap on request bodies, on a small FastAPI app wired as the services are: a body over the
limit gets 413 in the one error shape before it is parsed or its token verified, whether its
Content-Length says so or it streams past the limit; a body within the limit goes through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel

from qlcb_common.auth import Principal
from qlcb_common.http_app import caller_dependency, instrument
from qlcb_common.ops_http import Readiness
from qlcb_common.settings import HttpApiSettings

LIMIT = 1000
UPLOAD_LIMIT = 5000
CHUNK = 100
TOKEN = {"Authorization": "Bearer token-of-someone"}


class Note(BaseModel):
    text: str


@dataclass
class Calls:
    verified: int = 0
    endpoint: int = 0


class CountingVerifier:
    """Stands in for the token verifier and counts how often the app asked it."""

    def __init__(self, calls: Calls) -> None:
        self._calls = calls

    async def verify(self, token: str) -> Principal:
        self._calls.verified += 1
        return Principal(subject="s-1", username="someone", roles=frozenset(), unit_path=None, token=token)


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
async def client(calls: Calls) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    instrument(
        app,
        service="body-limit-test",
        readiness=Readiness(),
        http=HttpApiSettings(max_body_bytes=LIMIT, max_upload_bytes=UPLOAD_LIMIT),
        upload_paths=("/files/",),
    )
    app.state.verifier = CountingVerifier(calls)

    @app.post("/files/{name}")
    async def post_file(name: str, request: Request) -> dict[str, object]:
        length = len(await request.body())
        calls.endpoint += 1
        return {"name": name, "length": length}

    @app.post("/notes")
    async def post_note(
        note: Note, principal: Annotated[Principal, Depends(caller_dependency("body-limit-test"))]
    ) -> dict[str, object]:
        calls.endpoint += 1
        return {"length": len(note.text), "by": principal.username}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


def _json(text: str) -> bytes:
    return Note(text=text).model_dump_json().encode()


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "PayloadTooLarge"
    assert str(LIMIT) in detail["message"]


@pytest.mark.parametrize("headers", [TOKEN, {}], ids=["authenticated", "unauthenticated"])
async def test_a_content_length_over_the_limit_is_refused_before_the_app_runs(
    client: httpx.AsyncClient, calls: Calls, headers: dict[str, str]
) -> None:
    body = _json("x" * LIMIT)
    assert len(body) > LIMIT

    response = await client.post("/notes", content=body, headers=headers | {"Content-Type": "application/json"})

    _refused(response)
    assert calls == Calls(verified=0, endpoint=0)


async def test_a_streamed_body_is_cut_off_as_it_passes_the_limit(client: httpx.AsyncClient, calls: Calls) -> None:
    sent: list[bytes] = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            sent.append(b"x" * CHUNK)
            yield sent[-1]

    response = await client.post("/notes", content=chunks(), headers=TOKEN | {"Content-Type": "application/json"})

    _refused(response)
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert len(sent) == LIMIT // CHUNK + 1, "read on after the limit was passed"
    assert calls == Calls(verified=0, endpoint=0)


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
async def test_a_body_within_the_limit_goes_through(client: httpx.AsyncClient, calls: Calls, streamed: bool) -> None:
    body = _json("x" * (LIMIT - 20))
    assert len(body) <= LIMIT

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), CHUNK):
            yield body[start : start + CHUNK]

    response = await client.post(
        "/notes", content=chunks() if streamed else body, headers=TOKEN | {"Content-Type": "application/json"}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"length": LIMIT - 20, "by": "someone"}
    assert calls == Calls(verified=1, endpoint=1)


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
async def test_a_file_route_takes_up_to_the_upload_limit_and_no_more(
    client: httpx.AsyncClient, calls: Calls, streamed: bool
) -> None:
    """Under the paths that take files the upload limit holds, not the body limit, both ways."""

    async def chunks(size: int) -> AsyncIterator[bytes]:
        for start in range(0, size, CHUNK):
            yield b"x" * min(CHUNK, size - start)

    def body(size: int) -> bytes | AsyncIterator[bytes]:
        return chunks(size) if streamed else b"x" * size

    within = await client.post("/files/a.csv", content=body(UPLOAD_LIMIT), headers={"Content-Type": "text/csv"})
    assert within.status_code == 200, within.text
    assert within.json() == {"name": "a.csv", "length": UPLOAD_LIMIT}

    over = await client.post("/files/a.csv", content=body(UPLOAD_LIMIT + 1), headers={"Content-Type": "text/csv"})
    assert over.status_code == 413, over.text
    assert str(UPLOAD_LIMIT) in over.json()["detail"]["message"]
    assert calls.endpoint == 1
