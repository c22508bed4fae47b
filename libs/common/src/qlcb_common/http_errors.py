"""The one error schema of the REST APIs: how an error answer looks, and which error statuses
each operation's OpenAPI document lists."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException

from qlcb_common.request_text import NO_CONTROLS


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='Where the fault is, e.g. ["body", "unit_id"]')
    msg: str = Field(description="What is wrong, in Vietnamese where the service says it")
    type: str = Field(description="The kind of fault, e.g. value_error, missing, string_pattern_mismatch")


class Problem(BaseModel):
    code: str = Field(description="What went wrong, e.g. NotFound, PERMISSION_DENIED, PayloadTooLarge")
    message: str
    reason: str | None = Field(default=None, description="Why the access token was refused (401 only)")


class Error(BaseModel):
    """The body of every error answer: the fields at fault (422), else the problem."""

    detail: list[FieldError] | Problem


MEANINGS: Mapping[int, str] = {
    400: "The body is not JSON",
    401: "No valid access token; WWW-Authenticate says why",
    403: "The caller's tier or unit may not do this",
    404: "Nothing of that name within the caller's reach",
    409: "The current state of the record does not allow this",
    410: "It existed but can no longer be had",
    413: "The body is over the size limit",
    422: "The fields at fault, each with its reason",
    503: "A service behind this one is unavailable; try again",
    504: "A service behind this one did not answer in time",
}


def problem(status_code: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": {"code": code, "message": message}}, status_code=status_code, headers=headers)


def field_errors(faults: Collection[tuple[str, str]]) -> JSONResponse:
    """A 422 naming each field of the body at fault (the body itself for ""), with its reason."""
    detail = [
        {"loc": ["body", field] if field else ["body"], "msg": msg, "type": "value_error"} for field, msg in faults
    ]
    return JSONResponse({"detail": detail}, status_code=422)


async def http_exception(_request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (no route, unparseable body) and HTTPExceptions, in the one schema."""
    assert isinstance(exc, HTTPException)
    if isinstance(exc.detail, str):
        code = HTTPStatus(exc.status_code).phrase.title().replace(" ", "")
        return problem(exc.status_code, code, exc.detail, exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def document(app: FastAPI, every_operation: Collection[int]) -> None:
    """Has the app's OpenAPI document list on every operation the error statuses it can answer,
    each with the `Error` schema: those its shape implies (see `_implied`), `every_operation`,
    and any a route declares itself with `responses=`."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        _document_errors(schema, every_operation)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


_REF = "#/components/schemas/{model}"
_ERROR_SCHEMAS = models_json_schema([(Error, "validation")], ref_template=_REF)[1]["$defs"]
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}}


def _document_errors(schema: dict[str, Any], every_operation: Collection[int]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for replaced in ("HTTPValidationError", "ValidationError"):
        components.pop(replaced, None)
    components.update(_ERROR_SCHEMAS)
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("path", "query"):
                    _no_controls(parameter.get("schema", {}))
            responses: dict[str, Any] = operation["responses"]
            declared = {int(status) for status in responses if status.isdigit() and int(status) >= 400}
            for status in sorted(declared | _implied(method, operation) | set(every_operation)):
                description = responses.get(str(status), {}).get("description") or MEANINGS[status]
                responses[str(status)] = {"description": description, "content": _ERROR_CONTENT}


def _no_controls(schema: dict[str, Any]) -> None:
    """A string parameter's schema says what `request_text` refuses: no control character (a
    pattern, an enum or a format of its own says more already)."""
    for variant in schema.get("anyOf", ()):
        _no_controls(variant)
    if schema.get("type") == "string" and not {"pattern", "enum", "format", "const"} & schema.keys():
        schema["pattern"] = NO_CONTROLS


def _implied(method: str, operation: Mapping[str, Any]) -> set[int]:
    """Error statuses an operation can answer by its shape: 401 and 403 when it takes a token,
    404 when its path names something, 400, 413 and 422 for a body, 422 for other parameters, and
    409 when it changes state (whatever it changes can be in a state that refuses the change)."""
    statuses: set[int] = set()
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        statuses |= {401, 403}
    if any(parameter["in"] == "path" for parameter in parameters):
        statuses.add(404)
    if parameters:
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    if method != "get":
        statuses.add(409)
    return statuses
