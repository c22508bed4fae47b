"""Stand-ins for Keycloak (its token and userinfo endpoints, through httpx's mock transport) and for
the backends the web pages call, and the pages started on them with a session logged in: what the
web pages' unit tests share. The real servers are driven in tests/integration/test_web.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import grpc
import httpx
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.testclient import TestClient
from google.rpc import error_details_pb2, status_pb2
from starlette.responses import Response

from qlcb.personnel.v1 import deadlines_pb2, personnel_pb2, quota_pb2, record_pb2, search_pb2
from qlcb.reports.v1 import regimes_pb2, workflow_pb2
from qlcb_common.auth import AuthError, Principal
from qlcb_gateway import web
from qlcb_gateway.web.keycloak import WebClient
from qlcb_gateway.web.session import (
    PATH,
    SessionCookies,
    WebSession,
)
from qlcb_gateway.web.state import WebState, security_headers

ISSUER = "http://keycloak.test/realms/qlcb"
IDLE = 1800
SESSION = WebSession(
    access_token="access-1." + "a" * 1500,
    refresh_token="refresh-1." + "r" * 900,
    id_token="id-1." + "i" * 1400,
    csrf_token="csrf-1",
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Verifier:
    """Accepts the tokens in `valid`, answers "expired" for any other."""

    valid: set[str] = field(default_factory=lambda: {SESSION.access_token})
    roles: frozenset[str] = frozenset({"local-admin"})

    async def verify(self, token: str) -> Principal:
        if token not in self.valid:
            raise AuthError("expired", "Token has expired")
        return Principal(
            subject="s",
            username="qthanoi",
            roles=self.roles,
            unit_path="/TCHQ/HQHN",
            token=token,
            claims={"name": "Quản trị Hà Nội"},
        )


@dataclass
class Keycloak:
    """The token endpoint: refreshes `refresh-1` unless told to refuse; the userinfo endpoint, which
    answers 401 once the account's Keycloak session has `ended`, and nothing when `down`."""

    refuse: bool = False
    ended: bool = False
    down: bool = False
    asked: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    exchanged: list[dict[str, list[str]]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/userinfo"):
            self.asked.append(request.headers["authorization"].removeprefix("Bearer "))
            if self.down:
                raise httpx.ConnectError("keycloak.test: connection refused")
            return httpx.Response(401 if self.ended else 200, json={} if self.ended else {"sub": "s"})
        form = parse_qs(request.content.decode())
        if form["grant_type"] == ["authorization_code"]:
            self.exchanged.append(form)
            tokens = {"access_token": SESSION.access_token, "refresh_token": "refresh-1", "id_token": "id-1"}
            return httpx.Response(200, json=tokens)
        self.refreshed.append(form["refresh_token"][0])
        if self.refuse:
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(200, json={"access_token": "access-2", "refresh_token": "refresh-2"})


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


HQHN_KIND = personnel_pb2.UNIT_KIND_PROVINCIAL_DEPARTMENT


class Quotas:
    """This year's report under Hà Nội: 120 given, 130 in service; Nội Bài 40 given, 38 in service."""

    def __init__(self) -> None:
        self.asked: list[quota_pb2.GetQuotaReportRequest] = []

    async def GetQuotaReport(self, request: Any, **options: Any) -> quota_pb2.GetQuotaReportResponse:
        self.asked.append(request)
        return quota_pb2.GetQuotaReportResponse(
            year=request.year,
            as_of="2026-12-03",
            lines=[
                quota_pb2.QuotaLine(
                    unit_id="u1",
                    code="HQHN",
                    name="Cục Hải quan Hà Nội",
                    path="/TCHQ/HQHN",
                    quota=120,
                    allocated=40,
                    headcount=130,
                    own_headcount=92,
                ),
                quota_pb2.QuotaLine(
                    unit_id="nb",
                    code="HQHN-NB",
                    name="Chi cục Nội Bài",
                    path="/TCHQ/HQHN/NB",
                    parent_id="u1",
                    quota=40,
                    headcount=38,
                    own_headcount=38,
                ),
            ],
        )


class Personnel:
    def __init__(self) -> None:
        self.fails: grpc.StatusCode | None = None

    async def ListUnits(self, request: Any, **options: Any) -> personnel_pb2.ListUnitsResponse:
        """Hà Nội, and below it Nội Bài and a team dissolved last year."""
        if self.fails is not None:
            raise rpc_error(self.fails, "personnel: connection refused to 10.0.0.7, scope /TCHQ/HQHN")
        kind = personnel_pb2.UNIT_KIND_SUB_UNIT
        return personnel_pb2.ListUnitsResponse(
            units=[
                personnel_pb2.Unit(
                    id="nb", code="HQHN-NB", name="Chi cục Nội Bài", path="/TCHQ/HQHN/NB", parent_id="u1", kind=kind
                ),
                personnel_pb2.Unit(id="u1", code="HQHN", name="Cục Hải quan Hà Nội", path="/TCHQ/HQHN", kind=HQHN_KIND),
                personnel_pb2.Unit(
                    id="old",
                    code="HQHN-D9",
                    name="Đội đã giải thể",
                    path="/TCHQ/HQHN/D9",
                    parent_id="u1",
                    kind=kind,
                    dissolved_on="2025-06-30",
                ),
            ]
        )

    async def GetUnit(self, request: Any, **options: Any) -> personnel_pb2.GetUnitResponse:
        return personnel_pb2.GetUnitResponse(
            unit=personnel_pb2.Unit(id=request.id, name="Cục Hải quan Hà Nội", kind=HQHN_KIND)
        )

    async def ListTransfers(self, request: Any, **options: Any) -> personnel_pb2.ListTransfersResponse:
        """One transfer waiting to be taken in, asked of the caller's own unit."""
        assert (request.unit_id, request.status, request.include_subtree) == (
            "u1",
            personnel_pb2.TRANSFER_STATUS_SENT,
            True,
        )
        waiting = personnel_pb2.Transfer(
            id="t1",
            person_id="p2",
            from_unit_id="u2",
            to_unit_id="u1",
            status=personnel_pb2.TRANSFER_STATUS_SENT,
            effective_date="2026-12-15",
            sent_at="2026-12-01T08:00:00+00:00",
        )
        return personnel_pb2.ListTransfersResponse(transfers=[waiting])


class RetirementsDue:
    """Two people of the unit's subtree reaching retirement age in the months asked; and catalogs of
    one value each, for the staff list's filters, with the catalogs asked in order."""

    def __init__(self) -> None:
        self.catalogs_asked: list[str] = []

    async def ListRetirementsDue(self, request: Any, **options: Any) -> record_pb2.ListRetirementsDueResponse:
        assert request.include_subtree
        people = [
            personnel_pb2.Person(
                id=f"r{n}",
                full_name=name,
                date_of_birth=born,
                sex=personnel_pb2.SEX_MALE,
                status=personnel_pb2.PERSON_STATUS_ACTIVE,
            )
            for n, (name, born) in enumerate((("Trịnh Văn Hưu", "1964-08-01"), ("Lý Văn Trí", "1964-11-20")))
        ]
        return record_pb2.ListRetirementsDueResponse(
            items=[
                record_pb2.RetirementDue(person=p, retires_on=day)
                for p, day in zip(people, ("2026-02-28", "2026-05-31"), strict=True)
            ]
        )

    async def ListCatalogValues(self, request: Any, **options: Any) -> record_pb2.ListCatalogValuesResponse:
        """One value; on a day before the provinces merged, a province since merged into another too."""
        self.catalogs_asked.append(f"{request.catalog}@{request.as_of}")
        values = [record_pb2.CatalogValue(catalog=request.catalog, code="01", label="Giá trị một")]
        if request.catalog == "provinces" and request.as_of == "2025-06-30":
            values.append(record_pb2.CatalogValue(catalog="provinces", code="02", label="Tỉnh Hà Giang"))
        return record_pb2.ListCatalogValuesResponse(values=values)


class Search:
    """Thirty people in the unit, one page at a time; a query of digits stands for one personnel refuses."""

    def __init__(self) -> None:
        self.asked: list[search_pb2.SearchPersonsRequest] = []

    async def SearchPersons(self, request: Any, **options: Any) -> search_pb2.SearchPersonsResponse:
        self.asked.append(request)
        if request.q.isdigit():
            status = status_pb2.Status(code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message="q")
            detail = error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field="q", description="Họ tên phải có chữ")
                ]
            )
            status.details.add().Pack(detail)
            raise grpc.aio.AioRpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                grpc.aio.Metadata(),
                grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString())),
                details="q",
            )
        person = personnel_pb2.Person(
            id="p1", full_name="Đặng Thị Hồng Nhung", date_of_birth="1986-04-09", sex=personnel_pb2.SEX_FEMALE
        )
        person.status = personnel_pb2.PERSON_STATUS_ACTIVE
        return search_pb2.SearchPersonsResponse(
            persons=[person], total=30, page=request.page, page_size=request.page_size
        )


