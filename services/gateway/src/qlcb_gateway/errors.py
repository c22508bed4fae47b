"""Turns backend gRPC errors into HTTP responses that mean the same thing."""

from __future__ import annotations

import grpc
from fastapi import FastAPI, Request
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
