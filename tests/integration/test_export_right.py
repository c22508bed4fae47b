"""The right to export (R-TIER, `Action.EXPORT`) holds for every way a list of people leaves as
files, not only the search's export: a local officer whose admin granted it no section reads its
unit's people and statistics, but gets neither a list form (BM03) as a file nor the unit's resumes
at once, any more than the search's CSV."""

from __future__ import annotations

import asyncio

import pytest

from qlcb_devstack.accounts import Account, ensure_user, password_token
from tests.support import System, api_client, unique_code

pytestmark = pytest.mark.integration

PASSWORD = "Xuất 2026 thử quyền"


async def test_an_officer_without_the_export_right_reads_its_unit_but_takes_no_list_of_people_away(
    system: System,
) -> None:
    username = unique_code("ex").lower()  # a part of the name may not be in the password
    account = Account(username, PASSWORD, "local-officer", "/TCHQ/HQHN", "Mai Văn Xuất")
    await asyncio.to_thread(ensure_user, system.infra.keycloak_admin(), account)
    token = await asyncio.to_thread(password_token, system.infra.keycloak.base_url, username, PASSWORD)
    unit = system.unit_ids["HQHN"]
    async with api_client(system.gateway_url, token) as officer:
        listed = await officer.get("/v1/statistics/BM03", params={"unit": unit})
        counted = await officer.get("/v1/statistics/BM01/export", params={"unit": unit, "format": "csv"})
        as_a_file = await officer.get("/v1/statistics/BM03/export", params={"unit": unit, "format": "csv"})
        resumes = await officer.get(f"/v1/units/{unit}/resumes")
        searched = await officer.get("/v1/persons/export", params={"unit_id": unit, "format": "csv"})
    assert (listed.status_code, counted.status_code) == (200, 200), (listed.text, counted.text)
    assert listed.json()["rows"], "the officer reads the unit's people"
    assert (as_a_file.status_code, resumes.status_code, searched.status_code) == (403, 403, 403), (
        as_a_file.text,
        resumes.text,
        searched.text,
    )
