"""When what identity stands on (Keycloak, its database) cannot be reached, the caller is told
503 — try again — in the one error schema, rather than a bare 500 that says identity is broken."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from keycloak.exceptions import KeycloakConnectionError
from sqlalchemy.exc import InterfaceError, OperationalError

from qlcb_common.http_errors import problem

KEYCLOAK = "Không kết nối được Keycloak; hãy thử lại sau"
DATABASE = "Không kết nối được cơ sở dữ liệu tài khoản; hãy thử lại sau"


async def _keycloak(_request: Request, _exc: Exception) -> JSONResponse:
    return problem(503, "Unavailable", KEYCLOAK, {"Retry-After": "5"})


async def _database(_request: Request, _exc: Exception) -> JSONResponse:
    return problem(503, "Unavailable", DATABASE, {"Retry-After": "5"})


def install(app: FastAPI) -> None:
    """Also lists 503 on every operation: call after `install_error_handlers(app, every_operation=(503,))`."""
    app.add_exception_handler(KeycloakConnectionError, _keycloak)
    # The driver's failures to reach or keep the connection; a constraint or a bad query stays a 500.
    app.add_exception_handler(OperationalError, _database)
    app.add_exception_handler(InterfaceError, _database)
