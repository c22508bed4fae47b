"""The transfer pages against stand-ins for personnel (the real hand-off, in a browser, in
tests/integration/test_web.py). A unit's transfers: what waits comes first with its actions, a
reason is asked before a decline or a withdrawal is sent, a transfer already decided is said on the
page, and only a form carrying the session's CSRF token is acted on. Sending a record from the
record page: the receiving units offered, each typing mistake by its field with nothing sent,
personnel's refusals by their fields, a second send of the same form said, a tier that may not
move people not offered the form."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from html_tree import parsed
from web_stand_ins import SESSION, Verifier, invalid_argument, rpc_error, stand_in_pages

from qlcb.personnel.v1 import personnel_pb2

PAGE = "/web/units/nb/transfers"
UNITS = {"nb": ("Chi cục Nội Bài", "/TCHQ/HQHN/NB"), "gt": ("Chi cục Gia Thụy", "/TCHQ/HQHN/GT")}
LISTED = [
    personnel_pb2.Unit(
        kind=personnel_pb2.UNIT_KIND_SUB_UNIT, id="hn", code="HQHN", name="Cục Hải quan Hà Nội", path="/TCHQ/HQHN"
    ),
    personnel_pb2.Unit(
        kind=personnel_pb2.UNIT_KIND_SUB_UNIT, id="gt", code="HQHN-GT", name="Chi cục Gia Thụy", path="/TCHQ/HQHN/GT"
    ),
    personnel_pb2.Unit(
        kind=personnel_pb2.UNIT_KIND_SUB_UNIT, id="nb", code="HQHN-NB", name="Chi cục Nội Bài", path="/TCHQ/HQHN/NB"
    ),
    personnel_pb2.Unit(
        kind=personnel_pb2.UNIT_KIND_SUB_UNIT,
        id="old",
        code="HQHN-CU",
        name="Chi cục cũ",
        path="/TCHQ/HQHN/CU",
        dissolved_on="2020-01-01",
    ),
]
SEND = "/web/persons/p1/transfer"
PEOPLE = {"p1": "Nguyễn Văn An", "p2": "Phạm Thị Bích"}


def _transfer(
    transfer_id: str, person: str, source: str, target: str, status: personnel_pb2.TransferStatus.ValueType
) -> personnel_pb2.Transfer:
    return personnel_pb2.Transfer(
        id=transfer_id,
        person_id=person,
        from_unit_id=source,
        to_unit_id=target,
        status=status,
        effective_date="2026-12-15",
        decision="88/QĐ-HQHN",
        sent_by="s",
        sent_at="2026-12-01T08:00:00+00:00",
    )


@dataclass
class Personnel:
    """Two transfers into Nội Bài (one decided long ago, of someone it no longer reads), one out."""

    decided: list[tuple[str, str, str]] = field(default_factory=list)
    fails: grpc.aio.AioRpcError | None = None
    subtrees: list[bool] = field(default_factory=list)
    sent: list[personnel_pb2.SendTransferRequest] = field(default_factory=list)

    async def GetUnit(self, request: Any, **options: Any) -> personnel_pb2.GetUnitResponse:
        if request.id not in UNITS:
            raise rpc_error(grpc.StatusCode.PERMISSION_DENIED, "outside")
        name, path = UNITS[request.id]
        unit = personnel_pb2.Unit(id=request.id, name=name, path=path, kind=personnel_pb2.UNIT_KIND_SUB_UNIT)
        return personnel_pb2.GetUnitResponse(unit=unit)

    async def GetPerson(self, request: Any, **options: Any) -> personnel_pb2.GetPersonResponse:
        if request.id not in PEOPLE:
            raise rpc_error(grpc.StatusCode.NOT_FOUND, "no such person here")
        person = personnel_pb2.Person(
            id=request.id,
            full_name=PEOPLE[request.id],
            date_of_birth="1990-01-01",
            sex=personnel_pb2.SEX_MALE,
            status=personnel_pb2.PERSON_STATUS_ACTIVE,
            unit_id="nb",
        )
        return personnel_pb2.GetPersonResponse(person=person)

    async def ListUnits(self, request: Any, **options: Any) -> personnel_pb2.ListUnitsResponse:
        return personnel_pb2.ListUnitsResponse(units=LISTED)

    async def ListUnitDirectory(self, request: Any, **options: Any) -> personnel_pb2.ListUnitDirectoryResponse:
        """The sector's units by code: Hồ Chí Minh's two, Hà Nội's own; "??" is refused as no words."""
        if request.q == "??":
            raise invalid_argument(("q", "Nhập mã hoặc tên đơn vị"))
        kind = personnel_pb2.UNIT_KIND_SUB_UNIT
        sector = [
            personnel_pb2.Unit(
                id="hcm", code="HQHCM", name="Cục Hải quan TP Hồ Chí Minh", path="/TCHQ/HQHCM", kind=kind
            ),
            personnel_pb2.Unit(
                id="tsn", code="HQHCM-TSN", name="Chi cục Tân Sơn Nhất", path="/TCHQ/HQHCM/TSN", kind=kind
            ),
            *LISTED[:3],
        ]
        return personnel_pb2.ListUnitDirectoryResponse(units=[u for u in sector if u.code.startswith(request.q)])

    async def SendTransfer(self, request: Any, **options: Any) -> personnel_pb2.SendTransferResponse:
        if self.fails is not None:
            raise self.fails
        if any(s.person_id == request.person_id for s in self.sent):
            raise rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "Hồ sơ đang chờ đơn vị khác tiếp nhận")
        self.sent.append(request)
        transfer = _transfer("t-new", request.person_id, "nb", request.to_unit_id, personnel_pb2.TRANSFER_STATUS_SENT)
        return personnel_pb2.SendTransferResponse(transfer=transfer)

    async def ListTransfers(self, request: Any, **options: Any) -> personnel_pb2.ListTransfersResponse:
        self.subtrees.append(request.include_subtree)
        if request.direction == personnel_pb2.TRANSFER_DIRECTION_INCOMING:
            transfers = [
                _transfer("t-old", "p9", "hcm", "nb", personnel_pb2.TRANSFER_STATUS_ACCEPTED),
                _transfer("t-in", "p1", "gt", "nb", personnel_pb2.TRANSFER_STATUS_SENT),
            ]
        else:
            transfers = [_transfer("t-out", "p2", "nb", "gt", personnel_pb2.TRANSFER_STATUS_SENT)]
        return personnel_pb2.ListTransfersResponse(transfers=transfers)

    async def _decide(self, kind: str, request: Any) -> Any:
        if self.fails is not None:
            raise self.fails
        self.decided.append((kind, request.transfer_id, getattr(request, "reason", "")))
        transfer = _transfer(request.transfer_id, "p1", "gt", "nb", personnel_pb2.TRANSFER_STATUS_ACCEPTED)
        return SimpleNamespace(transfer=transfer)

    async def AcceptTransfer(self, request: Any, **options: Any) -> Any:
        return await self._decide("accept", request)

    async def DeclineTransfer(self, request: Any, **options: Any) -> Any:
        return await self._decide("decline", request)

    async def WithdrawTransfer(self, request: Any, **options: Any) -> Any:
        return await self._decide("withdraw", request)


