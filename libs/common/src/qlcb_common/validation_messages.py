"""The 422 of a request its schema refuses, said in Vietnamese. Pydantic words each fault in English
("String should have at most 1000 characters"), and those words reached officers through the pages.
Each fault keeps its location and type; its message is said by its type with the limits pydantic
reports; a validator's own message (the services write theirs in Vietnamese) is kept, without the
"Value error, " pydantic puts before it. The input is not echoed back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

_BY_TYPE = {
    "missing": "Bắt buộc nhập",
    "string_too_short": "Phải có ít nhất {min_length} ký tự",
    "string_too_long": "Dài quá {max_length} ký tự",
    "string_pattern_mismatch": "Không đúng dạng quy định",
    "string_type": "Phải là chữ",
    "string_unicode": "Phải là chữ",
    "int_parsing": "Phải là một số nguyên",
    "int_type": "Phải là một số nguyên",
    "int_from_float": "Phải là một số nguyên",
    "float_parsing": "Phải là một số",
    "float_type": "Phải là một số",
    "decimal_parsing": "Phải là một số",
    "decimal_type": "Phải là một số",
    "decimal_max_digits": "Nhiều nhất {max_digits} chữ số",
    "decimal_max_places": "Nhiều nhất {decimal_places} chữ số sau dấu phẩy",
    "greater_than": "Phải lớn hơn {gt}",
    "greater_than_equal": "Không được nhỏ hơn {ge}",
    "less_than": "Phải nhỏ hơn {lt}",
    "less_than_equal": "Không được lớn hơn {le}",
    "multiple_of": "Phải là bội của {multiple_of}",
    "bool_parsing": "Phải là true hoặc false",
    "bool_type": "Phải là true hoặc false",
    "date_parsing": "Không phải một ngày (YYYY-MM-DD)",
    "date_from_datetime_parsing": "Không phải một ngày (YYYY-MM-DD)",
    "date_from_datetime_inexact": "Không phải một ngày (YYYY-MM-DD)",
    "date_type": "Không phải một ngày (YYYY-MM-DD)",
    "datetime_parsing": "Không phải một thời điểm (ISO 8601)",
    "datetime_from_date_parsing": "Không phải một thời điểm (ISO 8601)",
    "datetime_type": "Không phải một thời điểm (ISO 8601)",
    "literal_error": "Phải là một trong: {expected}",
    "enum": "Phải là một trong: {expected}",
    "too_short": "Cần ít nhất {min_length} mục",
    "too_long": "Nhiều nhất {max_length} mục",
    "list_type": "Phải là một danh sách",
    "set_type": "Phải là một danh sách",
    "dict_type": "Phải là một đối tượng",
    "model_type": "Phải là một đối tượng",
    "model_attributes_type": "Phải là một đối tượng",
    "extra_forbidden": "Không có trường này",
    "json_invalid": "Không phải JSON hợp lệ",
    "json_type": "Không phải JSON hợp lệ",
    "uuid_parsing": "Không phải một mã định danh (UUID)",
    "uuid_type": "Không phải một mã định danh (UUID)",
    "url_parsing": "Không phải một địa chỉ hợp lệ",
    "url_scheme": "Không phải một địa chỉ hợp lệ",
    "bytes_too_long": "Dài quá {max_length} byte",
}
_OWN = ("value_error", "assertion_error")
"""The types whose message a validator of the services wrote."""
_PREFIXES = ("Value error, ", "Assertion failed, ")


def vietnamese(fault: Mapping[str, Any]) -> str:
    kind = str(fault.get("type", ""))
    message = str(fault.get("msg", ""))
    if kind in _OWN:
        for prefix in _PREFIXES:
            message = message.removeprefix(prefix)
        return message
    template = _BY_TYPE.get(kind)
    if template is None:
        return message
    limits = {name: str(value).replace(" or ", " hoặc ") for name, value in (fault.get("ctx") or {}).items()}
    try:
        return template.format(**limits)
    except KeyError:
        return message


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"loc": list(fault.get("loc", ())), "msg": vietnamese(fault), "type": str(fault.get("type", ""))}
        for fault in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)
