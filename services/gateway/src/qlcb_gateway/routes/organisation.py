from __future__ import annotations

from datetime import date
from typing import Annotated

import grpc
from fastapi import APIRouter, Query, status

from qlcb.personnel.v1 import personnel_pb2
from qlcb.reports.v1 import reports_pb2
from qlcb_common.days import IsoDay
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.errors import refuse_query_fields
from qlcb_gateway.schemas import (
    Headcount,
    PersonCreate,
    PersonPage,
    PersonPublic,
    Sex,
    StatusChange,
    UnitCreate,
    UnitKind,
    UnitPublic,
)

router = APIRouter(prefix="/v1")


def unit_public(unit: personnel_pb2.Unit) -> UnitPublic:
    kind = personnel_pb2.UnitKind.Name(unit.kind).removeprefix("UNIT_KIND_").lower()
    return UnitPublic(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        kind=UnitKind(kind),
        parent_id=unit.parent_id or None,
        path=unit.path,
        dissolved_on=date.fromisoformat(unit.dissolved_on) if unit.dissolved_on else None,
    )


def person_public(person: personnel_pb2.Person) -> PersonPublic:
    return PersonPublic.model_validate(
        {
            "id": person.id,
            "personal_id": person.personal_id,
            "staff_number": person.staff_number,
            "full_name": person.full_name,
            "date_of_birth": person.date_of_birth,
            "sex": personnel_pb2.Sex.Name(person.sex).removeprefix("SEX_").lower(),
            "unit_id": person.unit_id,
            "status": personnel_pb2.PersonStatus.Name(person.status).removeprefix("PERSON_STATUS_").lower(),
        }
    )


@router.post(
    "/units",
    status_code=status.HTTP_201_CREATED,
    tags=["Đơn vị"],
    responses={404: {"description": "No unit `parent_id` within the caller's reach"}},
)
async def create_unit(body: UnitCreate, principal: Caller, backends: BackendsDep) -> UnitPublic:
    """Thành lập đơn vị."""
    response = await backends.personnel.CreateUnit(
        personnel_pb2.CreateUnitRequest(
            code=body.code,
            name=body.name,
            kind=personnel_pb2.UnitKind.Value("UNIT_KIND_" + body.kind.value.upper()),
            parent_id=body.parent_id or "",
            effective_date=body.effective_date.isoformat() if body.effective_date else "",
            decision=body.decision or "",
        ),
        **backends.call_options(principal.token),
    )
    return unit_public(response.unit)


@router.get("/units", tags=["Đơn vị"])
async def list_units(principal: Caller, backends: BackendsDep, as_of: IsoDay | None = None) -> list[UnitPublic]:
    """Các đơn vị trong phạm vi của tài khoản, theo thứ tự cây; with `as_of`, the tree as it
    stood at the end of that day (dissolved units left out)."""
    response = await backends.personnel.ListUnits(
        personnel_pb2.ListUnitsRequest(as_of=as_of.isoformat() if as_of else ""),
        **backends.call_options(principal.token),
    )
    return [unit_public(u) for u in response.units]


@router.get("/unit-directory", tags=["Đơn vị"])
async def unit_directory(
    principal: Caller,
    backends: BackendsDep,
    q: Annotated[str, Query(min_length=1, max_length=100, description="Đầu mã, hoặc các từ của tên đơn vị")],
    limit: Annotated[int, Query(ge=1, le=50, description="Nhiều nhất")] = 20,
) -> list[UnitPublic]:
    """Danh bạ đơn vị của toàn ngành (mã, tên, vị trí trong cây; không có cán bộ): các đơn vị đang tồn
    tại có mã bắt đầu bằng, hoặc tên có các từ bắt đầu bằng, điều hỏi, theo thứ tự cây. Để chọn đơn vị
    nhận khi điều động ra ngoài phạm vi của mình."""
    try:
        response = await backends.personnel.ListUnitDirectory(
            personnel_pb2.ListUnitDirectoryRequest(q=q, limit=limit), **backends.call_options(principal.token)
        )
    except grpc.aio.AioRpcError as error:
        refuse_query_fields(error)
    return [unit_public(u) for u in response.units]


