"""The pages: login and logout through Keycloak, home, the unit tree, a unit's staff list with its
search, a person's record; and the pages of a refusal, of something not found, of a backend down.

Each page calls the REST routes' own functions, or the same backend stubs with the same options,
with the logged-in user's access token: the services decide what the caller may see, and a page
shows what they return or their refusal, never more."""

from __future__ import annotations

import asyncio
import hmac
import math
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import grpc
import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qlcb.personnel.v1 import record_pb2, search_pb2
from qlcb_common.auth import AuthError, Principal, TokenVerifier
from qlcb_common.authz.matrix import Action, Section
from qlcb_common.authz.policy import Delegation, RecordRef, may_at_all, permits
from qlcb_common.days import VIETNAM
from qlcb_common.record_sections import SECTIONS, Field, Kind, RecordSection
from qlcb_common.tiers import Tier
from qlcb_gateway import errors
from qlcb_gateway.backends import Backends
from qlcb_gateway.errors import field_violations
from qlcb_gateway.routes.organisation import get_unit, list_units, person_public
from qlcb_gateway.routes.quotas import quota_report
from qlcb_gateway.routes.record import whole_record
from qlcb_gateway.schemas import PersonPublic, PersonStatus, QuotaLinePublic, UnitPublic
from qlcb_gateway.web import staff_filters
from qlcb_gateway.web.keycloak import KeycloakRefused
from qlcb_gateway.web.person_labels import SEX_LABELS, STATUS_LABELS
from qlcb_gateway.web.session import PATH, PendingLogin, SessionExpired, SessionRefused, WebSession, new_csrf_token
from qlcb_gateway.web.state import WebState
from qlcb_gateway.web.urls import page_url, template_url

