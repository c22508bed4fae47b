"""A backend's gRPC error as the REST client sees it: the HTTP status that means the same."""

from __future__ import annotations

import json

import grpc
import pytest
from grpc.aio import AioRpcError, Metadata
from starlette.requests import Request

from qlcb_gateway.errors import grpc_error_handler


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.UNAVAILABLE, 503),
        # A replica stopped without its grace cancels the call it holds: the backend went away.
        (grpc.StatusCode.CANCELLED, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.INTERNAL, 502),
        (grpc.StatusCode.UNKNOWN, 502),
    ],
)
async def test_each_backend_error_is_the_http_status_that_means_it(code: grpc.StatusCode, status: int) -> None:
    error = AioRpcError(code, Metadata(), Metadata(), details="chi tiết")
    response = await grpc_error_handler(Request({"type": "http", "method": "POST", "path": "/", "headers": []}), error)
    assert response.status_code == status
    assert json.loads(bytes(response.body))["detail"] == {"code": code.name, "message": "chi tiết"}