@dataclass
class Page:
    client: TestClient
    personnel: Personnel
    verifier: Verifier


@pytest.fixture
def page() -> Iterator[Page]:
    personnel, verifier = Personnel(), Verifier()
    with stand_in_pages(verifier, personnel=personnel) as client:
        yield Page(client, personnel, verifier)


def _act(page: Page, transfer_id: str, action: str, reason: str = "", *, csrf: str = SESSION.csrf_token) -> Any:
    form = {"csrf_token": csrf} | ({"reason": reason} if reason else {})
    return page.client.post(f"{PAGE}/{transfer_id}/{action}", data=form)


def test_what_waits_comes_first_with_its_actions_and_a_person_out_of_reach_is_not_named(page: Page) -> None:
    response = page.client.get(PAGE)
    assert response.status_code == 200
    shown = parsed(response.text)
    incoming = shown.one("section", id="incoming").find_all("tr")[1:]
    assert [row.attrs["id"] for row in incoming] == ["incoming-t-in", "incoming-t-old"]
    assert "Nguyễn Văn An" in incoming[0].all_text()
    assert "Chi cục Gia Thụy" in incoming[0].all_text()
    assert "15/12/2026" in incoming[0].all_text()
    assert [f.attrs["action"].rsplit("/", 1)[1] for f in incoming[0].find_all("form")] == ["accept", "decline"]
    assert "Ngoài phạm vi được xem" in incoming[1].all_text()
    assert "Đơn vị ngoài phạm vi được xem" in incoming[1].all_text()
    assert incoming[1].find_all("form") == [], "a decided transfer offers nothing"
    [outgoing] = shown.one("section", id="outgoing").find_all("tr")[1:]
    assert [f.attrs["action"].rsplit("/", 1)[1] for f in outgoing.find_all("form")] == ["withdraw"]

    page.verifier.roles = frozenset({"sector-viewer"})
    assert parsed(page.client.get(PAGE).text).find_all("form", method="post")[1:] == [], "only the logout"