router = APIRouter(prefix=PATH, include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

PAGE_SIZE = 25
PAGE_SIZES = (25, 50, 100)
"""The staff list's page sizes: 25 by default, 100 for a unit's whole roll at a glance."""
STAFF_ORDERS = ("name", "birth_date")
"""The staff list's orders (personnel's search sorts): by name in Vietnamese collation, by birth date."""
SEARCH_MAX = 150

TIER_LABELS = {
    Tier.SYSTEM_ADMIN: "Quản trị hệ thống",
    Tier.SECTOR_HR: "Cán bộ Vụ Tổ chức cán bộ (toàn ngành)",
    Tier.SECTOR_VIEWER: "Lãnh đạo Vụ Tổ chức cán bộ (xem toàn ngành)",
    Tier.HQ_DEPARTMENT: "Vụ thuộc Tổng cục",
    Tier.HQ_UNIT: "Cục, đơn vị thuộc Tổng cục",
    Tier.LOCAL_ADMIN: "Quản trị đơn vị",
    Tier.LOCAL_OFFICER: "Cán bộ nhân sự đơn vị",
    Tier.UNIT_LEADER: "Thủ trưởng đơn vị",
    Tier.SELF: "Cán bộ, công chức (hồ sơ của mình)",
}
CHANGE_LABELS = {
    "recorded": "Ghi nhận",
    "corrected": "Đính chính",
    "closed": "Đã kết thúc",
    "reopened": "Mở lại",
    "retracted": "Đã rút",
}

REFUSALS = {
    403: ("Không có quyền", "Tài khoản của bạn không có quyền xem hoặc làm việc này."),
    404: (
        "Không tìm thấy",
        "Không tìm thấy nội dung này, hoặc nó nằm ngoài phạm vi tài khoản của bạn được xem.",
    ),
    503: (
        "Hệ thống tạm thời không phục vụ được",
        "Một dịch vụ của hệ thống đang không trả lời. Xin thử lại sau ít phút; "
        "nếu vẫn vậy, hãy báo cho quản trị hệ thống.",
    ),
}
_PAGE_STATUS = {
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.CANCELLED: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 503,
}


def vn_date(value: date | datetime | str | None) -> str:
    """dd/mm/yyyy, as Vietnamese documents write dates (a moment: its day in Vietnam); empty for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(VIETNAM)
    return value.strftime("%d/%m/%Y")


def vn_moment(value: datetime | None) -> str:
    """dd/mm/yyyy hh:mm in Vietnam's time; empty for none."""
    if value is None:
        return ""
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def vn_number(value: object) -> str:
    """A number as Vietnamese documents write it: 1.234 and 4,5; anything else as its text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    whole, _, fraction = repr(value).partition(".")
    return f"{int(whole):,}".replace(",", ".") + ("," + fraction if fraction else "")


templates.env.filters["vn_date"] = vn_date
templates.env.filters["vn_number"] = vn_number
templates.env.filters["vn_moment"] = vn_moment
templates.env.globals["url_for"] = template_url


class LoginRequired(Exception):
    """No usable session: the browser goes to the login, then back to the page it asked for."""


class KeycloakDown(Exception):
    """Keycloak could not be reached to refresh or finish a login."""


ACCOUNT_REQUEST_TIERS = (Tier.SYSTEM_ADMIN, Tier.LOCAL_ADMIN, Tier.LOCAL_OFFICER, Tier.UNIT_LEADER)
"""The tiers that take part in account requests (identity lists requests to them alone)."""
ACCOUNT_ADMIN_TIERS = (Tier.SYSTEM_ADMIN, Tier.LOCAL_ADMIN)
"""The tiers that administer accounts (identity lists a unit's accounts to them alone)."""


DELEGATION_READERS = (Tier.SYSTEM_ADMIN, Tier.SECTOR_HR, Tier.SECTOR_VIEWER)
"""The tiers identity lists every delegation to; a unit's working accounts see those to their unit."""


class BackendDown(Exception):
    """A backend reached over HTTP (identity) did not answer: the page says the system cannot serve
    it now (503), as for a gRPC backend that is unavailable."""


async def identity_call(request: Request, visit: Visit, method: str, path: str, **sent: Any) -> httpx.Response:
    """A call to identity's REST API with the caller's own token: identity decides as it does for
    the caller's own client."""
    try:
        return await backends_of(request).identity.request(
            method, path, headers={"Authorization": f"Bearer {visit.principal.token}"}, **sent
        )
    except httpx.TransportError as exc:
        raise BackendDown from exc


@dataclass(frozen=True)
class Visit:
    """The logged-in caller of a page, and its session, renewed if its access token was refreshed."""

    principal: Principal
    session: WebSession
    renewed: bool


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def backends_of(request: Request) -> Backends:
    found: Backends = request.app.state.backends
    return found


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def signed_in(request: Request) -> Visit:
    """The caller as its session says, its access token refreshed when it has expired. Raises
    LoginRequired when there is no session, or it has ended (idle too long, refused by Keycloak, its
    account disabled or its Keycloak session ended), KeycloakDown when Keycloak cannot be asked."""
    web = web_state(request)
    verifier: TokenVerifier = request.app.state.verifier
    await web.notices.refresh(backends_of(request).identity)
    try:
        session = web.cookies.read(request.cookies)
    except (SessionRefused, SessionExpired) as exc:
        raise LoginRequired from exc
    if session is None:
        raise LoginRequired
    try:
        principal = await verifier.verify(session.access_token)
    except AuthError as exc:
        if exc.reason != "expired":
            raise LoginRequired from exc
    else:
        # The token stays valid for minutes after its account is disabled or its sessions ended;
        # Keycloak is asked on every page so that the session ends at its next request. A refresh
        # (below) is itself refused then. A page that only reads asks it beside its own reads, and
        # its first byte waits for the answer (SessionStanding); anything else waits for it first.
        check = asyncio.ensure_future(web.client.session_stands(session.access_token))
        if request.method in ("GET", "HEAD"):
            setattr(request.state, STANDING, check)
        else:
            await session_verdict(check)
        return Visit(principal, session, renewed=False)
    try:
        tokens = await web.client.refresh(session.refresh_token, session.id_token)
    except KeycloakRefused as exc:
        raise LoginRequired from exc
    except httpx.HTTPError as exc:
        raise KeycloakDown from exc
    renewed = replace(
        session, access_token=tokens.access_token, refresh_token=tokens.refresh_token, id_token=tokens.id_token
    )
    try:
        return Visit(await verifier.verify(renewed.access_token), renewed, renewed=True)
    except AuthError as exc:
        raise LoginRequired from exc


def page_number(text: str, largest: int = 2**31 - 1) -> int:
    """A page number from a page's own links, read leniently: anything that is not one from 1 to
    `largest` is the first page."""
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= largest else 1


def render(
    request: Request, visit: Visit | None, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    context = {"notices": web_state(request).notices.held(), **context}
    if visit is not None:
        context = {"me": who(visit.principal), "csrf_token": visit.session.csrf_token, **context}
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    if visit is not None and visit.renewed:
        web_state(request).cookies.write(response, visit.session, secure=secure(request))
    return response


@dataclass(frozen=True)
class Who:
    username: str
    name: str
    tier: str
    unit_path: str
    reads_audit: bool  # the navigation offers the audit trail
    reads_reports: bool  # and the reports
    reads_statistics: bool  # and the statutory statistics forms
    runs_backups: bool  # and the backups
    takes_account_requests: bool  # and the account requests
    reads_purpose_accounts: bool  # and the purpose accounts
    administers_accounts: bool  # and a unit's accounts
    reads_delegations: bool  # and the delegations
    posts_notices: bool  # and the notices to every user


def _vietnamese_name(claims: Mapping[str, Any]) -> str:
    """The account holder's name family first, as Vietnamese write it: Keycloak's `name` claim puts
    the given name first ("Hà Vũ Thị" for Vũ Thị Hà)."""
    family, given = claims.get("family_name"), claims.get("given_name")
    if isinstance(family, str) and isinstance(given, str) and (family or given):
        return " ".join(part for part in (family, given) if part)
    name = claims.get("name")
    return name if isinstance(name, str) else ""


def who(principal: Principal) -> Who:
    tiers = [TIER_LABELS[tier] for tier in Tier if tier.value in principal.roles]
    return Who(
        username=principal.username,
        name=_vietnamese_name(principal.claims),
        tier=", ".join(tiers) or "Không có vai trò nào",
        unit_path=principal.unit_path or "",
        reads_audit=may_at_all(principal, Section.AUDIT, Action.READ),
        reads_reports=may_at_all(principal, Section.REPORT_REGIMES, Action.READ),
        reads_statistics=may_at_all(principal, Section.REPORTS, Action.READ),
        runs_backups=may_at_all(principal, Section.BACKUP, Action.OPERATE),
        takes_account_requests=principal.has_any_role(ACCOUNT_REQUEST_TIERS),
        reads_purpose_accounts=may_at_all(principal, Section.UNIT, Action.READ),
        administers_accounts=principal.has_any_role(ACCOUNT_ADMIN_TIERS),
        posts_notices=principal.has_any_role((Tier.SYSTEM_ADMIN,)),
        reads_delegations=principal.has_any_role(DELEGATION_READERS)
        or (bool(principal.unit_path) and may_at_all(principal, Section.UNIT, Action.READ)),
    )


def error_page(request: Request, status_code: int, title: str = "", message: str = "") -> Response:
    default_title, default_message = REFUSALS.get(status_code, ("Có lỗi", "Không thực hiện được yêu cầu."))
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "title": title or default_title,
            "message": message or default_message,
            "status": status_code,
            "notices": web_state(request).notices.held(),
        },
        status_code=status_code,
    )


def login_redirect(request: Request) -> Response:
    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = page_url(request, "web_login").include_query_params(next=asked if request.method == "GET" else PATH + "/")
    response = RedirectResponse(str(target), status_code=303)
    web_state(request).cookies.clear(response, secure=secure(request))
    return response


STANDING = "session_standing"
"""Where `signed_in` leaves a page's pending session check, in the request's state."""


async def session_verdict(check: Awaitable[bool]) -> None:
    """Keycloak's answer on whether the session stands: LoginRequired when it does not,
    KeycloakDown when Keycloak did not answer."""
    try:
        stands = await check
    except httpx.HTTPError as exc:
        raise KeycloakDown from exc
    if not stands:
        raise LoginRequired


class SessionStanding:
    """Holds a page's response, before its first byte, until Keycloak has said whether the session
    stands (asked by `signed_in` beside the page's reads): the login instead when it does not, the
    503 page when Keycloak did not answer. A page of a disabled account shows nothing, as when the
    check came first, and the check adds no wait of its own to a page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PATH + "/"):
            await self.app(scope, receive, send)
            return
        replaced = False

        async def once_standing(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start":
                refusal = await _refusal(scope)
                if refusal is not None:
                    replaced = True
                    await refusal(scope, receive, send)
                    return
            if not replaced:
                await send(message)

        try:
            await self.app(scope, receive, once_standing)
        finally:
            left = scope.get("state", {}).pop(STANDING, None)
            if left is not None:
                left.cancel()  # the page failed before answering: nothing waits for Keycloak's answer


async def _refusal(scope: Scope) -> Response | None:
    check = scope.get("state", {}).pop(STANDING, None)
    if check is None:
        return None
    request = Request(scope)
    try:
        await session_verdict(check)
    except LoginRequired:
        return login_redirect(request)
    except KeycloakDown:
        return error_page(request, 503)
    return None


def install_error_pages(app: FastAPI) -> None:
    """A backend's refusal on a page becomes a page saying so in Vietnamese; on the REST API it stays
    the JSON problem it was."""

    async def grpc_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, grpc.aio.AioRpcError)
        if not request.url.path.startswith(PATH + "/"):
            return await errors.grpc_error_handler(request, exc)
        if exc.code() is grpc.StatusCode.UNAUTHENTICATED:
            return login_redirect(request)
        return error_page(request, _PAGE_STATUS.get(exc.code(), 502))

    async def login_required(request: Request, _exc: Exception) -> Response:
        return login_redirect(request)

    async def unavailable(request: Request, _exc: Exception) -> Response:
        return error_page(request, 503)

    app.add_exception_handler(grpc.aio.AioRpcError, grpc_error)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(KeycloakDown, unavailable)
    app.add_exception_handler(BackendDown, unavailable)


def shown_day(as_of: str) -> date | None:
    """The day a page's `as_of` asks for (yyyy-mm-dd, as a date input sends it); None for today or
    for anything that is not a day (the page's own links and form send it, leniently read)."""
    try:
        return date.fromisoformat(as_of) if as_of else None
    except ValueError:
        return None


FORM_MAX = 64 * 1024
"""The largest form body a page reads: a record section's fields and a note fit many times over."""
STALE_FORM = "Biểu mẫu không đúng hoặc đã cũ. Hãy tải lại trang rồi thử lại."


async def posted_form(request: Request, visit: Visit, largest: int = FORM_MAX) -> dict[str, str] | Response:
    """The fields of a page's POST (the first value of each), or the page refusing it: larger than
    `largest` bytes (413), or without the session's CSRF token (403, compared in constant time)."""
    body = await request.body()
    if len(body) > largest:
        return error_page(request, 413, "Biểu mẫu quá lớn", f"Nội dung gửi dài quá {largest // 1024} KB.")
    sent = {k: v[0] for k, v in parse_qs(body.decode(errors="replace"), keep_blank_values=True).items()}
    if not hmac.compare_digest(sent.get("csrf_token", "").encode(), visit.session.csrf_token.encode()):
        return error_page(request, 403, "Yêu cầu bị từ chối", STALE_FORM)
    return sent


def form_version(sent: dict[str, str]) -> int | None:
    """The version a form's hidden field names (what the page was drawn from), or None when it
    names none a backend could hold (an int32)."""
    version = sent.get("version", "")
    if version.isascii() and version.isdigit() and int(version) < 2**31:
        return int(version)
    return None


def safe_next(asked: str | None) -> str:
    """A page of this site to return to after the login; anything else (another site) is the home page."""
    if asked and asked.startswith(PATH + "/") and not asked.startswith("//") and "\\" not in asked:
        return asked
    return PATH + "/"


async def root() -> RedirectResponse:
    return RedirectResponse(PATH + "/", status_code=307)


@router.get("/login", name="web_login")
async def login(request: Request, next: str | None = None) -> Response:
    web = web_state(request)
    pending = PendingLogin.begin(safe_next(next))
    target = web.client.authorization_url(
        redirect_uri=str(page_url(request, "web_callback")), state=pending.state, verifier=pending.verifier
    )
    response = RedirectResponse(target, status_code=303)
    web.cookies.write_login(response, pending, secure=secure(request))
    return response


@router.get("/callback", name="web_callback")
async def callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    web = web_state(request)
    pending = web.cookies.read_login(request.cookies)
    again = "Hãy đăng nhập lại."
    if pending is None or not hmac.compare_digest(pending.state.encode(), state.encode()):
        return error_page(request, 400, "Phiên đăng nhập không hợp lệ", f"Lần đăng nhập này đã quá hạn. {again}")
    if error or not code:
        return error_page(request, 400, "Đăng nhập không thành công", f"Keycloak không cho đăng nhập. {again}")
    try:
        tokens = await web.client.exchange(
            code=code, verifier=pending.verifier, redirect_uri=str(page_url(request, "web_callback"))
        )
    except KeycloakRefused:
        return error_page(request, 400, "Đăng nhập không thành công", f"Mã đăng nhập không còn dùng được. {again}")
    except httpx.HTTPError as exc:
        raise KeycloakDown from exc
    verifier: TokenVerifier = request.app.state.verifier
    try:
        await verifier.verify(tokens.access_token)
    except AuthError:
        return error_page(request, 403, message="Tài khoản này không dùng được các trang của hệ thống.")
    session = WebSession(tokens.access_token, tokens.refresh_token, tokens.id_token, new_csrf_token())
    response = RedirectResponse(pending.next_page, status_code=303)
    web.cookies.clear_login(response, secure=secure(request))
    web.cookies.write(response, session, secure=secure(request))
    return response


@router.post("/logout", name="web_logout")
async def logout(request: Request) -> Response:
    web = web_state(request)
    try:
        session = web.cookies.read(request.cookies)
    except (SessionRefused, SessionExpired):
        session = None
    if session is None:
        response = RedirectResponse(str(page_url(request, "web_logged_out")), status_code=303)
        web.cookies.clear(response, secure=secure(request))
        return response
    form = parse_qs((await request.body()).decode(errors="replace"))
    sent = form.get("csrf_token", [""])[0]
    if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
        return error_page(request, 403, "Yêu cầu bị từ chối", STALE_FORM)
    target = web.client.end_session_url(
        id_token=session.id_token, post_logout_redirect_uri=str(page_url(request, "web_logged_out"))
    )
    response = RedirectResponse(target, status_code=303)
    web.cookies.clear(response, secure=secure(request))
    return response


@router.get("/logged-out", name="web_logged_out")
async def logged_out(request: Request) -> Response:
    return templates.TemplateResponse(request, "logged_out.html", {"notices": web_state(request).notices.held()})


@dataclass(frozen=True)
class TreeRow:
    unit: UnitPublic
    depth: int
    line: QuotaLinePublic | None  # None: no count for it (dissolved, say)


@router.get("/units", name="web_units")
async def units(request: Request) -> Response:
    """The tree with each unit's staffing quota (biên chế) of this year against the people in
    service in it and below it today: personnel's quota report, one call per top unit in scope."""
    visit = await signed_in(request)
    backends = backends_of(request)
    # Each unit right under its parent: by the path's segments, not its text ("/A/B-C" sorts before "/A/B/D").
    found = sorted(await list_units(visit.principal, backends), key=lambda unit: unit.path.split("/"))
    ids = {u.id for u in found}
    roots = [u for u in found if u.parent_id not in ids and u.dissolved_on is None]
    year = datetime.now(VIETNAM).year
    reports = await asyncio.gather(
        *(quota_report(u.id, year, visit.principal, backends, include_subtree=True) for u in roots)
    )
    lines = {line.unit_id: line for report in reports for line in report.items}
    top = min((u.path.count("/") for u in found), default=0)
    rows = [TreeRow(unit, unit.path.count("/") - top, lines.get(unit.id)) for unit in found]
    return render(request, visit, "units.html", {"rows": rows, "year": year})


def staff_order(asked: str) -> str:
    """The order a staff list link asks for; by name for anything else."""
    return asked if asked in STAFF_ORDERS else "name"


@router.get("/units/{unit_id}", name="web_unit")
async def unit_staff(
    request: Request, unit_id: str, q: str = "", page: str = "1", subtree: str = "", sort: str = "", per: str = ""
) -> Response:
    """The query string is read leniently: it comes from the page's own links and form, and a page
    number that is not one shows the first page rather than an error."""
    visit = await signed_in(request)
    if (cleaned := staff_filters.without_blanks(request.query_params)) is not None:
        # The filters' form sends every field: the link to keep, and to share, names the ones chosen.
        return RedirectResponse(f"{request.url.path}?{cleaned}" if cleaned else request.url.path, status_code=303)
    backends = backends_of(request)
    unit = await get_unit(unit_id, visit.principal, backends)
    query = q.strip()
    include_subtree = subtree == "1"
    order = staff_order(sort)
    size = int(per) if per in {str(n) for n in PAGE_SIZES} else PAGE_SIZE
    filters = staff_filters.chosen(request.query_params)
    faults: list[str] = filters.described()
    faulty: set[str] = {name for name, _reason in filters.faults}
    if len(query) > SEARCH_MAX:
        faults.append(f"Họ tên tìm kiếm dài quá {SEARCH_MAX} ký tự")
        faulty.add("q")
    number = page_number(page)
    people: list[PersonPublic] = []
    total = 0
    if not faults:
        try:
            response = await backends.search.SearchPersons(
                search_pb2.SearchPersonsRequest(
                    unit_id=unit_id,
                    include_subtree=include_subtree,
                    q=query,
                    page=number,
                    page_size=size,
                    sort=order,
                    **filters.fields,
                ),
                **backends.call_options(visit.principal.token),
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() is not grpc.StatusCode.INVALID_ARGUMENT:
                raise
            refused = field_violations(exc)
            faults = [_named(name, reason) for name, reason in refused] or [exc.details() or ""]
            faulty = {name for name, _reason in refused}
        else:
            people = [person_public(p) for p in response.persons]
            total = response.total
    pages = max(1, math.ceil(total / size))

    kept = (
        {"q": query}
        | ({"subtree": "1"} if include_subtree else {})
        | ({"per": str(size)} if size != PAGE_SIZE else {})
        | filters.written
    )

    def page_link(to: int) -> str:
        return f"{request.url.path}?{urlencode(kept | {'page': str(to), 'sort': order})}"

    def sort_link(by: str) -> str:
        return f"{request.url.path}?{urlencode(kept | {'sort': by})}"

    def export_link(extension: str) -> str:
        target = page_url(request, "web_staff_export", unit_id=unit_id, extension=extension)
        return f"{target}?{urlencode(kept | {'sort': order})}"

    return render(
        request,
        visit,
        "unit.html",
        {
            "unit": unit,
            "query": query,
            "include_subtree": include_subtree,
            "people": people,
            "total": total,
            "page": number,
            "pages": pages,
            "previous_link": page_link(number - 1) if number > 1 else None,
            "next_link": page_link(number + 1) if number < pages else None,
            "sort": order,
            "sort_links": {by: sort_link(by) for by in STAFF_ORDERS},
            "reads_reports": permits(visit.principal, Section.REPORTS, Action.READ, unit.path),
            "size": size,
            "size_links": {
                n: f"{request.url.path}?{urlencode(kept | {'per': str(n), 'sort': order})}" for n in PAGE_SIZES
            },
            "export_links": {"csv": export_link("csv"), "xlsx": export_link("xlsx")},
            "faults": faults,
            "sex_labels": SEX_LABELS,
            "status_labels": STATUS_LABELS,
            "filters": staff_filters.FILTERS,
            "filter_choices": await staff_filters.choices(
                web_state(request).filter_choices, backends, visit.principal.token
            ),
            "filtered": filters.written,
            "faulty": faulty,
        },
        status_code=422 if faults else 200,
    )


def _named(name: str, reason: str) -> str:
    """Personnel's reason, with the filter's name when a filter is at fault."""
    shown = staff_filters.BY_FILTER.get(name)
    return f"{shown.label}: {reason}" if shown is not None else reason


@dataclass(frozen=True)
class ShownEntry:
    entry_id: str
    valid_from: date | None
    valid_to: date | None
    values: list[tuple[str, str]]
    decision: str
    change: str


@dataclass(frozen=True)
class ShownSection:
    name: str
    label: str
    dated: bool
    entries: list[ShownEntry]
    can_add: bool
    can_correct: bool


Labels = Mapping[str, Mapping[str, str]]
"""Each catalog's labels by code."""


def shown_values(section: RecordSection, values: dict[str, Any], labels: Labels | None = None) -> list[tuple[str, str]]:
    """An entry's values as a page shows them: each field's label and its text, in the declaration's
    order, dates as dd/mm/yyyy, a catalog's code after its label, empty ones left out."""

    def text(spec: Field) -> str:
        value = values[spec.name]
        if spec.kind is Kind.DATE:
            return vn_date(value)
        label = (labels or {}).get(spec.catalog or "", {}).get(str(value))
        return f"{label} ({value})" if label else str(value)

    return [(spec.label, text(spec)) for spec in section.fields if values.get(spec.name) not in (None, "")]


async def catalog_labels(request: Request, visit: Visit, sections: Iterable[RecordSection]) -> Labels:
    """The labels of the catalogs the sections' fields take codes of, as personnel lists them today
    (kept a few minutes: `Kept`); a code no longer listed is shown as it is."""
    backends = backends_of(request)

    async def one(catalog: str) -> dict[str, str]:
        listed = await backends.record.ListCatalogValues(
            record_pb2.ListCatalogValuesRequest(catalog=catalog), **backends.call_options(visit.principal.token)
        )
        return {value.code: value.label for value in listed.values}

    async def fetch(catalogs: list[str]) -> dict[str, dict[str, str]]:
        return dict(zip(catalogs, await asyncio.gather(*(one(c) for c in catalogs)), strict=True))

    catalogs = {spec.catalog for section in sections for spec in section.fields if spec.catalog}
    return await web_state(request).catalog_labels.of(sorted(c for c in catalogs if c), fetch)


NAMES_AT_ONCE = 100
"""Subjects identity names in one call."""


async def account_names(request: Request, visit: Visit, subjects: Iterable[str]) -> dict[str, str]:
    """Each recorded subject as a page names its account, "Vũ Thị Hà (qthanoi)", as identity tells
    (kept a few minutes: `Kept`). A subject identity does not know is left out, and all of them while
    identity does not answer (nothing kept then): the page shows them as they are."""

    async def fetch(stale: list[str]) -> dict[str, str]:
        named: dict[str, str] = {}
        for start in range(0, len(stale), NAMES_AT_ONCE):
            ids = [("id", subject) for subject in stale[start : start + NAMES_AT_ONCE]]
            answer = await identity_call(request, visit, "GET", "/v1/account-names", params=ids)
            if answer.status_code != 200:
                raise BackendDown
            for n in answer.json():
                named[n["id"]] = f"{n['full_name']} ({n['username']})" if n["full_name"] else n["username"]
        return named

    try:
        return await web_state(request).account_names.of((s for s in subjects if s), fetch)
    except BackendDown:
        return {}


def decided_text(number: str | None, day: date | str | None, body: str | None) -> str:
    """The decision behind an entry as a line: its number, day and issuing body, those given."""
    return " ".join(part for part in (number, f"ngày {vn_date(day)}" if day else "", body) if part)


async def delegations_of(request: Request, visit: Visit) -> list[Delegation]:
    """The delegations in force that serve the caller, as identity lists them to its unit's accounts:
    personnel honours them, so the pages offer the forms they open. None when the caller has no
    unit, or identity refuses the list or does not answer: the pages then offer what the tier gives
    and personnel still decides."""
    if not visit.principal.unit_path:
        return []
    try:
        answer = await identity_call(request, visit, "GET", "/v1/delegations")
    except BackendDown:
        return []
    if answer.status_code != 200:
        return []
    found = [
        Delegation(
            grantee_unit_path=item["unit_path"],
            tiers=frozenset(item["tiers"]),
            sections=frozenset(Section(s) for s in item["sections"]),
            actions=frozenset(Action(a) for a in item["actions"]),
            target_unit_path=item.get("target_unit_path"),
            person_ids=frozenset(item.get("person_ids") or ()),
            valid_from=date.fromisoformat(item["valid_from"]) if item.get("valid_from") else None,
            valid_to=date.fromisoformat(item["valid_to"]) if item.get("valid_to") else None,
        )
        for item in answer.json()
    ]
    return [d for d in found if d.serves_caller(visit.principal)]


async def unit_in_reach(request: Request, visit: Visit, unit_id: str) -> UnitPublic | None:
    """The unit, or None when personnel says it is outside what the caller may read."""
    try:
        return await get_unit(unit_id, visit.principal, backends_of(request))
    except grpc.aio.AioRpcError as exc:
        if exc.code() not in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND):
            raise
        return None


def may_change(
    visit: Visit,
    section: RecordSection,
    unit_path: str | None,
    action: Action,
    *,
    person: PersonPublic | None = None,
    delegations: Sequence[Delegation] = (),
) -> bool:
    """Whether a page offers to add to the section (CREATE) or correct its entries (UPDATE): the
    caller's tier, granted sections and unit scope allow it, or a delegation serving it covers the
    person's unit or the person (personnel decides again)."""
    if unit_path is None:
        return may_at_all(visit.principal, section.authz, action, delegations)
    ref = RecordRef(person.id, person.personal_id) if person is not None else None
    return permits(visit.principal, section.authz, action, unit_path, person=ref, delegations=delegations)


def may_send(
    visit: Visit, person: PersonPublic, unit: UnitPublic | None, delegations: Sequence[Delegation] = ()
) -> bool:
    """Whether the record page offers to send the person elsewhere: active, and in a unit whose
    movements the caller may change, by tier or delegation (personnel decides again when the form
    is sent)."""
    ref = RecordRef(person.id, person.personal_id)
    return (
        unit is not None
        and person.status is PersonStatus.ACTIVE
        and permits(visit.principal, Section.MOVEMENT, Action.UPDATE, unit.path, person=ref, delegations=delegations)
    )


@router.get("/persons/{person_id}", name="web_person")
async def person(request: Request, person_id: str, as_of: str = "") -> Response:
    visit = await signed_in(request)
    backends = backends_of(request)
    day = shown_day(as_of)
    record, delegations, labels = await asyncio.gather(
        whole_record(person_id, visit.principal, backends, as_of=day),
        delegations_of(request, visit),
        catalog_labels(request, visit, SECTIONS),
    )
    unit = await unit_in_reach(request, visit, record.person.unit_id)
    sections = []
    for section in SECTIONS:
        entries = getattr(record.sections, section.name, None)
        if entries is None:
            continue
        shown = []
        for entry in entries:
            pairs = shown_values(section, entry.values.model_dump(), labels)
            decided = decided_text(entry.decision.number, entry.decision.date, entry.decision.body)
            shown.append(
                ShownEntry(
                    entry.entry_id,
                    entry.valid_from,
                    entry.valid_to,
                    pairs,
                    decided,
                    CHANGE_LABELS.get(entry.change, ""),
                )
            )
        path = unit.path if unit is not None else None
        sections.append(
            ShownSection(
                section.name,
                section.label,
                section.dated,
                shown,
                can_add=may_change(visit, section, path, Action.CREATE, person=record.person, delegations=delegations),
                can_correct=may_change(
                    visit, section, path, Action.UPDATE, person=record.person, delegations=delegations
                ),
            )
        )
    return render(
        request,
        visit,
        "person.html",
        {
            "person": record.person,
            "unit": unit,
            "as_of": day,
            "sections": sections,
            "retirement_date": record.retirement_date,
            "next_regular_raise": record.next_regular_raise,
            "terms": record.terms,
            "may_send": may_send(visit, record.person, unit, delegations),
            "sex_labels": SEX_LABELS,
            "status_labels": STATUS_LABELS,
        },
    )