@router.get("/units/{unit_id}", tags=["Đơn vị"])
async def get_unit(unit_id: str, principal: Caller, backends: BackendsDep) -> UnitPublic:
    response = await backends.personnel.GetUnit(
        personnel_pb2.GetUnitRequest(id=unit_id), **backends.call_options(principal.token)
    )
    return unit_public(response.unit)


@router.post(
    "/persons",
    status_code=status.HTTP_201_CREATED,
    tags=["Hồ sơ cán bộ"],
    responses={404: {"description": "No unit `unit_id` within the caller's reach"}},
)
async def create_person(body: PersonCreate, principal: Caller, backends: BackendsDep) -> PersonPublic:
    """Tạo hồ sơ cán bộ."""
    response = await backends.personnel.CreatePerson(
        personnel_pb2.CreatePersonRequest(
            personal_id=body.personal_id,
            staff_number=body.staff_number,
            full_name=body.full_name,
            date_of_birth=body.date_of_birth.isoformat(),
            sex=personnel_pb2.SEX_MALE if body.sex is Sex.MALE else personnel_pb2.SEX_FEMALE,
            unit_id=body.unit_id,
        ),
        **backends.call_options(principal.token),
    )
    return person_public(response.person)


@router.get("/persons/{person_id}", tags=["Hồ sơ cán bộ"])
async def get_person(person_id: str, principal: Caller, backends: BackendsDep) -> PersonPublic:
    response = await backends.personnel.GetPerson(
        personnel_pb2.GetPersonRequest(id=person_id), **backends.call_options(principal.token)
    )
    return person_public(response.person)


@router.post("/persons/{person_id}/status", tags=["Hồ sơ cán bộ"])
async def change_status(person_id: str, body: StatusChange, principal: Caller, backends: BackendsDep) -> PersonPublic:
    """Nghỉ hưu, thôi việc, từ trần, chuyển công tác ra ngoài ngành, hoặc khôi phục công tác, theo quyết định."""
    response = await backends.personnel.ChangePersonStatus(
        personnel_pb2.ChangePersonStatusRequest(
            person_id=person_id,
            status=personnel_pb2.PersonStatus.Value("PERSON_STATUS_" + body.status.value.upper()),
            effective_date=body.effective_date.isoformat(),
            decision=body.decision,
        ),
        **backends.call_options(principal.token),
    )
    return person_public(response.person)


@router.get("/units/{unit_id}/persons", tags=["Hồ sơ cán bộ"])
async def list_persons(
    unit_id: str,
    principal: Caller,
    backends: BackendsDep,
    include_subtree: bool = False,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
    page_token: str = "",
) -> PersonPage:
    response = await backends.personnel.ListPersons(
        personnel_pb2.ListPersonsRequest(
            unit_id=unit_id, include_subtree=include_subtree, page_size=page_size, page_token=page_token
        ),
        **backends.call_options(principal.token),
    )
    return PersonPage(
        items=[person_public(p) for p in response.persons], next_page_token=response.next_page_token or None
    )


@router.get("/units/{unit_id}/headcount", tags=["Thống kê"])
async def headcount(unit_id: str, principal: Caller, backends: BackendsDep, include_subtree: bool = False) -> Headcount:
    """Số lượng cán bộ của đơn vị, theo dữ liệu báo cáo đã cập nhật."""
    response = await backends.reports.GetHeadcount(
        reports_pb2.GetHeadcountRequest(unit_id=unit_id, include_subtree=include_subtree),
        **backends.call_options(principal.token),
    )
    return Headcount(unit_id=unit_id, include_subtree=include_subtree, headcount=response.headcount)
