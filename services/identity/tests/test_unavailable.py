"""Keycloak or the database out of reach: the caller gets 503 and a reason, not a 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from keycloak.exceptions import KeycloakConnectionError
from sqlalchemy.exc import IntegrityError, OperationalError

from qlcb_common.http_app import install_error_handlers
from qlcb_identity import unavailable


def _app() -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app, every_operation=(503,))
    unavailable.install(app)

    @app.get("/keycloak")
    async def keycloak_down() -> None:
        raise KeycloakConnectionError("Can't connect to server")

    @app.get("/database")
    async def database_down() -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    @app.get("/constraint")
    async def constraint() -> None:
        raise IntegrityError("INSERT", {}, ValueError("duplicate key"))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://identity")


async def test_keycloak_out_of_reach_is_503_with_a_reason() -> None:
    async with _app() as client:
        response = await client.get("/keycloak")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["detail"] == {"code": "Unavailable", "message": unavailable.KEYCLOAK}


async def test_the_database_out_of_reach_is_503_but_a_broken_constraint_stays_a_server_error() -> None:
    async with _app() as client:
        database = await client.get("/database")
        constraint = await client.get("/constraint")
    assert database.status_code == 503
    assert database.json()["detail"]["message"] == unavailable.DATABASE
    assert constraint.status_code == 500


async def test_every_operation_documents_503() -> None:
    async with _app() as client:
        operations = (await client.get("/openapi.json")).json()["paths"]
    assert all("503" in op["responses"] for path in operations.values() for op in path.values())
