"""`GET /v1/persons`: search by any combination of criteria (R-PER-5), forwarded to personnel's
`SearchPersons`, which checks every criterion and keeps the search inside the caller's scope.

The criteria are declared once here: the OpenAPI document's parameters come from the declaration,
and the query is read by it, so that every fault is answered in Vietnamese, naming the query field
(422), as personnel's own are: a value personnel refuses names the same field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams

from qlcb.personnel.v1 import search_pb2
from qlcb_common.personnel_rules import CATALOG_CODE
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.errors import refuse_query, refuse_query_fields
from qlcb_gateway.routes.organisation import person_public
from qlcb_gateway.schemas import PersonSearchPage

router = APIRouter(prefix="/v1")

_DATE = {"type": "string", "format": "date"}
_CODE = {"type": "string", "pattern": f"^{CATALOG_CODE.pattern}$".replace("A-Z", "A-Za-z")}
_AGE = {"type": "integer", "minimum": 0, "maximum": 100}
_INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class Criterion:
    name: str
    schema: dict[str, Any]
    description: str

    @property
    def kind(self) -> str:
        return str(self.schema["type"])

    def parameter(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": self.schema,
        }


CRITERIA = (
    Criterion(
        "q",
        {"type": "string", "maxLength": 150},
        "Họ tên: mỗi từ phải là đầu một từ trong họ tên, không phân biệt hoa thường, dấu (đ như d), NFC hay NFD",
    ),
    Criterion("personal_id", {"type": "string", "pattern": "^[0-9]{12}$"}, "Số định danh cá nhân"),
    Criterion("staff_number", {"type": "string", "pattern": "^[A-Za-z0-9./-]{1,20}$"}, "Số hiệu cán bộ"),
    Criterion("unit_id", {"type": "string", "minLength": 1, "maxLength": 36}, "Đơn vị (với as_of: đơn vị ngày đó)"),
    Criterion("include_subtree", {"type": "boolean", "default": False}, "Cả các đơn vị trực thuộc"),
    Criterion(
        "status",
        {"type": "string", "enum": ["active", "retired", "resigned", "deceased", "moved_out"]},
        "Tình trạng (với as_of: tình trạng ngày đó)",
    ),
    Criterion("rank", _CODE, "Mã ngạch (danh mục ranks) của diễn biến lương ngày đó"),
    Criterion("rank_group", _CODE, "Nhóm ngạch: CVCC, CVC, CV, CS, NV"),
    Criterion("post", _CODE, "Chức vụ lãnh đạo (danh mục posts) đang giữ ngày đó"),
    Criterion("qualification", _CODE, "Trình độ chuyên môn (danh mục training_levels, loại CM)"),
    Criterion("political_theory", _CODE, "Trình độ lý luận chính trị (danh mục training_levels, loại LLCT)"),
    Criterion("state_management", _CODE, "Trình độ quản lý nhà nước (danh mục training_levels, loại QLNN)"),
    Criterion("foreign_language", _CODE, "Trình độ ngoại ngữ (danh mục training_levels, loại NN)"),
    Criterion("it_level", _CODE, "Trình độ tin học (danh mục training_levels, loại TH)"),
    Criterion("evaluation_year", {"type": "integer", "minimum": 1975, "maximum": 2100}, "Năm đánh giá, xếp loại"),
    Criterion("evaluation_level", _CODE, "Mức xếp loại của năm evaluation_year (danh mục evaluation_levels)"),
    Criterion("sex", {"type": "string", "enum": ["male", "female"]}, "Giới tính"),
    Criterion("ethnicity", _CODE, "Dân tộc (danh mục ethnicities)"),
    Criterion("religion", _CODE, "Tôn giáo (danh mục religions)"),
    Criterion("home_province", _CODE, "Tỉnh, thành phố quê quán (danh mục provinces)"),
    Criterion("reward", _CODE, "Đã được khen thưởng hình thức này đến ngày đó (danh mục reward_forms)"),
    Criterion("discipline", _CODE, "Đang chịu hình thức kỷ luật này ngày đó (danh mục discipline_forms)"),
    Criterion("contract_type", _CODE, "Loại hợp đồng lao động ngày đó (danh mục contract_types)"),
    Criterion(
        "salary_step",
        {"type": "integer", "minimum": 1, "maximum": 99},
        "Bậc lương ngày đó (trong ngạch rank, nếu có): từ 1 đến bậc cuối của ngạch",
    ),
    Criterion("party_member", {"type": "boolean"}, "Là đảng viên ngày đó, hoặc không"),
    Criterion("born_from", _DATE, "Sinh từ ngày"),
    Criterion("born_to", _DATE, "Sinh đến ngày"),
    Criterion("age_min", _AGE, "Tuổi từ (tính đến ngày as_of hoặc hôm nay)"),
    Criterion("age_max", _AGE, "Tuổi đến"),
    Criterion("recruited_from", _DATE, "Tuyển dụng từ ngày"),
    Criterion("recruited_to", _DATE, "Tuyển dụng đến ngày"),
    Criterion("as_of", _DATE, "Trạng thái tại ngày: đơn vị, tình trạng và các mục hồ sơ có hiệu lực ngày đó"),
    Criterion(
        "sort",
        {"type": "string", "enum": ["name", "birth_date", "unit"], "default": "name"},
        "Sắp xếp: theo tên (tên, rồi họ và tên đệm, thứ tự tiếng Việt), ngày sinh, hoặc đơn vị",
    ),
    Criterion("page", {"type": "integer", "minimum": 1, "maximum": _INT32_MAX, "default": 1}, "Trang, từ 1"),
    Criterion("page_size", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}, "Số dòng mỗi trang"),
)
BY_NAME = {c.name: c for c in CRITERIA}
_TRUE, _FALSE = ("true", "1"), ("false", "0")


@router.get(
    "/persons",
    tags=["Hồ sơ cán bộ"],
    response_model=PersonSearchPage,
    openapi_extra={"parameters": [c.parameter() for c in CRITERIA]},
)
async def search_persons(request: Request, principal: Caller, backends: BackendsDep) -> PersonSearchPage:
    """Tìm kiếm hồ sơ cán bộ theo mọi tổ hợp tiêu chí, trong phạm vi của tài khoản, có tổng số.

    422 names each query field at fault: a value out of its range or not of its kind, a code not in
    its catalog, an unknown unit, a range whose end is before its start, a criterion not listed.
    403 when a criterion reads a record section the caller may read nowhere."""
    fields, faults = read_criteria(request.query_params, BY_NAME)
    if faults:
        refuse_query(faults)
    try:
        response = await backends.search.SearchPersons(
            search_pb2.SearchPersonsRequest(**fields), **backends.call_options(principal.token)
        )
    except grpc.aio.AioRpcError as refused:
        refuse_query_fields(refused)
    return PersonSearchPage(
        items=[person_public(p) for p in response.persons],
        total=response.total,
        page=response.page,
        page_size=response.page_size,
    )


def read_criteria(
    params: QueryParams, criteria: Mapping[str, Criterion]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The `criteria` of the query string, typed as the request message wants them, and the faults
    of those that are not, each with its field."""
    faults: list[tuple[str, str]] = []
    fields: dict[str, Any] = {}
    for name in params:
        criterion = criteria.get(name)
        values = params.getlist(name)
        if criterion is None:
            faults.append((name, "Không có tiêu chí tìm kiếm này"))
        elif len(values) > 1:
            faults.append((name, "Chỉ được một giá trị"))
        elif criterion.kind == "integer":
            number = _integer(values[0], criterion.schema, faults, name)
            if number is not None:
                fields[name] = number
        elif criterion.kind == "boolean":
            flag = values[0].strip().lower()
            if flag not in (*_TRUE, *_FALSE):
                faults.append((name, "Phải là true hoặc false"))
            else:
                fields[name] = flag in _TRUE
        else:
            fields[name] = values[0]
    return fields, faults


def _integer(raw: str, schema: dict[str, Any], faults: list[tuple[str, str]], name: str) -> int | None:
    try:
        number = int(raw.strip())
    except ValueError:
        faults.append((name, "Phải là số nguyên"))
        return None
    low, high = schema["minimum"], schema["maximum"]
    if not low <= number <= high:
        unbounded = high == _INT32_MAX  # a page: what is asked is its lower bound
        faults.append((name, f"Phải từ {low} trở lên" if unbounded else f"Phải từ {low} đến {high}"))
        return None
    return number