def test_accepting_sends_it_and_shows_the_page_again(page: Page) -> None:
    response = _act(page, "t-in", "accept")
    assert response.status_code == 303
    assert response.headers["location"] == f"http://gateway.test{PAGE}"
    assert page.personnel.decided == [("accept", "t-in", "")]


@pytest.mark.parametrize(
    ("action", "asked"), [("decline", "Cần ghi lý do từ chối"), ("withdraw", "Cần ghi lý do thu hồi")]
)
def test_a_decline_or_withdrawal_without_a_reason_is_not_sent(page: Page, action: str, asked: str) -> None:
    response = _act(page, "t-in", action)
    assert response.status_code == 422
    assert asked in parsed(response.text).one(id="faults").all_text()
    assert page.personnel.decided == []
    assert _act(page, "t-in", action, "x" * 1001).status_code == 422
    assert _act(page, "t-in", action, "Không đủ chỉ tiêu biên chế").status_code == 303
    assert page.personnel.decided == [(action, "t-in", "Không đủ chỉ tiêu biên chế")]


def test_a_transfer_decided_meanwhile_is_said_on_the_page(page: Page) -> None:
    page.personnel.fails = rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "Yêu cầu điều động vừa được xử lý")
    response = _act(page, "t-in", "accept")
    assert response.status_code == 409
    assert "Yêu cầu điều động vừa được xử lý" in parsed(response.text).one(id="faults").all_text()


@pytest.mark.parametrize("csrf", ["", "csrf-of-another-session"])
def test_an_action_without_the_sessions_token_changes_nothing(page: Page, csrf: str) -> None:
    assert _act(page, "t-in", "accept", csrf=csrf).status_code == 403
    assert page.personnel.decided == []
    assert _act(page, "t-in", "delete").status_code == 404


def test_the_units_below_are_included_when_asked_and_an_action_comes_back_to_the_same_view(page: Page) -> None:
    shown = parsed(page.client.get(PAGE, params={"subtree": "1"}).text)
    assert page.personnel.subtrees == [True, True]
    decline = next(f for f in shown.find_all("form") if f.attrs.get("action", "").endswith("/t-in/decline"))
    assert decline.one("input", name="subtree").attrs["value"] == "1"
    response = page.client.post(
        f"{PAGE}/t-in/decline", data={"csrf_token": SESSION.csrf_token, "reason": "Trùng", "subtree": "1"}
    )
    assert response.headers["location"] == f"http://gateway.test{PAGE}?subtree=1"
    page.client.get(PAGE)
    assert page.personnel.subtrees[-2:] == [False, False], "by default, the unit's own"


GOOD_SEND = {"to_unit_id": "gt", "effective_date": "2026-12-15", "decision": "91/QĐ-HQHN"}


def _send(page: Page, **form: str) -> Any:
    return page.client.post(SEND, data={"csrf_token": SESSION.csrf_token} | form)


def test_the_send_form_offers_the_units_in_reach_but_the_persons_own_and_those_dissolved(page: Page) -> None:
    response = page.client.get(SEND)
    assert response.status_code == 200
    form = parsed(response.text).one("form", action=f"http://gateway.test{SEND}", method="post")
    options = [(o.attrs["value"], o.all_text()) for o in form.one("select", name="to_unit_id").find_all("option")]
    assert options == [("", "— Chọn —"), ("hn", "Cục Hải quan Hà Nội (HQHN)"), ("gt", "Chi cục Gia Thụy (HQHN-GT)")]
    assert form.one("input", name="csrf_token").attrs["value"] == SESSION.csrf_token


