"""Issuing a report regime, and a new version of its template, from the web, against stand-ins for
reports and personnel: offered to the tiers that issue regimes, with the units they may issue at; the
indicators typed as rows (a table's columns the rows naming it, blank rows not sent) sent nested as
reports takes them; what is typed wrong said by its row and input with nothing sent; reports'
refusals put beside the row they name; more rows keep what was typed; a new version starts from the
current template; only with the session's CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import grpc
import pytest
from fastapi.testclient import TestClient
from html_tree import Node, parsed
from web_stand_ins import REGIME, SESSION, Keycloak, Verifier, invalid_argument, rpc_error, stand_in_pages

from qlcb.personnel.v1 import personnel_pb2
from qlcb.reports.v1 import regimes_pb2, workflow_pb2

SUB_UNIT, CUC = personnel_pb2.UNIT_KIND_SUB_UNIT, personnel_pb2.UNIT_KIND_PROVINCIAL_DEPARTMENT
UNITS = [
    personnel_pb2.Unit(
        id="root", code="TCHQ", name="Tổng cục Hải quan", path="/TCHQ", kind=personnel_pb2.UNIT_KIND_GENERAL_DEPARTMENT
    ),
    personnel_pb2.Unit(id="hcm", code="HQHCM", name="Cục Hải quan TP Hồ Chí Minh", path="/TCHQ/HQHCM", kind=CUC),
    personnel_pb2.Unit(id="hn", code="HQHN", name="Cục Hải quan TP Hà Nội", path="/TCHQ/HQHN", kind=CUC),
    personnel_pb2.Unit(
        id="cu", code="HQCU", name="Cục đã giải thể", path="/TCHQ/HQCU", kind=CUC, dissolved_on="2025-07-01"
    ),
    personnel_pb2.Unit(id="doi", code="DOI1", name="Đội Kiểm soát", path="/TCHQ/HQHN/DOI1", kind=SUB_UNIT),
]


class Personnel:
    async def ListUnits(self, request: Any, **options: Any) -> personnel_pb2.ListUnitsResponse:
        return personnel_pb2.ListUnitsResponse(units=UNITS)

    async def GetUnit(self, request: Any, **options: Any) -> personnel_pb2.GetUnitResponse:
        (unit,) = [u for u in UNITS if u.id == request.id]
        return personnel_pb2.GetUnitResponse(unit=unit)


@dataclass
class Regimes:
    created: list[regimes_pb2.CreateRegimeRequest] = field(default_factory=list)
    versions: list[regimes_pb2.AddTemplateVersionRequest] = field(default_factory=list)
    refusal: grpc.aio.AioRpcError | None = None

    async def GetRegime(self, request: Any, **options: Any) -> regimes_pb2.GetRegimeResponse:
        return regimes_pb2.GetRegimeResponse(regime=REGIME)

    async def ListRegimes(self, request: Any, **options: Any) -> regimes_pb2.ListRegimesResponse:
        return regimes_pb2.ListRegimesResponse(regimes=[REGIME])

    async def CreateRegime(self, request: Any, **options: Any) -> regimes_pb2.CreateRegimeResponse:
        if self.refusal is not None:
            raise self.refusal
        self.created.append(request)
        made = regimes_pb2.Regime(
            id="r9", code=request.code, name=request.name, kind=request.kind, created_at="2026-12-04T01:00:00+00:00"
        )
        return regimes_pb2.CreateRegimeResponse(regime=made)

    async def AddTemplateVersion(self, request: Any, **options: Any) -> regimes_pb2.AddTemplateVersionResponse:
        if self.refusal is not None:
            raise self.refusal
        self.versions.append(request)
        regime = regimes_pb2.Regime()
        regime.CopyFrom(REGIME)
        regime.templates.add(version=2, indicators=request.indicators, created_at="2026-12-04T01:00:00+00:00")
        return regimes_pb2.AddTemplateVersionResponse(regime=regime)


class Periods:
    async def ListPeriods(self, request: Any, **options: Any) -> workflow_pb2.ListPeriodsResponse:
        return workflow_pb2.ListPeriodsResponse()


@dataclass
class Page:
    client: TestClient
    regimes: Regimes
    verifier: Verifier
    keycloak: Keycloak


@pytest.fixture
def page() -> Iterator[Page]:
    regimes, verifier, keycloak = Regimes(), Verifier(roles=frozenset({"sector-hr"})), Keycloak()
    backends = {"report_regimes": regimes, "report_assignments": Periods(), "personnel": Personnel()}
    with stand_in_pages(verifier, keycloak=keycloak, **backends) as client:
        yield Page(client, regimes, verifier, keycloak)


REGIME_FIELDS = {
    "code": "BC-KT",
    "name": "Báo cáo kết quả kiểm tra sau thông quan",
    "kind": "periodic",
    "frequency": "quarter",
    "legal_basis": "Quyết định 1234/QĐ-TCHQ",
    "issuer_unit_id": "hn",
    "cutoff_day": "",
    "deadline_days": "10",
    "deadline_counting": "working_days",
    "reminder_days": "3",
    "outline": "I. Kết quả\nII. Kiến nghị",
    "rows": "6",
}


def _row(number: int, **typed: str) -> dict[str, str]:
    return {f"ind.{number}.{attr}": value for attr, value in typed.items()}


def _issue(page: Page, form: dict[str, str], *, csrf: str = SESSION.csrf_token) -> Any:
    return page.client.post("/web/reports/new", data={"csrf_token": csrf} | form)


def _as_sent(form: Node) -> dict[str, str]:
    """What a browser sends of the form as drawn: its inputs, boxes ticked, options chosen, texts."""
    sent = {
        i.attrs["name"]: i.attrs.get("value", "")
        for i in form.find_all("input")
        if i.attrs.get("type") != "checkbox" or "checked" in i.attrs
    }
    for select in form.find_all("select"):
        chosen = [o.attrs["value"] for o in select.find_all("option") if "selected" in o.attrs]
        sent[select.attrs["name"]] = chosen[0] if chosen else ""
    return sent | {t.attrs["name"]: t.all_text() for t in form.find_all("textarea")}


def _error(html: Node, name: str) -> str:
    return html.one("p", id=f"f-{name.replace('.', '-')}-error").all_text()


INDICATOR_ROWS = (
    _row(1, code="so_vu", label="Số vụ kiểm tra", kind="number", unit="vụ", required="1", integer="1", min="0")
    | _row(2, code="ty_le", label="Tỷ lệ phát hiện vi phạm", kind="percent", max="50,5")
    | _row(4, code="danh_sach", label="Danh sách doanh nghiệp", kind="table", max_rows="100")
    | _row(5, code="ten_dn", label="Tên doanh nghiệp", kind="text", table="danh_sach", required="1")
    | _row(6, code="so_tien", label="Số tiền truy thu", kind="number", unit="đồng", table="danh_sach")
)


def test_the_sector_hr_is_offered_the_form_with_the_units_it_may_issue_at_and_a_local_admin_none(page: Page) -> None:
    reports = parsed(page.client.get("/web/reports").text)
    assert reports.one("a", id="issue-regime").attrs["href"] == "http://gateway.test/web/reports/new"
    html = parsed(page.client.get("/web/reports/new").text)
    issuers = [o.all_text() for o in html.one("select", id="f-issuer_unit_id").find_all("option")]
    assert issuers == [
        "— Chọn —",
        "Tổng cục Hải quan (TCHQ)",
        "— Cục Hải quan TP Hồ Chí Minh (HQHCM)",
        "— Cục Hải quan TP Hà Nội (HQHN)",
        "— — Đội Kiểm soát (DOI1)",
    ], "in tree order, the dissolved Cục left out"
    levels = [label.all_text().strip() for label in html.one("fieldset", id="f-unit_levels").find_all("label")]
    assert levels == ["Cấp 1 (gốc)", "Cấp 2", "Cấp 3"]
    assert len(html.one("table", id="indicator-rows").one("tbody").find_all("tr")) == 6
    page.verifier.roles = frozenset({"local-admin"})
    assert parsed(page.client.get("/web/reports").text).find_all("a", id="issue-regime") == []
    assert page.client.get("/web/reports/new").status_code == 403
    assert _issue(page, REGIME_FIELDS | INDICATOR_ROWS).status_code == 403
    assert page.regimes.created == []


def test_a_regime_is_sent_with_its_tables_columns_nested_and_blank_rows_left_out(page: Page) -> None:
    boxes = {"unit_kinds.sub_unit": "1", "unit_kinds.provincial_department": "1", "unit_levels.3": "1"}
    response = _issue(page, REGIME_FIELDS | boxes | INDICATOR_ROWS)
    assert response.status_code == 303, response.text
    target = urlsplit(response.headers["location"])
    assert (target.path, parse_qs(target.query)) == ("/web/reports/r9", {"saved": ["issued"]})
    (sent,) = page.regimes.created
    assert (sent.code, sent.kind, sent.frequency, sent.issuer_unit_id) == ("BC-KT", "periodic", "quarter", "hn")
    assert (sent.cutoff_day, sent.deadline_days, sent.deadline_counting, sent.reminder_days) == (
        0,
        10,
        "working_days",
        3,
    )
    assert (list(sent.unit_kinds), list(sent.unit_levels)) == (["provincial_department", "sub_unit"], [3])
    assert sent.outline == "I. Kết quả\nII. Kiến nghị"
    assert [(i.code, i.kind, i.required, i.integer) for i in sent.indicators] == [
        ("so_vu", "number", True, True),
        ("ty_le", "percent", False, False),
        ("danh_sach", "table", False, False),
    ], "row 3 was left blank"
    assert (sent.indicators[0].unit, sent.indicators[0].min, sent.indicators[0].HasField("max")) == ("vụ", 0, False)
    assert sent.indicators[1].max == 50.5, "typed with a decimal comma"
    assert sent.indicators[2].max_rows == 100
    assert [(c.code, c.kind, c.unit, c.required) for c in sent.indicators[2].columns] == [
        ("ten_dn", "text", "", True),
        ("so_tien", "number", "đồng", False),
    ]
    notice = parsed(page.client.get(f"{target.path}?{target.query}").text).one("p", id="saved")
    assert notice.all_text() == "Đã ban hành chế độ báo cáo."


def test_what_is_typed_wrong_is_said_by_its_row_and_input_and_nothing_is_sent(page: Page) -> None:
    wrong = REGIME_FIELDS | {"name": "", "deadline_days": "400", "issuer_unit_id": "cu"}
    rows = (
        _row(1, label="Số vụ", kind="number")
        | _row(2, code="ty_le", label="Tỷ lệ", kind="percent", min="mười")
        | _row(3, code="ten", label="Tên", kind="text", table="bang_khong_co")
        | _row(4, code="so", label="Số", kind="number", max_length="abc")
    )
    response = _issue(page, wrong | rows)
    assert response.status_code == 422
    html = parsed(response.text)
    assert _error(html, "name") == "Bắt buộc nhập"
    assert _error(html, "deadline_days") == "Phải từ 0 đến 366"
    assert _error(html, "issuer_unit_id") == "Không có trong danh mục", "a dissolved unit is not offered"
    assert _error(html, "ind.1.code") == "Bắt buộc nhập"
    assert _error(html, "ind.2.min") == "Phải là một số, ví dụ 4,98"
    assert _error(html, "ind.4.max_length") == "Phải là một số nguyên"
    assert html.one("input", id="f-ind-2-min").attrs["value"] == "mười", "what was typed is kept"
    summary = [item.all_text() for item in html.one("div", id="faults").find_all("li")]
    assert "Dòng 2, Nhỏ nhất: Phải là một số, ví dụ 4,98" in summary
    assert page.regimes.created == []
    columns_only = _issue(page, REGIME_FIELDS | _row(1, code="ten", label="Tên", kind="text", table="bang_khong_co"))
    assert _error(parsed(columns_only.text), "ind.1.table") == "Không có chỉ tiêu kiểu Bảng mã bang_khong_co"
    nothing = _issue(page, REGIME_FIELDS)
    assert nothing.status_code == 422
    assert _error(parsed(nothing.text), "ind.1.code") == "Mẫu báo cáo cần ít nhất một chỉ tiêu"
    bad_code = _issue(page, REGIME_FIELDS | {"code": "bc kt"} | INDICATOR_ROWS)
    assert _error(parsed(bad_code.text), "code") == "Không đúng dạng quy định"
    assert page.regimes.created == []


def test_reports_refusals_are_put_beside_the_row_and_box_they_name(page: Page) -> None:
    page.regimes.refusal = invalid_argument(
        ("indicators[2].columns[1].kind", "Kiểu chỉ tiêu phải là một trong ['number', 'percent', 'text']"),
        ("indicators[1].max", "Tỷ lệ phần trăm từ 0 đến 100"),
        ("unit_levels[0]", "Cấp đơn vị từ 1 (gốc) đến 10"),
        ("frequency", "Báo cáo định kỳ: tần suất là một trong [...]"),
    )
    response = _issue(page, REGIME_FIELDS | {"unit_levels.2": "1"} | INDICATOR_ROWS)
    assert response.status_code == 422
    html = parsed(response.text)
    assert _error(html, "ind.6.kind").startswith("Kiểu chỉ tiêu phải là một trong"), "the second column: row 6"
    assert _error(html, "ind.2.max") == "Tỷ lệ phần trăm từ 0 đến 100"
    assert html.one("p", id="f-unit_levels-error").all_text() == "Cấp đơn vị từ 1 (gốc) đến 10"
    assert html.one("fieldset", id="f-unit_levels").one("input", name="unit_levels.2").attrs.get("checked") == ""
    assert _error(html, "frequency") == "Báo cáo định kỳ: tần suất là một trong [...]"
    page.regimes.refusal = rpc_error(grpc.StatusCode.ALREADY_EXISTS, "Mã chế độ báo cáo BC-KT đã có")
    taken = _issue(page, REGIME_FIELDS | INDICATOR_ROWS)
    assert taken.status_code == 409
    assert _error(parsed(taken.text), "code") == "Mã chế độ báo cáo BC-KT đã có"
    page.regimes.refusal = rpc_error(grpc.StatusCode.PERMISSION_DENIED, "no")
    assert _issue(page, REGIME_FIELDS | INDICATOR_ROWS).status_code == 403


def test_more_rows_keep_what_was_typed_and_send_nothing(page: Page) -> None:
    response = _issue(page, REGIME_FIELDS | INDICATOR_ROWS | {"name": "", "then": "more"})
    assert response.status_code == 200
    html = parsed(response.text)
    assert len(html.one("table", id="indicator-rows").one("tbody").find_all("tr")) == 12
    assert html.one("input", id="f-ind-5-table").attrs["value"] == "danh_sach"
    assert html.one("input", id="f-ind-1-required").attrs.get("checked") == ""
    assert html.one("input", id="f-code").attrs["value"] == "BC-KT"
    assert html.find_all("div", id="faults") == [], "faults are said when the form is sent"
    assert html.one("input", name="rows").attrs["value"] == "12"
    assert page.regimes.created == []


def test_a_new_version_starts_from_the_current_template_and_is_sent_whole(page: Page) -> None:
    regime = parsed(page.client.get("/web/reports/r1").text)
    assert regime.one("a", id="new-version").attrs["href"] == "http://gateway.test/web/reports/r1/versions/new"
    html = parsed(page.client.get("/web/reports/r1/versions/new").text)
    codes = [html.one("input", id=f"f-ind-{n}-code").attrs.get("value", "") for n in range(1, 8)]
    assert codes == ["so_bien_che", "ty_le_nu", "ghi_chu", "danh_sach", "ho_ten", "so_nam", ""]
    assert html.one("input", id="f-ind-5-table").attrs["value"] == "danh_sach"
    assert html.one("input", id="f-ind-3-max_length").attrs["value"] == "200"
    assert html.one("textarea", id="f-outline").all_text() == "I. Số lượng"
    form = _as_sent(html.one("form", id="regime-form"))
    assert (form["ind.1.required"], form["ind.1.integer"], form["ind.6.integer"]) == ("1", "1", "1")
    assert (form["ind.4.kind"], form["ind.5.kind"], form["ind.6.kind"]) == ("table", "text", "number")
    form |= _row(10, code="so_nghi_huu", label="Số người nghỉ hưu", kind="number", integer="1")
    response = page.client.post("/web/reports/r1/versions/new", data=form)
    assert response.status_code == 303, response.text
    assert parse_qs(urlsplit(response.headers["location"]).query) == {"saved": ["version-2"]}
    (sent,) = page.regimes.versions
    assert [i.code for i in sent.indicators] == ["so_bien_che", "ty_le_nu", "ghi_chu", "danh_sach", "so_nghi_huu"]
    assert [c.code for c in sent.indicators[3].columns] == ["ho_ten", "so_nam"]
    assert (sent.indicators[3].max_rows, sent.indicators[2].max_length) == (5, 200)
    notice = parsed(page.client.get(response.headers["location"]).text).one("p", id="saved")
    assert notice.all_text() == "Đã lưu phiên bản mẫu 2; các kỳ mở từ nay dùng phiên bản này."
    page.verifier.roles = frozenset({"local-admin"})
    assert parsed(page.client.get("/web/reports/r1").text).find_all("a", id="new-version") == []
    assert page.client.get("/web/reports/r1/versions/new").status_code == 403


def test_a_form_without_the_sessions_token_is_refused_and_nothing_issued(page: Page) -> None:
    assert _issue(page, REGIME_FIELDS | INDICATOR_ROWS, csrf="forged").status_code == 403
    assert page.regimes.created == []


def test_once_the_session_has_ended_the_form_shows_nothing_and_its_post_issues_nothing(page: Page) -> None:
    """The account was disabled: its token still verifies for minutes, Keycloak no longer serves it."""
    page.keycloak.down = True
    assert page.client.get("/web/reports/new").status_code == 503, "Keycloak not answering: said so"
    page.keycloak.down, page.keycloak.ended = False, True
    session = dict(page.client.cookies)
    shown = page.client.get("/web/reports/new")
    assert shown.status_code == 303, "the login instead of the form, though its reads were made beside the check"
    assert urlsplit(shown.headers["location"]).path == "/web/login"
    assert "Ban hành" not in shown.text
    assert dict(page.client.cookies) == {}, "the ended session's cookies cleared"
    page.client.cookies = session  # the same session posts the form from a page left open
    sent = _issue(page, REGIME_FIELDS | INDICATOR_ROWS)
    assert sent.status_code == 303
    assert urlsplit(sent.headers["location"]).path == "/web/login"
    assert page.regimes.created == [], "a post waits for Keycloak's answer before anything is sent"


def test_a_template_of_many_long_rows_is_taken_beyond_other_forms_limit(page: Page) -> None:
    label = "Số cán bộ, công chức được đánh giá hoàn thành xuất sắc nhiệm vụ trong năm " * 5
    rows: dict[str, str] = {"rows": "80"}
    for n in range(1, 81):
        rows |= _row(n, code=f"chi_tieu_{n}", label=label.strip()[:400], kind="number", unit="người")
    form = REGIME_FIELDS | rows
    assert len(urlencode(form)) > 64 * 1024, "more than a record's entry form may send"
    assert _issue(page, form).status_code == 303
    (sent,) = page.regimes.created
    assert len(sent.indicators) == 80
    too_large = form | {"outline": "Đề cương " * 60_000}
    assert _issue(page, too_large).status_code == 413
