"""The report pages against stand-ins for reports and personnel: the regimes with their periods; a
period's reports in tree order with their state, what is late, and the completeness figures; one
report's values as a form (a table as rows of cells with blank rows to add), what is typed wrong said
next to its input with nothing sent, the values sent typed at the version the page showed, a refusal
by reports placed on the cell it names (counted among the rows saved), saving then sending; the
steps of the level above with their reason; and what each side is offered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from html_tree import Node, parsed
from web_stand_ins import (
    INDICATORS,
    PERIOD,
    REGIME,
    REPORT_UNITS,
    SESSION,
    ReportUnits,
    Verifier,
    invalid_argument,
    rpc_error,
    stand_in_pages,
)

from qlcb.personnel.v1 import personnel_pb2
from qlcb.reports.v1 import regimes_pb2, workflow_pb2


def _assignment(
    assignment_id: str, unit_id: str, state: str, version: int, values: dict[str, Any], approver: str
) -> workflow_pb2.Assignment:
    return workflow_pb2.Assignment(
        id=assignment_id,
        period_id="p1",
        regime_id="r1",
        period_key="2026-11",
        unit_id=unit_id,
        unit_name={"hn": "Cục Hải quan Hà Nội", "doi": "Đội kiểm soát", "to": "Tổ báo cáo"}[unit_id],
        unit_path=REPORT_UNITS[unit_id],
        approver_unit_id=approver,
        state=state,
        deadline="2026-11-20",
        template_version=1,
        values_json=json.dumps(values),
        version=version,
        first_submitted_at="2026-11-25T03:00:00+00:00" if state in ("submitted", "approved") else "",
        submitted_at="2026-11-25T03:00:00+00:00" if state in ("submitted", "approved") else "",
    )


class Regimes:
    async def ListRegimes(self, request: Any, **options: Any) -> regimes_pb2.ListRegimesResponse:
        return regimes_pb2.ListRegimesResponse(regimes=[REGIME])

    async def GetRegime(self, request: Any, **options: Any) -> regimes_pb2.GetRegimeResponse:
        if request.regime_id != "r1":
            raise rpc_error(grpc.StatusCode.NOT_FOUND, "no regime")
        return regimes_pb2.GetRegimeResponse(regime=REGIME)


@dataclass
class Reports:
    """The reports service: three assignments of one period, their steps taken as asked."""

    assignments: dict[str, workflow_pb2.Assignment] = field(
        default_factory=lambda: {
            "a-hn": _assignment("a-hn", "hn", "draft", 1, {}, "hn"),
            "a-doi": _assignment(
                "a-doi", "doi", "draft", 3, {"so_bien_che": 40, "ty_le_nu": 42.5, "danh_sach": [{"ho_ten": "An"}]}, "hn"
            ),
            "a-to": _assignment("a-to", "to", "submitted", 2, {"so_bien_che": 7}, "doi"),
        }
    )
    saved: list[workflow_pb2.SaveDraftRequest] = field(default_factory=list)
    steps: list[workflow_pb2.TransitionSubmissionRequest] = field(default_factory=list)
    refusal: grpc.aio.AioRpcError | None = None
    completeness_refused: bool = False
    waiting_asked: list[workflow_pb2.ListWaitingRequest] = field(default_factory=list)
    handed: list[Any] = field(default_factory=list)

    async def ListPeriods(self, request: Any, **options: Any) -> workflow_pb2.ListPeriodsResponse:
        return workflow_pb2.ListPeriodsResponse(periods=[PERIOD])

    async def ListAssignments(self, request: Any, **options: Any) -> workflow_pb2.ListAssignmentsResponse:
        return workflow_pb2.ListAssignmentsResponse(period=PERIOD, assignments=list(self.assignments.values()))

    async def GetCompleteness(self, request: Any, **options: Any) -> workflow_pb2.GetCompletenessResponse:
        if self.completeness_refused:
            raise rpc_error(grpc.StatusCode.PERMISSION_DENIED, "no")
        total = workflow_pb2.Completeness(
            expected=3, submitted=1, on_time=0, approved=0, submitted_rate=1 / 3, on_time_rate=0, approved_rate=0
        )
        overdue = [self.assignments["a-hn"], self.assignments["a-doi"]]
        return workflow_pb2.GetCompletenessResponse(period=PERIOD, unit_id="hn", total=total, overdue=overdue)

    async def GetAssignment(self, request: Any, **options: Any) -> workflow_pb2.GetAssignmentResponse:
        found = self.assignments.get(request.assignment_id)
        if found is None:
            raise rpc_error(grpc.StatusCode.NOT_FOUND, "no report")
        transitions = [
            workflow_pb2.Transition(
                action="saved",
                from_state="not_started",
                to_state="draft",
                account="nhansu1.hanoi",
                occurred_at="2026-11-18T17:30:00+00:00",
                version=2,
            )
        ]
        return workflow_pb2.GetAssignmentResponse(assignment=found, transitions=transitions)

    def _check(self, assignment_id: str, expected: int) -> workflow_pb2.Assignment:
        if self.refusal is not None:
            raise self.refusal
        found = self.assignments[assignment_id]
        if expected != found.version:
            raise rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "Báo cáo đã thay đổi từ khi đọc: hãy đọc lại")
        return found

    async def SaveDraft(self, request: Any, **options: Any) -> workflow_pb2.SaveDraftResponse:
        found = self._check(request.assignment_id, request.expected_version)
        self.saved.append(request)
        found.values_json, found.version = request.values_json, found.version + 1
        return workflow_pb2.SaveDraftResponse(assignment=found)

    async def ListWaiting(self, request: Any, **options: Any) -> workflow_pb2.ListWaitingResponse:
        self.waiting_asked.append(request)
        return workflow_pb2.ListWaitingResponse(
            to_send=[self.assignments["a-doi"]],
            to_send_total=4,
            to_approve=[self.assignments["a-to"]],
            to_approve_total=1,
        )

    async def SubAssign(self, request: Any, **options: Any) -> workflow_pb2.SubAssignResponse:
        if self.refusal is not None:
            raise self.refusal
        self.handed.append(request)
        return workflow_pb2.SubAssignResponse()

    async def Consolidate(self, request: Any, **options: Any) -> workflow_pb2.ConsolidateResponse:
        if self.refusal is not None:
            raise self.refusal
        self.handed.append(request)
        return workflow_pb2.ConsolidateResponse(assignment=self.assignments[request.assignment_id])

    async def GrantLockException(self, request: Any, **options: Any) -> workflow_pb2.GrantLockExceptionResponse:
        if self.refusal is not None:
            raise self.refusal
        self.handed.append(request)
        return workflow_pb2.GrantLockExceptionResponse(assignment=self.assignments[request.assignment_id])

    async def TransitionSubmission(self, request: Any, **options: Any) -> workflow_pb2.TransitionSubmissionResponse:
        found = self._check(request.assignment_id, request.expected_version)
        self.steps.append(request)
        found.version += 1
        transition = workflow_pb2.Transition(action=request.action, occurred_at="2026-11-19T01:00:00+00:00")
        return workflow_pb2.TransitionSubmissionResponse(assignment=found, transition=transition)


@dataclass
class Page:
    client: TestClient
    reports: Reports
    verifier: Verifier
    personnel: ReportUnits


@pytest.fixture
def page() -> Iterator[Page]:
    reports, verifier, personnel = Reports(), Verifier(), ReportUnits()
    backends = {"report_regimes": Regimes(), "report_assignments": reports, "report_submissions": reports}
    with stand_in_pages(verifier, personnel=personnel, **backends) as client:
        yield Page(client, reports, verifier, personnel)


def _post(page: Page, path: str, form: dict[str, str], *, csrf: str = SESSION.csrf_token) -> Any:
    return page.client.post(f"/web/report-assignments/{path}", data={"csrf_token": csrf} | form)


def _value_of(html: Node, name: str) -> str:
    return html.one("input", name=name).attrs.get("value", "")


def _error_of(html: Node, name: str) -> str:
    control = html.one(name=name)
    if control.attrs.get("aria-invalid") != "true":
        return ""
    return html.one(id=control.attrs["aria-describedby"]).all_text()


def test_the_regimes_are_listed_with_their_periods_and_the_navigation_offers_them(page: Page) -> None:
    response = page.client.get("/web/reports")
    assert response.status_code == 200
    html = parsed(response.text)
    regime = html.one("section", id="regime-r1")
    assert "Báo cáo số lượng cán bộ" in regime.all_text()
    assert "Định kỳ, hằng tháng · Quyết định 239/QĐ-UBND" in regime.all_text()
    row = regime.one("tr", id="period-p1")
    assert row.one("a").attrs["href"].endswith("/web/report-periods/p1")
    assert [cell.all_text() for cell in row.find_all("td")] == ["2026-11", "01/11/2026", "30/11/2026", "07/12/2026"]
    assert [a.all_text() for a in html.one("nav").find_all("a")] == [
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


def rates_widths(html: Node) -> list[str]:
    return [r.attrs["width"] for r in html.one("figure", id="rates-chart").find_all("rect") if "class" not in r.attrs]


def test_a_period_lists_its_reports_in_tree_order_with_their_state_and_how_complete_they_are(page: Page) -> None:
    response = page.client.get("/web/report-periods/p1")
    assert response.status_code == 200
    html = parsed(response.text)
    rows = html.one("table", class_="tree reports").find_all("tr")[1:]
    assert [row.attrs["id"] for row in rows] == ["assignment-a-hn", "assignment-a-doi", "assignment-a-to"]
    assert [row.find_all("td")[0].attrs["class"] for row in rows] == ["depth-0", "depth-1", "depth-2"]
    assert [row.find_all("td")[1].all_text() for row in rows] == ["Đang soạn", "Đang soạn", "Đã gửi, chờ duyệt"]
    # Due on 20/11: those not sent are late, and the one first sent on 25/11 was too.
    assert all("quá hạn" in row.find_all("td")[2].all_text() for row in rows)
    assert rows[2].find_all("td")[3].all_text() == "25/11/2026"
    assert html.one("dd", id="submitted").all_text() == "1 (33,3%)"
    assert html.one("dd", id="on-time").all_text() == "0 (0%)"
    overdue = [a.all_text() for a in html.one("ul", id="overdue").find_all("a")]
    assert overdue == ["Cục Hải quan Hà Nội", "Đội kiểm soát"]
    states = html.one("figure", id="states-chart")
    assert states.one("title").all_text() == (
        "Số báo cáo theo tình trạng: Chưa gửi 0; Đang soạn 2; Đã gửi, chờ duyệt 1; Bị trả lại 0; Đã duyệt 0; Quá hạn 3"
    )
    widths = [rect.attrs["width"] for rect in states.find_all("rect")]
    assert rates_widths(html) == ["138.6", "0.0", "0.0"], "33,3% of the scale"
    assert widths == ["0.0", "280.0", "140.0", "0.0", "0.0", "420.0"], "each against the largest, the 3 late"
    rates_chart = html.one("figure", id="rates-chart")
    assert [r.attrs["width"] for r in rates_chart.find_all("rect", **{"class": "track"})] == ["420"] * 3, "out of 100%"
    rates = rates_chart.one("title").all_text()
    assert rates == "Tỷ lệ trên số báo cáo được giao: Đã gửi 33,3%; Gửi đúng hạn 0%; Đã duyệt 0%"

    page.reports.completeness_refused = True
    refused = page.client.get("/web/report-periods/p1")
    assert refused.status_code == 200
    assert parsed(refused.text).find_all("section", id="completeness") == []
    assert parsed(refused.text).find_all("figure", id="states-chart") != [], "the states of those listed still"


def test_a_draft_is_a_form_of_its_indicators_with_a_tables_rows_and_blank_ones_to_add(page: Page) -> None:
    response = page.client.get("/web/report-assignments/a-doi")
    assert response.status_code == 200
    html = parsed(response.text)
    form = html.one("form", class_="entry report")
    assert form.one("input", name="version").attrs["value"] == "3"
    assert _value_of(form, "values.so_bien_che") == "40"
    assert _value_of(form, "values.ty_le_nu") == "42,5"
    assert form.one("label", for_="f-values-so_bien_che").all_text() == "Số biên chế (người) *"
    cells = [control.attrs["name"] for control in form.one("fieldset").find_all("input")]
    assert cells == [f"values.danh_sach[{row}].{column}" for row in (1, 2, 3) for column in ("ho_ten", "so_nam")]
    assert _value_of(form, "values.danh_sach[1].ho_ten") == "An"
    label = form.one("label", for_="f-values-danh_sach[2]-so_nam").all_text()
    assert label == "Danh sách nghỉ hưu, dòng 2: Số năm công tác"
    # The log shows the moment in Vietnam's time (17:30 UTC is half past midnight the next day).
    assert "19/11/2026 00:30" in html.one("section", id="log").all_text()


def test_a_value_typed_wrong_is_said_next_to_its_input_and_nothing_is_saved(page: Page) -> None:
    form = {"version": "3", "values.so_bien_che": "bốn mươi", "values.danh_sach[2].so_nam": "12,5,1"}
    response = _post(page, "a-doi/values", form | {"then": "save"})
    assert response.status_code == 422
    html = parsed(response.text)
    assert _error_of(html, "values.so_bien_che") == "Phải là một số, ví dụ 12 hoặc 4,5"
    assert _error_of(html, "values.danh_sach[2].so_nam") == "Phải là một số, ví dụ 12 hoặc 4,5"
    assert _value_of(html, "values.so_bien_che") == "bốn mươi", "what was typed stays in the form"
    assert page.reports.saved == []


def test_the_values_are_saved_typed_at_the_version_shown_and_a_blank_row_is_left_out(page: Page) -> None:
    form = {
        "version": "3",
        "values.so_bien_che": "41",
        "values.ty_le_nu": "43,75",
        "values.ghi_chu": "  Đủ biên chế ",
        "values.danh_sach[1].ho_ten": "",
        "values.danh_sach[1].so_nam": "",
        "values.danh_sach[2].ho_ten": "Trần Văn Bình",
        "values.danh_sach[2].so_nam": "31",
        "then": "save",
    }
    response = _post(page, "a-doi/values", form)
    assert response.status_code == 303
    assert response.headers["location"].endswith("/web/report-assignments/a-doi?saved=1")
    [saved] = page.reports.saved
    assert saved.expected_version == 3
    assert json.loads(saved.values_json) == {
        "so_bien_che": 41,
        "ty_le_nu": 43.75,
        "ghi_chu": "Đủ biên chế",
        "danh_sach": [{"ho_ten": "Trần Văn Bình", "so_nam": 31}],
    }
    assert page.reports.steps == []
    shown = parsed(page.client.get(response.headers["location"]).text)
    assert shown.one(id="saved").all_text() == "Đã lưu số liệu."


def test_a_refusal_by_reports_lands_on_the_cell_it_names_counted_among_the_rows_saved(page: Page) -> None:
    page.reports.refusal = invalid_argument(
        ("values.danh_sach[1].so_nam", "Không được lớn hơn 60"),
        ("values.so_bien_che", "Bắt buộc khi gửi báo cáo"),
        ("values.danh_sach", "Nhiều nhất 5 dòng"),
    )
    form = {"version": "3", "values.danh_sach[2].ho_ten": "Bình", "values.danh_sach[2].so_nam": "61"}
    response = _post(page, "a-doi/values", form | {"then": "submit"})
    assert response.status_code == 422
    html = parsed(response.text)
    assert _error_of(html, "values.danh_sach[2].so_nam") == "Không được lớn hơn 60"
    assert _error_of(html, "values.danh_sach[1].so_nam") == ""
    assert _error_of(html, "values.so_bien_che") == "Bắt buộc khi gửi báo cáo"
    table = html.one("fieldset", id="f-values-danh_sach")
    assert "invalid" in table.attrs["class"]
    assert "Nhiều nhất 5 dòng" in table.all_text()
    summary = html.one(id="faults")
    assert [a.attrs["href"] for a in summary.find_all("a")] == [
        "#f-values-so_bien_che",
        "#f-values-danh_sach[2]-so_nam",
        "#f-values-danh_sach",
    ]
    assert page.reports.saved == []


def test_save_and_send_sends_the_saved_version_and_a_changed_report_is_said_with_the_typed_values_kept(
    page: Page,
) -> None:
    response = _post(page, "a-doi/values", {"version": "3", "values.so_bien_che": "41", "then": "submit"})
    assert response.status_code == 303
    assert response.headers["location"].endswith("/web/report-assignments/a-doi?sent=1")
    [step] = page.reports.steps
    assert (step.action, step.expected_version) == ("submit", 4)

    again = _post(page, "a-doi/values", {"version": "3", "values.so_bien_che": "42", "then": "submit"})
    assert again.status_code == 409
    html = parsed(again.text)
    assert "Báo cáo đã thay đổi từ khi đọc" in html.one(id="faults").all_text()
    assert _value_of(html, "values.so_bien_che") == "42"
    assert html.one("input", name="version").attrs["value"] == "5", "the form now holds the current version"
    assert len(page.reports.saved) == 1


def test_the_level_above_returns_with_a_reason_and_approves_and_only_with_the_sessions_token(page: Page) -> None:
    shown = parsed(page.client.get("/web/report-assignments/a-to").text)
    assert shown.find_all("form", class_="entry report") == [], "a report sent is not edited"
    assert "7" in shown.one("dl", id="report-values").all_text()
    actions = [form.attrs["action"].rsplit("/", 1)[1] for form in shown.one("section", id="steps").find_all("form")]
    assert actions == ["recall", "approve", "return"]

    missing = _post(page, "a-to/return", {"version": "2", "reason": "  "})
    assert missing.status_code == 422
    assert _error_of(parsed(missing.text), "reason") == "Cần ghi lý do trả lại"
    forged = _post(page, "a-to/approve", {"version": "2"}, csrf="not-the-token")
    assert forged.status_code == 403
    assert _post(page, "a-to/publish", {"version": "2"}).status_code == 404
    assert _post(page, "a-to/approve", {"version": "0"}).status_code == 400
    assert page.reports.steps == []

    returned = _post(page, "a-to/return", {"version": "2", "reason": "Thiếu danh sách"})
    assert returned.status_code == 303
    [step] = page.reports.steps
    assert (step.action, step.reason, step.expected_version) == ("return", "Thiếu danh sách", 2)


def test_an_approval_refused_to_one_who_prepared_the_figures_is_said_on_the_reports_page(page: Page) -> None:
    said = "Người đã lập hoặc gửi số liệu của báo cáo này bằng một tài khoản khác không tự duyệt số liệu mình lập"
    page.reports.refusal = rpc_error(grpc.StatusCode.PERMISSION_DENIED, said)
    refused = _post(page, "a-to/approve", {"version": "2"})
    assert refused.status_code == 403
    assert said in parsed(refused.text).one(id="faults").all_text()
    assert "7" in parsed(refused.text).one("dl", id="report-values").all_text(), "the report as it stands"


def test_a_unit_is_not_offered_to_decide_its_own_report_nor_a_viewer_any_form(page: Page) -> None:
    page.reports.assignments["a-hn"] = _assignment("a-hn", "hn", "submitted", 4, {}, "hn")
    own = parsed(page.client.get("/web/report-assignments/a-hn").text)
    actions = [form.attrs["action"].rsplit("/", 1)[1] for form in own.one("section", id="steps").find_all("form")]
    assert actions == ["recall"], "the caller's own unit's report is approved by the level above"

    page.verifier.roles = frozenset({"sector-viewer"})
    viewer = parsed(page.client.get("/web/report-assignments/a-doi").text)
    assert viewer.find_all("form", class_="entry report") == []
    assert viewer.find_all("section", id="steps") == []
    assert "42,5%" in viewer.one("dl", id="report-values").all_text()


def test_the_reports_waiting_for_the_caller_are_listed_and_a_tier_without_them_is_not_asked(page: Page) -> None:
    response = page.client.get("/web/report-waiting")
    assert response.status_code == 200
    html = parsed(response.text)
    assert page.reports.waiting_asked[-1].limit == 200
    to_send = html.one("section", id="to-send")
    assert to_send.one("h2").all_text() == "Phải gửi (4)"
    cells = [td.all_text() for td in to_send.one("tr", id="waiting-a-doi").find_all("td")]
    assert cells == ["Báo cáo số lượng cán bộ", "2026-11", "Đội kiểm soát", "Đang soạn", "20/11/2026 quá hạn"]
    assert "Hiện 1 báo cáo có hạn sớm nhất." in to_send.all_text()
    to_approve = html.one("section", id="to-approve")
    assert to_approve.one("h2").all_text() == "Chờ duyệt (1)"
    assert [td.all_text() for td in to_approve.one("tr", id="waiting-a-to").find_all("td")][2:] == [
        "Tổ báo cáo",
        "Đã gửi, chờ duyệt",
        "25/11/2026",
    ]

    page.verifier.roles = frozenset({"self"})
    home = parsed(page.client.get("/web/").text)
    assert home.find_all("a", id="reports-to-send") == []
    assert len(page.reports.waiting_asked) == 1, "a tier that neither sends nor approves reports is not asked"


def test_a_form_refused_again_and_again_keeps_two_blank_rows_after_the_last_filled_one(page: Page) -> None:
    form = {"version": "3", "values.so_bien_che": "x", "values.danh_sach[1].ho_ten": "An"}
    form |= {f"values.danh_sach[{row}].{column}": "" for row in (2, 3) for column in ("ho_ten", "so_nam")}
    response = _post(page, "a-doi/values", form | {"then": "save"})
    assert response.status_code == 422
    rows = parsed(response.text).one("fieldset", id="f-values-danh_sach").find_all("tr")[1:]
    assert len(rows) == 3, "the filled row and two blank ones, not the three sent and two more"


@pytest.mark.parametrize(
    ("first_sent", "late"),
    [("2026-11-20T16:59:00+00:00", False), ("2026-11-20T17:00:00+00:00", True)],
    ids=["23:59 in Vietnam on the deadline", "midnight after it in Vietnam"],
)
def test_a_report_is_late_when_first_sent_after_its_deadline_in_vietnam(
    page: Page, first_sent: str, late: bool
) -> None:
    page.reports.assignments["a-to"].first_submitted_at = first_sent
    html = parsed(page.client.get("/web/report-periods/p1").text)
    deadline = html.one("tr", id="assignment-a-to").find_all("td")[2].all_text()
    assert deadline == ("20/11/2026 quá hạn" if late else "20/11/2026")


def _below_doi(page: Page) -> None:
    """The team below Đội kiểm soát that was handed the report, and one that was not."""
    page.reports.assignments["a-to"].parent_assignment_id = "a-doi"
    kind = personnel_pb2.UNIT_KIND_SUB_UNIT
    page.personnel.units = [
        personnel_pb2.Unit(id="doi", code="DOI", name="Đội kiểm soát", path=REPORT_UNITS["doi"], kind=kind),
        personnel_pb2.Unit(id="to", code="TO", name="Tổ báo cáo", path=REPORT_UNITS["to"], kind=kind),
        personnel_pb2.Unit(id="ca", code="CA", name="Tổ ca trực", path="/TCHQ/HQHN/DOI/CA", kind=kind),
        personnel_pb2.Unit(id="xa", code="XA", name="Đội khác", path="/TCHQ/HQHN/XA", kind=kind),
    ]


def test_a_report_lists_the_reports_handed_down_and_hands_part_of_it_to_units_below(page: Page) -> None:
    _below_doi(page)
    html = parsed(page.client.get("/web/report-assignments/a-doi").text)
    children = html.one("section", id="children")
    assert [td.all_text() for td in children.one("tr", id="child-a-to").find_all("td")] == [
        "Tổ báo cáo",
        "Đã gửi, chờ duyệt",
        "20/11/2026",
    ]
    offered = [box.attrs["name"] for box in children.one("fieldset", id="f-units").find_all("input")]
    assert offered == ["unit.ca"], "only units below not handed it yet"
    indicators = [box.attrs["name"] for box in children.one("fieldset", id="f-indicators").find_all("input")]
    assert indicators == [f"indicator.{spec.code}" for spec in INDICATORS]

    form = {"unit.ca": "1", "indicator.so_bien_che": "1", "deadline": "18/11/2026"}
    handed = _post(page, "a-doi/sub-assignments", form)
    assert handed.status_code == 303
    (sent,) = page.reports.handed
    assert (list(sent.unit_ids), list(sent.indicator_codes), sent.deadline) == (["ca"], ["so_bien_che"], "2026-11-18")
    assert parsed(page.client.get(handed.headers["location"]).text).one(id="handed").all_text() == (
        "Đã giao báo cáo cho các đơn vị cấp dưới."
    )


def test_a_hand_down_without_a_unit_or_with_a_bad_day_is_said_and_reports_is_not_asked(page: Page) -> None:
    _below_doi(page)
    none = _post(page, "a-doi/sub-assignments", {"indicator.so_bien_che": "1"})
    assert none.status_code == 422
    assert parsed(none.text).one(id="f-units-error").all_text() == "Chọn ít nhất một đơn vị"
    bad_day = _post(page, "a-doi/sub-assignments", {"unit.ca": "1", "deadline": "31/11/2026"})
    assert bad_day.status_code == 422
    assert parsed(bad_day.text).one(id="f-deadline-error").all_text() == "Không phải một ngày (ngày/tháng/năm)"
    assert page.reports.handed == []
    page.reports.refusal = invalid_argument(("deadline", "Muộn hơn hạn của đơn vị (20/11/2026)"))
    late = _post(page, "a-doi/sub-assignments", {"unit.ca": "1", "deadline": "30/11/2026"})
    assert late.status_code == 422
    assert parsed(late.text).one(id="f-deadline-error").all_text() == "Muộn hơn hạn của đơn vị (20/11/2026)"


def test_the_approved_reports_below_are_consolidated_and_a_refusal_is_said(page: Page) -> None:
    _below_doi(page)
    done = _post(page, "a-doi/consolidate", {})
    assert done.status_code == 303
    assert page.reports.handed[-1].assignment_id == "a-doi"
    page.reports.refusal = rpc_error(
        grpc.StatusCode.FAILED_PRECONDITION, "Chưa có báo cáo nào của đơn vị cấp dưới được duyệt để tổng hợp"
    )
    refused = _post(page, "a-doi/consolidate", {})
    assert refused.status_code == 409
    assert "Chưa có báo cáo nào của đơn vị cấp dưới được duyệt" in parsed(refused.text).one(id="faults").all_text()


def test_the_regimes_issuer_unlocks_a_late_report_with_its_reason_and_no_one_else_is_offered_it(page: Page) -> None:
    page.reports.assignments["a-doi"].locked = True
    assert parsed(page.client.get("/web/report-assignments/a-doi").text).find_all("section", id="unlock") == []
    page.verifier.roles = frozenset({"system-admin"})
    html = parsed(page.client.get("/web/report-assignments/a-doi").text)
    assert len(html.find_all("section", id="unlock")) == 1
    missing = _post(page, "a-doi/lock-exception", {"until": "15/12/2026", "reason": ""})
    assert missing.status_code == 422
    assert parsed(missing.text).one(id="f-reason-error").all_text() == "Bắt buộc nhập"
    assert page.reports.handed == []
    unlocked = _post(page, "a-doi/lock-exception", {"until": "15/12/2026", "reason": "Mất điện kéo dài"})
    assert unlocked.status_code == 303
    (sent,) = page.reports.handed
    assert (sent.until, sent.reason) == ("2026-12-15", "Mất điện kéo dài")