class WaitingReports:
    """Reports' queue of the caller: 3 reports to send, 1 to approve."""

    def __init__(self) -> None:
        self.asked: list[Any] = []

    async def ListWaiting(self, request: Any, **options: Any) -> workflow_pb2.ListWaitingResponse:
        self.asked.append(request)
        return workflow_pb2.ListWaitingResponse(to_send_total=3, to_approve_total=1)


ACCOUNTS = {"sub-qthanoi": {"username": "qthanoi", "full_name": "Vũ Thị Hà"}}
"""The accounts identity names by subject."""


class Identity:
    """Identity's REST API as the pages call it with the caller's token: the open account requests
    (`items`, each with its step and whether it is the caller's) and the steps taken on them; the
    delegations in force, a grant (answered as made) and a revocation."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.delegations: list[dict[str, Any]] = []
        self.asked: list[httpx.Request] = []
        self.refusal: httpx.Response | None = None
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("identity is down", request=request)
        self.asked.append(request)
        if request.method == "GET" and request.url.path == "/v1/account-names":
            asked = request.url.params.get_list("id")
            return httpx.Response(200, json=[ACCOUNTS[i] | {"id": i} for i in asked if i in ACCOUNTS])
        if request.method == "GET" and request.url.path == "/v1/account-requests":
            limit = int(request.url.params.get("limit", "100"))
            yours = sum(bool(item["yours"]) for item in self.items)
            return httpx.Response(200, json={"items": self.items[:limit], "total": len(self.items), "yours": yours})
        if request.method in ("POST", "DELETE") and self.refusal is not None:
            return self.refusal
        if request.url.path == "/v1/delegations":
            if request.method == "GET":
                return httpx.Response(200, json=self.delegations)
            return httpx.Response(201, json={"id": "d-new", **json.loads(request.content)})
        if request.method == "DELETE" and request.url.path.startswith("/v1/delegations/"):
            return httpx.Response(200, json={"id": request.url.path.rsplit("/", 1)[1]})
        if request.method == "POST" and request.url.path.startswith("/v1/account-requests/"):
            return httpx.Response(200, json={"id": request.url.path.split("/")[3]})
        return httpx.Response(404, json={"detail": {"code": "NOT_FOUND", "message": "Không có"}})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url="http://identity.test", transport=httpx.MockTransport(self))


@dataclass
class Page:
    client: TestClient
    cookies: SessionCookies
    clock: Clock
    keycloak: Keycloak
    verifier: Verifier
    personnel: Personnel
    search: Search
    quotas: Quotas
    reports: WaitingReports
    identity: Identity


@contextmanager
def pages_on_stand_ins() -> Iterator[Page]:
    """The web pages on stand-in backends and Keycloak, no session yet."""
    clock, keycloak, verifier, personnel, search, quotas, reports, identity = (
        Clock(),
        Keycloak(),
        Verifier(),
        Personnel(),
        Search(),
        Quotas(),
        WaitingReports(),
        Identity(),
    )
    cookies = SessionCookies(Fernet.generate_key().decode(), IDLE, clock=clock)
    http = httpx.AsyncClient(transport=httpx.MockTransport(keycloak))
    app = FastAPI()
    web.install(app)
    app.state.web = WebState(cookies, WebClient(ISSUER, "qlcb-gateway", http), http, security_headers(ISSUER))
    app.state.verifier = verifier
    app.state.backends = SimpleNamespace(
        personnel=personnel,
        search=search,
        quotas=quotas,
        record=RetirementsDue(),
        report_assignments=reports,
        identity=identity.client(),
        deadlines=Deadlines(),
        call_options=lambda token: {"metadata": (("authorization", f"Bearer {token}"),)},
    )
    with TestClient(app, base_url="http://gateway.test", follow_redirects=False) as client:
        yield Page(client, cookies, clock, keycloak, verifier, personnel, search, quotas, reports, identity)


def set_cookies(cookies: SessionCookies, session: WebSession, *, secure: bool) -> tuple[dict[str, str], list[str]]:
    """The cookies `write` sets, by name, and their Set-Cookie headers."""
    response = Response()
    cookies.write(response, session, secure=secure)
    headers = response.headers.getlist("set-cookie")
    jar: SimpleCookie = SimpleCookie()
    for header in headers:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items() if morsel.value}, headers


def logged_in(page: Page, session: WebSession = SESSION) -> None:
    for name, value in set_cookies(page.cookies, session, secure=False)[0].items():
        page.client.cookies.set(name, value, domain="gateway.test", path=PATH)


@dataclass
class Deadlines:
    """Personnel's deadlines: 40 entries made in Hà Nội's tree in the period, 2 of them late."""

    asked: list[deadlines_pb2.GetLateEntriesRequest] = field(default_factory=list)
    fails: grpc.aio.AioRpcError | None = None

    async def GetLateEntries(self, request: Any, **options: Any) -> deadlines_pb2.GetLateEntriesResponse:
        self.asked.append(request)
        if self.fails is not None:
            raise self.fails
        late = [
            deadlines_pb2.LateEntry(
                entry_id=f"e{n}",
                person_id=f"p{n}",
                person_name=name,
                unit_id="nb",
                section="salary",
                kind="update",
                event_date="2026-11-02",
                deadline="2026-11-05",
                entered_at="2026-11-10T02:30:00+00:00",
                entered_by="s-officer",
                days_late=3,
            )
            for n, name in ((1, "Nguyễn Văn An"), (2, "Trần Thị Bình"))
        ]
        return deadlines_pb2.GetLateEntriesResponse(
            rule="customs",
            limits=[deadlines_pb2.DeadlineLimit(kind="update", days=3, counting="working_days", basis="QĐ 1234")],
            units=[
                deadlines_pb2.EntryTimeliness(
                    unit_id="nb", unit_name="Chi cục Nội Bài", entries=40, late=2, late_rate=0.05
                )
            ],
            total=deadlines_pb2.EntryTimeliness(entries=40, late=2, late_rate=0.05),
            late_entries=late[: request.page_size],
            next_page_token="next-1" if request.page_size < len(late) else "",
        )


@contextmanager
def stand_in_pages(verifier: Any, *, keycloak: Any = None, **backends: Any) -> Iterator[TestClient]:
    """The web pages on stand-in backends (Keycloak's endpoints stood in too), with a session
    logged in: what the other web tests start from."""
    cookies = SessionCookies(Fernet.generate_key().decode(), IDLE, clock=Clock())
    http = httpx.AsyncClient(transport=httpx.MockTransport(keycloak or Keycloak()))
    app = FastAPI()
    web.install(app)
    app.state.web = WebState(cookies, WebClient(ISSUER, "qlcb-gateway", http), http, security_headers(ISSUER))
    app.state.verifier = verifier
    app.state.backends = SimpleNamespace(
        **{"identity": Identity().client(), "deadlines": Deadlines(), **backends},
        call_options=lambda token: {"metadata": (("authorization", f"Bearer {token}"),)},
    )
    with TestClient(app, base_url="http://gateway.test", follow_redirects=False) as client:
        logged_in(SimpleNamespace(client=client, cookies=cookies))  # type: ignore[arg-type]
        yield client


CLOSED_RANK = ("01.004", "Cán sự")
"""A rank whose code the catalog closed at the end of 2019."""


def invalid_argument(*violations: tuple[str, str]) -> grpc.aio.AioRpcError:
    status = status_pb2.Status(code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message="invalid")
    detail = error_details_pb2.BadRequest(
        field_violations=[error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations]
    )
    status.details.add().Pack(detail)
    return grpc.aio.AioRpcError(
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString())),
        details="invalid",
    )


class OnePerson:
    """Personnel as a record's pages ask it: Lê Thị Hoa of Chi cục Nội Bài, whoever is asked for."""

    async def GetPerson(self, request: Any, **options: Any) -> personnel_pb2.GetPersonResponse:
        person = personnel_pb2.Person(
            id=request.id, full_name="Lê Thị Hoa", date_of_birth="1985-03-08", sex=personnel_pb2.SEX_FEMALE
        )
        person.unit_id = "u1"
        person.status = personnel_pb2.PERSON_STATUS_ACTIVE
        return personnel_pb2.GetPersonResponse(person=person)

    async def GetUnit(self, request: Any, **options: Any) -> personnel_pb2.GetUnitResponse:
        unit = personnel_pb2.Unit(
            id=request.id, name="Chi cục Nội Bài", path="/TCHQ/HQHN/CK", kind=personnel_pb2.UNIT_KIND_SUB_UNIT
        )
        return personnel_pb2.GetUnitResponse(unit=unit)


@dataclass
class Record:
    """Personnel's record service: a short catalog of ranks; adds what it is sent, or refuses with `fails`."""

    added: list[record_pb2.AddRecordEntryRequest] = field(default_factory=list)
    fails: grpc.aio.AioRpcError | None = None
    read_as_of: list[str] = field(default_factory=list)
    corrected: list[record_pb2.CorrectRecordEntryRequest] = field(default_factory=list)

    catalogs_on: list[str] = field(default_factory=list)
    current: tuple[str, str] = ("2024-07-01", "01.003")
    """The current salary entry's start and rank."""

    async def ListRecordEntries(self, request: Any, **options: Any) -> record_pb2.ListRecordEntriesResponse:
        """One current salary entry, at its third version."""
        assert request.section == "salary"
        valid_from, rank = self.current
        values = {"rank_code": rank, "step": 1, "coefficient": "2.34"}
        entry = record_pb2.RecordEntry(
            entry_id="e1",
            version=3,
            valid_from=valid_from,
            values_json=json.dumps(values),
            decision=record_pb2.RecordDecision(number="31/QĐ-HQHN", date="2024-06-20"),
        )
        return record_pb2.ListRecordEntriesResponse(entries=[entry])

    async def ListRecordEntryVersions(self, request: Any, **options: Any) -> record_pb2.ListRecordEntryVersionsResponse:
        """Entry e1: recorded with a wrong coefficient, then corrected (newest first, as personnel may list them)."""
        if request.entry_id != "e1":
            return record_pb2.ListRecordEntryVersionsResponse()

        def version(number: int, change: str, coefficient: str, superseded: str) -> record_pb2.RecordEntry:
            values = {"rank_code": "01.003", "step": 1, "coefficient": coefficient}
            return record_pb2.RecordEntry(
                entry_id="e1",
                version=number,
                change=change,
                valid_from="2024-07-01",
                values_json=json.dumps(values),
                decision=record_pb2.RecordDecision(number="31/QĐ-HQHN", date="2024-06-20"),
                recorded_at=f"2024-07-0{number}T02:3{number}:00+00:00",
                recorded_by="sub-qthanoi" if number == 2 else "sub-gone",
                superseded_at=superseded,
                decision_id="d7" if number == 1 else "",
            )

        return record_pb2.ListRecordEntryVersionsResponse(
            entries=[version(2, "corrected", "2.34", ""), version(1, "recorded", "2.43", "2024-07-02T09:32:00+07:00")]
        )

    async def CorrectRecordEntry(self, request: Any, **options: Any) -> record_pb2.CorrectRecordEntryResponse:
        if self.fails is not None:
            raise self.fails
        self.corrected.append(request)
        return record_pb2.CorrectRecordEntryResponse(entry=record_pb2.RecordEntry(entry_id="e1", version=4))

    async def GetRecord(self, request: Any, **options: Any) -> record_pb2.GetRecordResponse:
        self.read_as_of.append(request.as_of)
        person = (await OnePerson().GetPerson(SimpleNamespace(id=request.person_id))).person
        term = record_pb2.TermOfOffice(entry_id="a1", section="appointments", post="Đội trưởng", ends_on="2030-02-28")
        return record_pb2.GetRecordResponse(person=person, sections=["salary", "placements"], terms=[term])

    async def ListCatalogValues(self, request: Any, **options: Any) -> record_pb2.ListCatalogValuesResponse:
        """Two ranks; on a day before 2020 a third, closed since (personnel lists today's without `as_of`)."""
        self.catalogs_on.append(request.as_of)
        ranks = [("01.003", "Chuyên viên"), ("01.002", "Chuyên viên chính")]
        if request.as_of and request.as_of < "2020-01-01":
            ranks.append(CLOSED_RANK)
        return record_pb2.ListCatalogValuesResponse(
            values=[record_pb2.CatalogValue(catalog=request.catalog, code=c, label=label) for c, label in ranks]
        )

    async def AddRecordEntry(self, request: Any, **options: Any) -> record_pb2.AddRecordEntryResponse:
        if self.fails is not None:
            raise self.fails
        self.added.append(request)
        return record_pb2.AddRecordEntryResponse(entry=record_pb2.RecordEntry(entry_id="e1", version=1))


PEOPLE = {"p1": "Nguyễn Văn An"}  # p2 is outside what the caller reads


class DecisionPeople:
    """Personnel as a decision's page asks it: the people of `PEOPLE`; any other is outside the caller's scope."""

    async def GetPerson(self, request: Any, **options: Any) -> personnel_pb2.GetPersonResponse:
        if request.id not in PEOPLE:
            raise rpc_error(grpc.StatusCode.PERMISSION_DENIED, "outside")
        person = personnel_pb2.Person(
            id=request.id,
            full_name=PEOPLE[request.id],
            date_of_birth="1980-02-02",
            sex=personnel_pb2.SEX_MALE,
            status=personnel_pb2.PERSON_STATUS_ACTIVE,
        )
        return personnel_pb2.GetPersonResponse(person=person)

    async def GetUnit(self, request: Any, **options: Any) -> personnel_pb2.GetUnitResponse:
        unit = personnel_pb2.Unit(
            id=request.id,
            name="Cục Hải quan thành phố Hà Nội",
            path="/TCHQ/HQHN",
            kind=personnel_pb2.UNIT_KIND_SUB_UNIT,
        )
        return personnel_pb2.GetUnitResponse(unit=unit)


INDICATORS = [
    regimes_pb2.Indicator(
        code="so_bien_che", label="Số biên chế", kind="number", unit="người", required=True, integer=True
    ),
    regimes_pb2.Indicator(code="ty_le_nu", label="Tỷ lệ nữ", kind="percent"),
    regimes_pb2.Indicator(code="ghi_chu", label="Ghi chú", kind="text", max_length=200),
    regimes_pb2.Indicator(
        code="danh_sach",
        label="Danh sách nghỉ hưu",
        kind="table",
        max_rows=5,
        columns=[
            regimes_pb2.Indicator(code="ho_ten", label="Họ và tên", kind="text", required=True),
            regimes_pb2.Indicator(code="so_nam", label="Số năm công tác", kind="number", integer=True),
        ],
    ),
]
REGIME = regimes_pb2.Regime(
    id="r1",
    code="BC-NS",
    name="Báo cáo số lượng cán bộ",
    kind="periodic",
    frequency="month",
    legal_basis="Quyết định 239/QĐ-UBND",
    issuer_unit_id="hn",
    deadline_days=5,
    deadline_counting="working_days",
    templates=[
        regimes_pb2.Template(
            version=1, outline="I. Số lượng", indicators=INDICATORS, created_at="2026-01-01T00:00:00+00:00"
        )
    ],
    created_at="2026-01-01T00:00:00+00:00",
)
PERIOD = workflow_pb2.Period(
    id="p1",
    regime_id="r1",
    key="2026-11",
    starts_on="2026-11-01",
    ends_on="2026-11-30",
    deadline="2026-12-07",
    template_version=1,
    opened_at="2026-11-01T01:00:00+00:00",
)
REPORT_UNITS = {"hn": "/TCHQ/HQHN", "doi": "/TCHQ/HQHN/DOI", "to": "/TCHQ/HQHN/DOI/TO"}


class ReportUnits:
    """Personnel as the reports' pages ask it: the units of `REPORT_UNITS`, and the tree it is given."""

    def __init__(self) -> None:
        self.units: list[personnel_pb2.Unit] = []

    async def ListUnits(self, request: Any, **options: Any) -> personnel_pb2.ListUnitsResponse:
        return personnel_pb2.ListUnitsResponse(units=self.units)

    async def GetUnit(self, request: Any, **options: Any) -> personnel_pb2.GetUnitResponse:
        unit = personnel_pb2.Unit(
            id=request.id, name=request.id, path=REPORT_UNITS[request.id], kind=personnel_pb2.UNIT_KIND_SUB_UNIT
        )
        return personnel_pb2.GetUnitResponse(unit=unit)


QUOTA_UNITS = {
    "root": ("Tổng cục Hải quan", "/TCHQ", ""),
    "u1": ("Cục Hải quan thành phố Hà Nội", "/TCHQ/HQHN", "root"),
    "nb": ("Chi cục Hải quan Nội Bài", "/TCHQ/HQHN/NB", "u1"),
}


class QuotaUnits:
    """Personnel as the quota pages ask it: the units of `QUOTA_UNITS`."""

    async def GetUnit(self, request: Any, **options: Any) -> personnel_pb2.GetUnitResponse:
        name, path, parent = QUOTA_UNITS[request.id]
        kind = personnel_pb2.UNIT_KIND_SUB_UNIT
        return personnel_pb2.GetUnitResponse(
            unit=personnel_pb2.Unit(id=request.id, name=name, path=path, parent_id=parent, kind=kind, code=request.id)
        )