def test_a_unit_outside_the_callers_tree_is_found_in_the_directory_and_sent_to(page: Page) -> None:
    found = parsed(page.client.get(SEND, params={"find": "HQHCM"}).text)
    assert found.one(id="find-said").all_text() == "Tìm thấy 2 đơn vị cho “HQHCM”: chọn trong danh sách Đơn vị nhận."
    form = found.one("form", action=f"http://gateway.test{SEND}", method="post")
    options = [o.attrs["value"] for o in form.one("select", name="to_unit_id").find_all("option")]
    assert options == ["", "hcm", "tsn", "hn", "gt"], "those found first, then those in reach"
    assert form.one("input", name="find").attrs["value"] == "HQHCM", "the search is sent with the form"

    one = parsed(page.client.get(SEND, params={"find": "HQHCM-TSN"}).text)
    assert one.one("option", value="tsn").attrs.get("selected") is not None, "the one found is picked already"
    own = parsed(page.client.get(SEND, params={"find": "HQHN"}).text)
    assert [o.attrs["value"] for o in own.find_all("option")] == ["", "hn", "gt"], "not the person's own twice"

    sent = _send(page, **(GOOD_SEND | {"to_unit_id": "tsn", "find": "HQHCM"}))
    assert sent.status_code == 303
    assert page.personnel.sent[-1].to_unit_id == "tsn"
    assert _send(page, **(GOOD_SEND | {"to_unit_id": "tsn"})).status_code == 422, "a unit neither found nor in reach"

    refused = page.client.get(SEND, params={"find": "??"})
    assert refused.status_code == 422
    assert parsed(refused.text).one(id="find-said").all_text() == "Nhập mã hoặc tên đơn vị"


@pytest.mark.parametrize(
    ("field_name", "value", "reason"),
    [
        ("to_unit_id", "", "Bắt buộc nhập"),
        ("to_unit_id", "hcm", "Không có trong danh mục"),
        ("effective_date", "31/02/2026", "Không phải một ngày (ngày/tháng/năm)"),
        ("decision", "", "Bắt buộc nhập"),
        ("decision", "9" * 101, "Dài quá 100 ký tự"),
        ("decision", "91/QĐ\x00", "Có ký tự không dùng được"),
    ],
)
def test_a_typing_mistake_is_shown_by_its_field_and_nothing_is_sent(
    page: Page, field_name: str, value: str, reason: str
) -> None:
    response = _send(page, **(GOOD_SEND | {field_name: value}))
    assert response.status_code == 422
    shown = parsed(response.text)
    assert shown.one(id=f"f-{field_name}-error").all_text() == reason
    assert shown.one(id=f"f-{field_name}").attrs["aria-invalid"] == "true"
    assert page.personnel.sent == []


def test_a_sent_record_goes_to_personnel_then_to_the_units_transfers_and_twice_sent_is_said(page: Page) -> None:
    response = _send(page, **(GOOD_SEND | {"effective_date": "15/12/2026"}))
    assert response.status_code == 303
    assert response.headers["location"] == "http://gateway.test/web/units/nb/transfers#outgoing-t-new"
    [sent] = page.personnel.sent
    assert (sent.person_id, sent.to_unit_id, sent.effective_date, sent.decision) == (
        "p1",
        "gt",
        "2026-12-15",
        "91/QĐ-HQHN",
    )
    again = _send(page, **GOOD_SEND)
    assert again.status_code == 409
    assert "Hồ sơ đang chờ đơn vị khác tiếp nhận" in parsed(again.text).one(id="faults").all_text()
    assert len(page.personnel.sent) == 1


def test_personnels_refusal_is_shown_by_the_field_it_names(page: Page) -> None:
    page.personnel.fails = invalid_argument(("effective_date", "Ngày hiệu lực trước ngày vào đơn vị hiện tại"))
    response = _send(page, **GOOD_SEND)
    assert response.status_code == 422
    shown = parsed(response.text)
    assert shown.one(id="f-effective_date-error").all_text() == "Ngày hiệu lực trước ngày vào đơn vị hiện tại"
    assert shown.one("select", name="to_unit_id").one("option", value="gt").attrs.get("selected") is not None


@pytest.mark.parametrize("csrf", ["", "csrf-of-another-session"])
def test_a_send_without_the_sessions_token_sends_nothing(page: Page, csrf: str) -> None:
    assert page.client.post(SEND, data={"csrf_token": csrf} | GOOD_SEND).status_code == 403
    assert page.personnel.sent == []


def test_a_tier_that_may_not_move_people_is_neither_offered_the_form_nor_heard(page: Page) -> None:
    page.verifier.roles = frozenset({"sector-viewer"})
    assert page.client.get(SEND).status_code == 403
    assert _send(page, **GOOD_SEND).status_code == 403
    assert page.personnel.sent == []
