"""The refusals of a write that lost a race or broke the record's state, as the REST document says
them (issue 8 point 7): 428 without `If-Match`, 412 with a stale one, 409 against the record's state.
The contract test's fuzz never provokes them (it sends writes only bad input, which is refused
before any state is read), so each is provoked here on the real servers, for a section's entry and
for a decision, and checked against the running gateway's own document: the status is one the
operation documents, and the content type and body are the documented ones."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis

from tests.integration.test_decisions import _decision, _person
from tests.support import System, api_client, unique_code

ENTRY = "/v1/persons/{person_id}/placements/{entry_id}"
TITLES = "/v1/persons/{person_id}/honorary_titles"
CANCEL = "/v1/decisions/{decision_id}/cancel"


@pytest.fixture(scope="module")
def document(system: System) -> Any:
    return schemathesis.openapi.from_url(f"{system.gateway_url}/openapi.json")


def _as_documented(document: Any, path: str, method: str, response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    operation = document[path][method]
    assert str(status) in operation.definition.raw["responses"], f"{method} {path} does not document {status}"
    operation.validate_response(response)
    assert response.json()["detail"]["message"], "the refusal says why"


async def test_an_entrys_race_and_a_clash_are_refused_as_the_document_says(system: System, document: Any) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Trịnh Văn Tài Liệu")
        values = {"unit_name": "Chi cục Hải quan Nội Bài", "post": "Công chức"}
        placed: dict[str, Any] = {"values": values, "valid_from": "2015-01-01"}
        added = await api.post(f"/v1/persons/{person}/placements", json=placed)
        assert added.status_code == 201, added.text
        url = f"/v1/persons/{person}/placements/{added.json()['entry_id']}"
        fixed = placed | {"values": values | {"post": "Kiểm tra viên"}}

        _as_documented(document, ENTRY, "PUT", await api.put(url, json=fixed), 428)
        _as_documented(document, ENTRY, "DELETE", await api.delete(url), 428)
        assert (await api.put(url, json=fixed, headers={"If-Match": '"1"'})).status_code == 200
        _as_documented(document, ENTRY, "PUT", await api.put(url, json=placed, headers={"If-Match": '"1"'}), 412)
        _as_documented(document, ENTRY, "DELETE", await api.delete(url, headers={"If-Match": '"1"'}), 412)

        title = {"values": {"title": "NGUT"}, "valid_from": "2023-11-20"}
        title |= {"decision": {"number": "1650/QĐ-CTN", "date": "2023-11-15", "body": "Chủ tịch nước"}}
        assert (await api.post(f"/v1/persons/{person}/honorary_titles", json=title)).status_code == 201
        again = await api.post(f"/v1/persons/{person}/honorary_titles", json=title | {"valid_from": "2024-11-20"})
        _as_documented(document, TITLES, "POST", again, 409)


async def test_a_decisions_race_and_a_second_cancellation_are_refused_as_the_document_says(
    system: System, document: Any
) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Trịnh Thị Quyết Định")
        body = _decision(
            "evaluation", "2025-03-01", [{"person_id": person, "values": {"year": 2024, "level": "HTTNV"}}]
        )
        created = await api.post("/v1/decisions", json=body)
        assert created.status_code == 201, created.text
        url = f"/v1/decisions/{created.json()['id']}/cancel"
        cancel = {"reason": "Ban hành nhầm", "cancel_number": f"{unique_code('H')[-6:]}/QĐ-HQHN"}

        _as_documented(document, CANCEL, "POST", await api.post(url, json=cancel), 428)
        _as_documented(document, CANCEL, "POST", await api.post(url, json=cancel, headers={"If-Match": '"7"'}), 412)
        assert (await api.post(url, json=cancel, headers={"If-Match": '"1"'})).status_code == 200
        twice = await api.post(url, json=cancel | {"cancel_number": "2/QĐ-HQHN"}, headers={"If-Match": '"2"'})
        _as_documented(document, CANCEL, "POST", twice, 409)
