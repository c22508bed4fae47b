"""The audit trail's page against stand-ins for personnel: the criteria sent as personnel takes them
(days as Vietnam's midnights, the last day included), entries shown newest first in Vietnam's time
with the holder of a purpose account and a write's changes; criteria typed wrong said by their field
with nothing asked; paging keeps the criteria; only tiers that read the trail are offered it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from html_tree import parsed
from web_stand_ins import Verifier, invalid_argument, stand_in_pages

from qlcb.personnel.v1 import audit_pb2, personnel_pb2


class Personnel:
    async def ListUnits(self, request: Any, **options: Any) -> personnel_pb2.ListUnitsResponse:
        kind = personnel_pb2.UNIT_KIND_SUB_UNIT
        return personnel_pb2.ListUnitsResponse(
            units=[
                personnel_pb2.Unit(id="hn", code="HQHN", name="Cục Hải quan Hà Nội", path="/TCHQ/HQHN", kind=kind),
                personnel_pb2.Unit(id="nb", code="HQHN-NB", name="Chi cục Nội Bài", path="/TCHQ/HQHN/NB", kind=kind),
            ]
        )

    async def GetPerson(self, request: Any, **options: Any) -> personnel_pb2.GetPersonResponse:
        person = personnel_pb2.Person(
            id=request.id,
            full_name="Nguyễn Văn An",
            date_of_birth="1980-02-02",
            sex=personnel_pb2.SEX_MALE,
            status=personnel_pb2.PERSON_STATUS_ACTIVE,
        )
        return personnel_pb2.GetPersonResponse(person=person)


@dataclass
class Audit:
    asked: list[audit_pb2.ListAuditEntriesRequest] = field(default_factory=list)
    fails: grpc.aio.AioRpcError | None = None

    async def ListAuditEntries(self, request: Any, **options: Any) -> audit_pb2.ListAuditEntriesResponse:
        if self.fails is not None:
            raise self.fails
        self.asked.append(request)
        changed = audit_pb2.AuditEntry(
            id="a2",
            occurred_at="2026-11-30T17:05:09+00:00",
            account="nhansu.chung",
            holder_name="Đặng Văn Nhân",
            holder_personal_id="001080000123",
            action="update",
            target="record_entries",
            person_id="p1",
            unit_path="/TCHQ/HQHN/NB",
            details_json=json.dumps({"changes": {"coefficient": ["2.34", "2.67"]}}),
        )
        read = audit_pb2.AuditEntry(
            id="a1",
            occurred_at="2026-11-30T02:00:00+00:00",
            account="qthanoi",
            action="resume",
            target="record",
            person_id="p1",
            unit_path="/TCHQ/HQHN/NB",
            details_json=json.dumps({"sections": ["salary"]}),
        )
        return audit_pb2.ListAuditEntriesResponse(entries=[changed, read], total=120)


@dataclass
class Page:
    client: TestClient
    audit: Audit
    verifier: Verifier


@pytest.fixture
def page() -> Iterator[Page]:
    audit, verifier = Audit(), Verifier()
    with stand_in_pages(verifier, personnel=Personnel(), audit=audit) as client:
        yield Page(client, audit, verifier)


def test_the_criteria_go_to_personnel_as_it_takes_them_and_entries_show_in_vietnams_time(page: Page) -> None:
    asked = {
        "person_id": "p1",
        "unit_id": "nb",
        "subtree": "1",
        "account": "nhansu.chung",
        "action": "update",
        "occurred_from": "2026-11-01",
        "occurred_to": "30/11/2026",
    }
    response = page.client.get("/web/audit", params=asked)
    assert response.status_code == 200
    [sent] = page.audit.asked
    assert (sent.person_id, sent.unit_id, sent.include_subtree, sent.account, sent.action) == (
        "p1",
        "nb",
        True,
        "nhansu.chung",
        "update",
    )
    assert (sent.occurred_from, sent.occurred_to) == ("2026-11-01T00:00:00+07:00", "2026-12-01T00:00:00+07:00")
    assert (sent.page, sent.page_size) == (1, 50)
    shown = parsed(response.text)
    assert shown.one(id="of-person").find_all("a")[0].all_text() == "Nguyễn Văn An"
    assert shown.one(id="total").all_text() == "120 mục"
    rows = shown.one("table").find_all("tr")[1:]
    first = [cell.all_text() for cell in rows[0].find_all("td")]
    assert first[0] == "01/12/2026 00:05:09", "17:05 UTC is past midnight in Vietnam"
    assert first[1] == "nhansu.chung Người giữ: Đặng Văn Nhân (001080000123)"
    assert first[2] == "Sửa"
    assert first[6] == "coefficient: 2.34 → 2.67"
    assert [cell.all_text() for cell in rows[1].find_all("td")][2] == "In sơ yếu lý lịch"
    later = shown.one("a", rel="next").attrs["href"]
    assert "account=nhansu.chung" in later
    assert "page=2" in later
    assert "person_id=p1" in later


@pytest.mark.parametrize(
    ("criteria", "field_name", "reason"),
    [
        ({"occurred_from": "2026-12-01", "occurred_to": "2026-11-01"}, "occurred_to", "Trước ngày bắt đầu"),
        ({"occurred_from": "31/11/2026"}, "occurred_from", "Không phải một ngày (ngày/tháng/năm)"),
        ({"unit_id": "hcm"}, "unit_id", "Không có trong danh mục"),
        ({"action": "drop"}, "action", "Không có trong danh mục"),
        ({"account": "a" * 256}, "account", "Dài quá 255 ký tự"),
    ],
)
def test_criteria_typed_wrong_are_said_by_their_field_and_nothing_is_asked(
    page: Page, criteria: dict[str, str], field_name: str, reason: str
) -> None:
    response = page.client.get("/web/audit", params=criteria)
    assert response.status_code == 422
    assert parsed(response.text).one(id=f"f-{field_name}-error").all_text() == reason
    assert page.audit.asked == []


def test_the_last_day_there_is_asks_for_no_end(page: Page) -> None:
    assert page.client.get("/web/audit", params={"occurred_to": "31/12/9999"}).status_code == 200
    assert (page.audit.asked[-1].occurred_from, page.audit.asked[-1].occurred_to) == ("", "")


def test_personnels_refusal_is_said_by_the_field_it_names(page: Page) -> None:
    page.audit.fails = invalid_argument(("holder", "Người giữ phải có chữ hoặc số"))
    response = page.client.get("/web/audit", params={"holder": "---"})
    assert response.status_code == 422
    assert parsed(response.text).one(id="f-holder-error").all_text() == "Người giữ phải có chữ hoặc số"


def test_only_a_tier_that_reads_the_trail_is_offered_it(page: Page) -> None:
    nav = parsed(page.client.get("/web/audit").text).one("nav", **{"aria-label": "Chính"})
    assert [a.all_text() for a in nav.find_all("a")] == [
        "Trang chủ",
        "Cây đơn vị",
        "Báo cáo",
        "Thống kê",
        "Đề nghị cấp tài khoản",
        "Tài khoản",
        "Tài khoản dùng chung",
        "Ủy quyền",
        "Nhật ký",
    ]
    current = [a.all_text() for a in nav.find_all("a", **{"aria-current": "page"})]
    assert current == ["Nhật ký"], "the page one is on, not the home page all pages lie under"
    page.verifier.roles = frozenset({"local-officer"})
    assert page.client.get("/web/audit").status_code == 403
    assert len(page.audit.asked) == 1
