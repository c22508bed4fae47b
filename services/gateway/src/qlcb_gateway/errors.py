"""Turns backend gRPC errors into HTTP responses that mean the same thing."""

from __future__ import annotations

from typing import NoReturn

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from google.rpc import error_details_pb2, status_pb2

from qlcb_common.http_errors import field_errors, problem

_HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 412,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    # Never the gateway's own cancelling (that raises CancelledError): a replica stopped without its
    # grace cancels the calls it holds. A write so cut may have been committed, as with UNAVAILABLE.
    grpc.StatusCode.CANCELLED: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
}


def field_violations(error: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    """The fields an INVALID_ARGUMENT names in its BadRequest details, each with its reason."""
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        violations: list[tuple[str, str]] = []
        for detail in status.details:
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(bad_request):
                violations.extend((v.field, v.description) for v in bad_request.field_violations)
        return violations
    return []


def refuse_query(faults: list[tuple[str, str]]) -> NoReturn:
    """A 422 naming each query parameter at fault (the query itself for ""), with its reason."""
    raise RequestValidationError(
        [{"loc": ("query", field) if field else ("query",), "msg": msg, "type": "value_error"} for field, msg in faults]
    )


def refuse_query_fields(error: grpc.aio.AioRpcError) -> NoReturn:
    """A backend's INVALID_ARGUMENT about a query's parameters, as a 422 naming them; raises any
    other error as it is."""
    if error.code() is grpc.StatusCode.INVALID_ARGUMENT:
        refuse_query(field_violations(error) or [("", error.details() or "")])
    raise error


async def grpc_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, grpc.aio.AioRpcError)
    code = exc.code()
    status = _HTTP_STATUS.get(code, 502)
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return field_errors(field_violations(exc) or [("", exc.details() or "")])
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, code.name, exc.details() or "", headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(grpc.aio.AioRpcError, grpc_error_handler)
