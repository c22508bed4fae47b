"""The page that adds an entry to a section of a record, against stand-ins for personnel (the real
one, with a browser, in tests/integration/test_web.py): what is typed is checked next to each
field before anything is sent, personnel's refusals land next to the fields they name, and only a
form carrying the session's CSRF token is acted on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from fastapi.testclient import TestClient
from html_tree import parsed
from web_stand_ins import (
    CLOSED_RANK,
    SESSION,
    Identity,
    OnePerson,
    Record,
    Verifier,
    invalid_argument,
    rpc_error,
    stand_in_pages,
)

FORM = "/web/persons/p1/salary/new"
VALID = {
    "valid_from": "01/07/2024",
    "values.rank_code": "01.003",
    "values.step": "2",
    "values.coefficient": "2,67",
    "decision.number": "15/QĐ-HQHN",
    "decision.date": "2024-06-20",
}


@dataclass
class Page:
    client: TestClient
    record: Record
    verifier: Verifier


@pytest.fixture
def page() -> Iterator[Page]:
    record, verifier = Record(), Verifier()
    with stand_in_pages(verifier, personnel=OnePerson(), record=record) as client:
        yield Page(client, record, verifier)


def _post(page: Page, form: dict[str, str], *, csrf: str | None = SESSION.csrf_token) -> httpx.Response:
    body = form | ({"csrf_token": csrf} if csrf is not None else {})
    response: httpx.Response = page.client.post(FORM, data=body)
    return response


def _error_of(html: str, name: str) -> str:
    """The error shown under the field `name`, tied to its control for screen readers."""
    page = parsed(html)
    control = page.one(name=name)
    if control.attrs.get("aria-invalid") != "true":
        return ""
    return page.one(id=control.attrs["aria-describedby"]).all_text()


def test_the_form_offers_the_sections_fields_with_the_catalog_to_pick_from(page: Page) -> None:
    response = page.client.get(FORM)
    assert response.status_code == 200
    form = parsed(response.text)
    rank = form.one("select", name="values.rank_code")
    assert [o.attrs["value"] for o in rank.find_all("option")] == ["", "01.003", "01.002"]
    assert form.one("input", name="valid_from").attrs["type"] == "date"
    step = form.one("input", name="values.step").attrs
    assert (step["type"], step["min"], step["max"]) == ("number", "1", "20")
    assert "required" in form.one("input", name="decision.number").attrs, "a salary needs its decision"
    entry = form.one("form", class_="entry")
    controls = [n for n in entry.walk() if n.tag in ("input", "select", "textarea") and n.attrs.get("type") != "hidden"]
    assert len(controls) == 12, "two dates, five values, five of the decision"
    for control in controls:
        assert form.find_all("label", for_=control.attrs["id"]), f"{control.attrs['name']} has a label"
    assert entry.one("input", name="csrf_token").attrs["value"] == SESSION.csrf_token
    assert page.record.catalogs_on == [""], "a new entry's lists are today's catalog"
    assert "danh mục hiện hành" in form.one("form", class_="catalog-day").all_text()


def test_what_is_typed_wrong_is_shown_next_to_each_field_and_nothing_is_sent(page: Page) -> None:
    typed = VALID | {
        "valid_from": "31/02/2024",
        "values.step": "25",
        "values.coefficient": "hai",
        "decision.number": "",
    }
    response = _post(page, typed)
    assert response.status_code == 422
    assert page.record.added == []
    assert _error_of(response.text, "valid_from") == "Không phải một ngày (ngày/tháng/năm)"
    assert _error_of(response.text, "values.step") == "Phải từ 1 đến 20"
    assert _error_of(response.text, "values.coefficient") == "Phải là một số, ví dụ 4,98"
    assert _error_of(response.text, "decision.number") == "Bắt buộc nhập"
    assert _error_of(response.text, "values.rank_code") == ""
    form = parsed(response.text)
    assert form.one(name="values.coefficient").attrs["value"] == "hai", "what was typed is kept"
    assert [o.attrs["value"] for o in form.find_all("option") if "selected" in o.attrs] == ["01.003"]
    assert form.one(id="faults").attrs["role"] == "alert"


def test_a_code_not_in_the_catalog_is_refused_before_it_is_sent(page: Page) -> None:
    response = _post(page, VALID | {"values.rank_code": "99.999"})
    assert response.status_code == 422
    assert _error_of(response.text, "values.rank_code") == "Không có trong danh mục ngày 01/07/2024"
    assert page.record.added == []


def test_an_accepted_entry_is_sent_typed_and_the_browser_returns_to_the_section(page: Page) -> None:
    response = _post(page, VALID | {"values.over_frame_percent": "", "values.note": "Nâng bậc  đúng hạn"})
    assert response.status_code == 303
    assert response.headers["location"] == "http://gateway.test/web/persons/p1#section-salary"
    [sent] = page.record.added
    assert (sent.person_id, sent.section) == ("p1", "salary")
    assert json.loads(sent.input.values_json) == {
        "rank_code": "01.003",
        "step": 2,
        "coefficient": "2.67",
        "note": "Nâng bậc  đúng hạn",
    }
    assert (sent.input.valid_from, sent.input.valid_to) == ("2024-07-01", "")
    assert (sent.input.decision.number, sent.input.decision.date) == ("15/QĐ-HQHN", "2024-06-20")


def test_personnels_refusal_is_shown_next_to_the_field_it_names(page: Page) -> None:
    page.record.fails = invalid_argument(
        ("values.rank_code", "Ngạch 01.003 không còn hiệu lực ngày 01/07/2024"), ("input", "Mục trùng thời gian")
    )
    response = _post(page, VALID)
    assert response.status_code == 422
    assert _error_of(response.text, "values.rank_code") == "Ngạch 01.003 không còn hiệu lực ngày 01/07/2024"
    assert "Mục trùng thời gian" in parsed(response.text).one(id="faults").all_text()

    page.record.fails = rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "Đã có mục lương từ ngày này")
    conflict = _post(page, VALID)
    assert conflict.status_code == 409
    assert "Đã có mục lương từ ngày này" in conflict.text


def test_an_entry_the_callers_tier_may_not_write_is_refused_on_the_form_as_filled(page: Page) -> None:
    said = "Hồ sơ cán bộ thuộc Cục Hải quan thành phố Hà Nội do đơn vị đó cập nhật"
    page.record.fails = rpc_error(grpc.StatusCode.PERMISSION_DENIED, said)
    response = _post(page, VALID)
    assert response.status_code == 403
    form = parsed(response.text)
    assert said in form.one(id="faults").all_text()
    assert form.one("input", name="decision.number").attrs["value"] == VALID["decision.number"]


@pytest.mark.parametrize("csrf", [None, "csrf-of-another-session"])
def test_a_form_without_the_sessions_token_changes_nothing(page: Page, csrf: str | None) -> None:
    response = _post(page, VALID, csrf=csrf)
    assert response.status_code == 403
    assert page.record.added == []


def test_a_section_the_caller_may_not_write_or_that_does_not_exist_is_refused(page: Page) -> None:
    assert page.client.get("/web/persons/p1/no_such_section/new").status_code == 404
    page.verifier.roles = frozenset({"sector-viewer"})
    assert page.client.get(FORM).status_code == 403


def test_the_record_page_offers_the_form_where_the_caller_may_add_and_reads_the_day_asked(page: Page) -> None:
    shown = page.client.get("/web/persons/p1", params={"as_of": "2024-06-30"})
    assert shown.status_code == 200
    assert page.record.read_as_of == ["2024-06-30"]
    record = parsed(shown.text)
    assert record.one(id="as-of-shown").all_text().startswith("Hồ sơ tại ngày 30/06/2024")
    assert record.one("input", name="as_of").attrs["value"] == "2024-06-30"
    terms = [dt.all_text() for dt in record.find_all("dt")]
    facts = dict(zip(terms, [dd.all_text() for dd in record.find_all("dd")], strict=True))
    assert facts["Hết thời hạn giữ chức vụ Đội trưởng"] == "28/02/2030"
    offered = [a.attrs["href"] for a in record.find_all("a") if a.all_text().startswith("Thêm mục")]
    site = "http://gateway.test/web/persons/p1"
    assert offered == [f"{site}/salary/new", f"{site}/placements/new"]
    resume = [a.attrs["href"] for a in record.find_all("a") if a.all_text() in ("PDF", "DOCX")]
    assert resume == [f"{site}/resume.pdf?as_of=2024-06-30", f"{site}/resume.docx?as_of=2024-06-30"]

    assert not [a for a in record.find_all("a") if a.all_text() == "Điều động sang đơn vị khác"], "not as of a day"

    today = page.client.get("/web/persons/p1", params={"as_of": "30/06/2024"})
    assert today.status_code == 200
    assert page.record.read_as_of[-1] == "", "what is not a day shows the record of today"
    sending = [
        a.attrs["href"] for a in parsed(today.text).find_all("a") if a.all_text() == "Điều động sang đơn vị khác"
    ]
    assert sending == [f"{site}/transfer"]
    page.verifier.roles = frozenset({"sector-viewer"})
    viewer = parsed(page.client.get("/web/persons/p1").text)
    assert not [a for a in viewer.find_all("a") if a.all_text().startswith("Thêm mục")], "a viewer adds nothing"
    assert not [a for a in viewer.find_all("a") if a.all_text() == "Điều động sang đơn vị khác"], "nor moves anyone"


CORRECT = "/web/persons/p1/salary/e1/correct"


def test_a_correction_starts_from_the_entry_as_it_stands_and_names_the_version_it_corrects(page: Page) -> None:
    response = page.client.get(CORRECT)
    assert response.status_code == 200
    form = parsed(response.text).one("form", class_="entry")
    assert form.attrs["action"] == f"http://gateway.test{CORRECT}"
    assert form.one("input", name="version").attrs["value"] == "3"
    assert form.one("input", name="valid_from").attrs["value"] == "2024-07-01"
    assert form.one("input", name="values.step").attrs["value"] == "1"
    assert form.one("input", name="values.coefficient").attrs["value"] == "2.34"
    assert [o.attrs["value"] for o in form.find_all("option") if "selected" in o.attrs] == ["01.003"]
    assert form.one("input", name="decision.number").attrs["value"] == "31/QĐ-HQHN"

    sent = VALID | {"values.step": "2", "values.coefficient": "2,67", "csrf_token": SESSION.csrf_token, "version": "3"}
    corrected = page.client.post(CORRECT, data=sent)
    assert corrected.status_code == 303
    [request] = page.record.corrected
    assert (request.entry_id, request.expected_version) == ("e1", 3)
    assert json.loads(request.input.values_json) == {"rank_code": "01.003", "step": 2, "coefficient": "2.67"}
    assert page.record.added == [], "a correction adds no entry"


def test_a_correction_of_a_version_corrected_meanwhile_is_refused_with_what_to_do(page: Page) -> None:
    page.record.fails = rpc_error(grpc.StatusCode.ABORTED, "Mục e1 đã được sửa (phiên bản hiện tại 4)")
    response = page.client.post(CORRECT, data=VALID | {"csrf_token": SESSION.csrf_token, "version": "3"})
    assert response.status_code == 409
    faults = parsed(response.text).one(id="faults").all_text()
    assert "Mục e1 đã được sửa (phiên bản hiện tại 4)" in faults
    assert "Hãy mở lại mục này" in faults
    no_version = page.client.post(CORRECT, data=VALID | {"csrf_token": SESSION.csrf_token})
    assert no_version.status_code == 400
    too_large = page.client.post(CORRECT, data=VALID | {"csrf_token": SESSION.csrf_token, "version": "9" * 12})
    assert too_large.status_code == 400
    assert page.client.get("/web/persons/p1/salary/e9/correct").status_code == 404


def test_an_entrys_history_shows_every_version_oldest_first_with_what_changed_it(page: Page) -> None:
    response = page.client.get("/web/persons/p1/salary/e1/versions")
    assert response.status_code == 200
    shown = parsed(response.text)
    versions = shown.one("ol", id="versions").find_all("li")
    assert [v.attrs["id"] for v in versions] == ["version-1", "version-2"]
    assert versions[0].one("h2").all_text() == "Phiên bản 1: Ghi nhận"
    assert "2.43" in versions[0].all_text(), "the wrong value stays visible, superseded"
    assert "Bị thay ngày 02/07/2024" in versions[0].all_text()
    assert "Ghi ngày 01/07/2024 09:31" in versions[0].all_text(), "in Vietnam's time"
    assert versions[0].one("a").attrs["href"] == "http://gateway.test/web/decisions/d7"
    assert versions[1].one("h2").all_text() == "Phiên bản 2: Đính chính"
    assert "2.34" in versions[1].all_text()
    assert "Người ghi Vũ Thị Hà (qthanoi)" in versions[1].all_text(), "the account behind the subject, by name"
    assert "Người ghi sub-gone" in versions[0].all_text(), "a subject identity does not know, as it is"
    assert page.client.get("/web/persons/p1/salary/nope/versions").status_code == 404
    assert page.client.get("/web/persons/p1/nonsense/e1/versions").status_code == 404


DELEGATED = {
    "id": "d1",
    "unit_path": "/TCHQ/HQHN",
    "tiers": ["unit-leader"],
    "sections": ["salary"],
    "actions": ["read", "create"],
    "target_unit_path": "/TCHQ/HQHN/CK",
    "person_ids": [],
    "valid_from": "2026-01-01",
    "valid_to": None,
}


@pytest.mark.parametrize(
    ("delegation", "offered"),
    [
        (DELEGATED, ["salary"]),
        (DELEGATED | {"target_unit_path": None, "person_ids": ["p1"]}, ["salary"]),
        (DELEGATED | {"tiers": ["local-officer"]}, []),
        (DELEGATED | {"target_unit_path": "/TCHQ/HQHN/NB"}, []),
        (DELEGATED | {"valid_to": "2026-01-31"}, []),
    ],
    ids=["over-the-unit", "over-the-person", "another-tier", "another-unit", "ended"],
)
def test_a_delegation_serving_the_caller_offers_the_forms_personnel_would_accept(
    delegation: dict[str, Any], offered: list[str]
) -> None:
    """A unit head adds no salary step by its tier; a delegation from the sector lets it, and the
    record page and the form say so, as personnel would accept the entry."""
    identity = Identity()
    identity.delegations = [delegation]
    verifier = Verifier(roles=frozenset({"unit-leader"}))
    with stand_in_pages(verifier, personnel=OnePerson(), record=Record(), identity=identity.client()) as client:
        record = parsed(client.get("/web/persons/p1").text)
        links = [a.attrs["href"] for a in record.find_all("a") if a.all_text().startswith("Thêm mục")]
        assert [link.rsplit("/", 2)[1] for link in links] == offered
        assert client.get(FORM).status_code == (200 if offered else 403)


def test_a_correction_of_an_entry_of_a_rank_closed_since_keeps_it_and_the_catalog_of_its_day(page: Page) -> None:
    """An entry of 2015 with a rank whose code closed in 2019: its correction lists the ranks of
    2015, the old one selected, and sends it; moved to a day the code no longer holds, the same
    code is refused next to its field, naming the day, and nothing is sent."""
    page.record.current = ("2015-03-01", CLOSED_RANK[0])
    response = page.client.get(CORRECT)
    assert response.status_code == 200
    html = parsed(response.text)
    form = html.one("form", class_="entry")
    rank = form.one("select", name="values.rank_code")
    assert [o.attrs["value"] for o in rank.find_all("option") if "selected" in o.attrs] == [CLOSED_RANK[0]]
    assert page.record.catalogs_on == ["2015-03-01"]
    assert html.one("form", class_="catalog-day").one("strong").all_text() == "01/03/2015"

    sent = VALID | {
        "valid_from": "01/03/2015",
        "values.rank_code": CLOSED_RANK[0],
        "decision.number": "7/QĐ-HQHN",
        "csrf_token": SESSION.csrf_token,
        "version": "3",
    }
    assert page.client.post(CORRECT, data=sent).status_code == 303
    [request] = page.record.corrected
    assert json.loads(request.input.values_json)["rank_code"] == CLOSED_RANK[0]
    assert request.input.decision.number == "7/QĐ-HQHN"

    moved = page.client.post(CORRECT, data=sent | {"valid_from": "01/07/2024"})
    assert moved.status_code == 422
    assert _error_of(moved.text, "values.rank_code") == "Không có trong danh mục ngày 01/07/2024"
    assert len(page.record.corrected) == 1, "nothing more was sent"


def test_a_new_entry_of_a_past_day_lists_that_days_catalog(page: Page) -> None:
    """The form asked for a day (the small form above it) lists that day's codes and starts the
    entry on it; a day that is not one gives today's lists."""
    response = page.client.get(FORM, params={"catalogs_on": "2012-09-01"})
    assert response.status_code == 200
    form = parsed(response.text).one("form", class_="entry")
    rank = form.one("select", name="values.rank_code")
    assert CLOSED_RANK[0] in [o.attrs["value"] for o in rank.find_all("option")]
    assert form.one("input", name="valid_from").attrs["value"] == "2012-09-01"
    sent = VALID | {"valid_from": "01/09/2012", "values.rank_code": CLOSED_RANK[0], "csrf_token": SESSION.csrf_token}
    assert page.client.post(FORM, data=sent).status_code == 303
    assert json.loads(page.record.added[0].input.values_json)["rank_code"] == CLOSED_RANK[0]

    for wrong in ("hôm qua", "31/02/2012", "0001-01-01"):
        page.record.catalogs_on.clear()
        assert page.client.get(FORM, params={"catalogs_on": wrong}).status_code == 200
        assert page.record.catalogs_on == [""], wrong
