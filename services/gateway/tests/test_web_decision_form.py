"""The form that records a decision, against stand-ins for personnel: offered where the tier may make
a kind, its kinds first, then the decision's fields, the kind section's fields and the unit's people
a decision of that kind may name; what is missing said beside each field before personnel is asked;
the people ticked sent in the staff list's order with the same values; personnel's refusals put
beside the fields they name with the person's name; only with the session's CSRF token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from html_tree import parsed
from web_stand_ins import SESSION, DecisionPeople, Record, Verifier, invalid_argument, rpc_error, stand_in_pages

from qlcb.personnel.v1 import decision_pb2, personnel_pb2, search_pb2

STAFF = [
    ("p1", "Nguyễn Văn An", personnel_pb2.PERSON_STATUS_ACTIVE),
    ("p3", "Trần Thị Bình", personnel_pb2.PERSON_STATUS_ACTIVE),
    ("p4", "Lê Văn Cũ", personnel_pb2.PERSON_STATUS_RETIRED),
]
REWARD = {
    "kind": "reward",
    "number": "12/QĐ-HQHN",
    "decision_date": "2026-11-20",
    "effective_date": "20/11/2026",
    "body": "Cục Hải quan thành phố Hà Nội",
    "signer": "Nguyễn Văn Ký",
    "signer_post": "Cục trưởng",
    "values.form": "01.003",
    "values.reason": "Hoàn thành xuất sắc nhiệm vụ năm 2026",
}


@dataclass
class Search:
    statuses: list[str] = field(default_factory=list)

    async def SearchPersons(self, request: Any, **options: Any) -> search_pb2.SearchPersonsResponse:
        assert (request.unit_id, request.sort, request.page_size) == ("hn", "name", 500)
        self.statuses.append(request.status)
        persons = [
            personnel_pb2.Person(
                id=i,
                full_name=name,
                date_of_birth="1985-03-04",
                sex=personnel_pb2.SEX_MALE,
                status=status,
                unit_id="hn",
            )
            for i, name, status in STAFF
        ]
        return search_pb2.SearchPersonsResponse(persons=persons, total=len(persons))


@dataclass
class Decisions:
    made: list[decision_pb2.CreateDecisionRequest] = field(default_factory=list)
    fails: grpc.aio.AioRpcError | None = None

    async def CreateDecision(self, request: Any, **options: Any) -> decision_pb2.CreateDecisionResponse:
        if self.fails is not None:
            raise self.fails
        self.made.append(request)
        return decision_pb2.CreateDecisionResponse(decision=decision_pb2.Decision(id="d-new", version=1))

    async def ListDecisions(self, request: Any, **options: Any) -> decision_pb2.ListDecisionsResponse:
        return decision_pb2.ListDecisionsResponse()


@dataclass
class Page:
    client: TestClient
    decisions: Decisions
    verifier: Verifier
    search: Search


@pytest.fixture
def page() -> Iterator[Page]:
    decisions, verifier = Decisions(), Verifier()
    search = Search()
    backends = {"personnel": DecisionPeople(), "decisions": decisions, "search": search, "record": Record()}
    with stand_in_pages(verifier, **backends) as client:
        yield Page(client, decisions, verifier, search)


def _send(page: Page, form: dict[str, str], csrf: str = SESSION.csrf_token) -> Any:
    return page.client.post("/web/decisions/new", data={"csrf_token": csrf} | form)


def test_the_decisions_pages_offer_a_new_one_only_to_a_tier_that_may_make_one(page: Page) -> None:
    link = parsed(page.client.get("/web/units/hn/decisions").text).one("a", id="decision-new")
    assert (link.all_text(), link.attrs["href"]) == (
        "Ghi quyết định mới",
        "http://gateway.test/web/decisions/new?unit=hn",
    )
    own = parsed(page.client.get("/web/persons/p1/decisions").text).one("a", id="decision-new")
    assert own.attrs["href"] == "http://gateway.test/web/decisions/new?person=p1"

    page.verifier.roles = frozenset({"sector-viewer"})
    assert parsed(page.client.get("/web/units/hn/decisions").text).find_all("a", id="decision-new") == []
    assert page.client.get("/web/decisions/new", params={"unit": "hn"}).status_code == 403


def test_the_kind_is_chosen_first_then_its_fields_and_the_people_it_may_name(page: Page) -> None:
    chooser = parsed(page.client.get("/web/decisions/new", params={"unit": "hn"}).text)
    options = [o.all_text() for o in chooser.one("select", id="kind").find_all("option")]
    assert options[0] == "— Chọn —"
    assert {"Quyết định khen thưởng", "Quyết định nâng bậc lương thường xuyên", "Quyết định nghỉ hưu"} <= set(options)
    assert chooser.find_all("form", action="http://gateway.test/web/decisions/new", method="post") == [], (
        "no form before a kind"
    )

    form = parsed(page.client.get("/web/decisions/new", params={"unit": "hn", "kind": "reward"}).text)
    posted = form.one("form", action="http://gateway.test/web/decisions/new", method="post")
    names = [n.attrs["name"] for n in posted.walk() if n.tag in ("input", "select", "textarea")]
    assert names[:3] == ["csrf_token", "kind", "unit"]
    assert {"number", "decision_date", "effective_date", "body", "signer", "values.form", "values.reason"} <= set(names)
    people = posted.one("fieldset", id="people")
    assert [label.all_text() for label in people.find_all("label")] == [
        "Nguyễn Văn An (04/03/1985)",
        "Trần Thị Bình (04/03/1985)",
    ], "those in service, not the retired"
    assert page.search.statuses[-1] == "active", "those in service asked for, not filtered from a page of all"
    reinstating = parsed(page.client.get("/web/decisions/new", params={"unit": "hn", "kind": "reinstatement"}).text)
    assert [label.all_text() for label in reinstating.one("fieldset", id="people").find_all("label")] == [
        "Lê Văn Cũ (04/03/1985, Nghỉ hưu)"
    ]
    assert reinstating.find_all("select", name="values.form") == [], "a status decision writes no entry"


def test_what_is_missing_is_said_beside_each_field_and_personnel_is_not_asked(page: Page) -> None:
    refused = _send(page, {"kind": "reward", "unit": "hn", "number": "12/QĐ-HQHN", "effective_date": "31/02/2026"})
    assert refused.status_code == 422
    shown = parsed(refused.text)
    assert shown.one(id="f-decision_date-error").all_text() == "Bắt buộc nhập"
    assert shown.one(id="f-effective_date-error").all_text() == "Không phải một ngày (ngày/tháng/năm)"
    assert shown.one(id="f-values-form-error").all_text() == "Bắt buộc nhập"
    assert shown.one(id="people-error").all_text() == "Chọn ít nhất một người"
    assert shown.one("input", name="number").attrs["value"] == "12/QĐ-HQHN", "what was typed is kept"
    assert page.decisions.made == []


def test_the_people_ticked_go_in_the_staff_lists_order_with_the_same_values_and_the_decision_opens(
    page: Page,
) -> None:
    done = _send(page, REWARD | {"unit": "hn", "person.p3": "1", "person.p1": "1"})
    assert done.status_code == 303
    assert done.headers["location"] == "http://gateway.test/web/decisions/d-new"
    [made] = page.decisions.made
    assert (made.kind, made.number, made.decision_date, made.effective_date, made.signer_post) == (
        "reward",
        "12/QĐ-HQHN",
        "2026-11-20",
        "2026-11-20",
        "Cục trưởng",
    )
    assert [item.person_id for item in made.items] == ["p1", "p3"]
    assert {item.values_json for item in made.items} == {
        json.dumps({"form": "01.003", "reason": "Hoàn thành xuất sắc nhiệm vụ năm 2026"}, ensure_ascii=False)
    }


def test_one_persons_raise_is_sent_with_its_values_typed(page: Page) -> None:
    form = parsed(page.client.get("/web/decisions/new", params={"person": "p1", "kind": "regular_raise"}).text)
    assert form.one("input", name="person.p1", type="hidden")
    raise_ = REWARD | {"kind": "regular_raise", "person": "p1", "person.p1": "1"}
    raise_ |= {"values.rank_code": "01.003", "values.step": "4", "values.coefficient": "3,33"}
    del raise_["values.form"], raise_["values.reason"]
    assert _send(page, raise_).status_code == 303
    [made] = page.decisions.made
    [item] = made.items
    assert (item.person_id, json.loads(item.values_json)) == (
        "p1",
        {"rank_code": "01.003", "step": 4, "coefficient": "3.33"},
    )


def test_personnels_refusals_are_put_beside_their_fields_with_the_persons_name(page: Page) -> None:
    page.decisions.fails = invalid_argument(
        ("items[1].values.form", "Hình thức không áp dụng cho công chức này"),
        ("effective_date", "Sau ngày ký quá một năm"),
        ("items[0].person_id", "Người này đã có ở items[1]"),
    )
    refused = _send(page, REWARD | {"unit": "hn", "person.p1": "1", "person.p3": "1"})
    assert refused.status_code == 422
    shown = parsed(refused.text)
    assert shown.one(id="f-values-form-error").all_text() == "Trần Thị Bình: Hình thức không áp dụng cho công chức này"
    assert shown.one(id="f-effective_date-error").all_text() == "Sau ngày ký quá một năm"
    assert shown.one(id="people-error").all_text() == "Nguyễn Văn An: Người này đã có ở items[1]"
    ticked = [i.attrs["name"] for i in shown.one("fieldset", id="people").find_all("input") if "checked" in i.attrs]
    assert ticked == ["person.p1", "person.p3"], "the people ticked stay ticked"

    page.decisions.fails = rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "items[1]: đã nghỉ hưu từ 01/10/2026")
    conflict = _send(page, REWARD | {"unit": "hn", "person.p1": "1", "person.p3": "1"})
    assert conflict.status_code == 409
    assert "Trần Thị Bình: đã nghỉ hưu từ 01/10/2026" in parsed(conflict.text).one(id="faults").all_text()


@pytest.mark.parametrize("csrf", ["", "csrf-of-another-session"])
def test_a_decision_without_the_sessions_token_is_not_made(page: Page, csrf: str) -> None:
    assert _send(page, REWARD | {"unit": "hn", "person.p1": "1"}, csrf=csrf).status_code == 403
    assert _send(page, REWARD | {"kind": "no-such-kind", "unit": "hn", "person.p1": "1"}).status_code == 400
    assert page.decisions.made == []


RAISE = {k: v for k, v in REWARD.items() if not k.startswith("values.")} | {"kind": "regular_raise", "unit": "hn"}


def test_each_persons_own_raise_is_asked_in_a_row_first_filled_with_what_was_typed_for_all(page: Page) -> None:
    typed = RAISE | {"values.rank_code": "01.003", "values.step": "4", "person.p1": "1", "person.p3": "1"}
    rows = _send(page, typed | {"then": "own"})
    assert rows.status_code == 200
    assert page.decisions.made == [], "asking for the rows records nothing"
    shown = parsed(rows.text)
    table = shown.one("table", id="own-values")
    assert [th.all_text() for th in table.one("tbody").find_all("th")] == ["Nguyễn Văn An", "Trần Thị Bình"]
    assert shown.one("input", name="own.p3.values.step").attrs["value"] == "4"
    assert shown.one("label", **{"for": "f-own-p3-values-step"}).all_text().startswith("Bậc — Trần Thị Bình")
    assert shown.one("input", name="number").attrs["value"] == "12/QĐ-HQHN", "the decision's fields are kept"
    assert shown.find_all("fieldset", id="people") == []

    own = RAISE | {"own": "1", "person.p1": "1", "person.p3": "1"}
    own |= {"own.p1.values.rank_code": "01.003", "own.p1.values.step": "4", "own.p1.values.coefficient": "3,33"}
    own |= {"own.p3.values.rank_code": "01.003", "own.p3.values.step": "6", "own.p3.values.coefficient": "3,99"}
    assert _send(page, own).status_code == 303
    [made] = page.decisions.made
    assert [(i.person_id, json.loads(i.values_json)) for i in made.items] == [
        ("p1", {"rank_code": "01.003", "step": 4, "coefficient": "3.33"}),
        ("p3", {"rank_code": "01.003", "step": 6, "coefficient": "3.99"}),
    ]


def test_a_persons_own_value_typed_wrong_or_refused_is_said_in_their_row(page: Page) -> None:
    own = RAISE | {"own": "1", "person.p1": "1", "person.p3": "1"}
    own |= {"own.p1.values.rank_code": "01.003", "own.p1.values.step": "4", "own.p1.values.coefficient": "3,33"}
    own |= {"own.p3.values.rank_code": "01.003", "own.p3.values.step": "sáu", "own.p3.values.coefficient": "3,99"}
    wrong = _send(page, own)
    assert wrong.status_code == 422
    shown = parsed(wrong.text)
    assert shown.one(id="f-own-p3-values-step-error").all_text() == "Phải là một số nguyên"
    assert shown.one("input", name="own.p3.values.step").attrs["value"] == "sáu", "what was typed is kept"
    links = [a.all_text() for a in shown.one(id="faults").find_all("a")]
    assert links == ["Bậc — Trần Thị Bình: Phải là một số nguyên"]
    assert page.decisions.made == []

    page.decisions.fails = invalid_argument(("items[1].values.step", "Ngạch 01.003 có 9 bậc"))
    refused = _send(page, own | {"own.p3.values.step": "12"})
    assert refused.status_code == 422
    assert parsed(refused.text).one(id="f-own-p3-values-step-error").all_text() == "Ngạch 01.003 có 9 bậc"


def test_rows_are_asked_only_for_people_ticked(page: Page) -> None:
    nobody = _send(page, RAISE | {"then": "own", "values.step": "4"})
    assert nobody.status_code == 422
    assert parsed(nobody.text).one(id="people-error").all_text() == "Chọn ít nhất một người"
    assert parsed(nobody.text).one("input", name="values.step").attrs["value"] == "4", "what was typed is kept"
    assert parsed(nobody.text).find_all("table", id="own-values") == []


def test_a_person_the_unit_does_not_list_posted_in_own_rows_is_refused_before_personnel_is_asked(page: Page) -> None:
    own = RAISE | {"own": "1", "person.p1": "1", "person.p-elsewhere": "1"}
    own |= {"own.p1.values.rank_code": "01.003", "own.p1.values.step": "4", "own.p1.values.coefficient": "3,33"}
    refused = _send(page, own)
    assert refused.status_code == 422
    assert (
        parsed(refused.text).one(id="people-error").all_text()
        == "Có người được chọn không còn trong danh sách của đơn vị"
    )
    assert page.decisions.made == []
