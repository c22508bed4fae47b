"""The web pages (issue 14, ADR 0033) in a real browser: Debian's chromium, headless, driven by
Playwright, against the real gateway, Keycloak and services. Officers of two tiers log in through
Keycloak's own login page, see the unit tree and a staff list, find a person by a query typed
without diacritics, read the record; a page of a person outside their scope is a refusal, never
data; a POST without the form's CSRF token is refused; the logout ends the Keycloak session too. A
local admin adds a salary step through the record's form, then corrects it: what is typed wrong and
what personnel refuses are shown next to their fields, and only the accepted entry is recorded; the record as of
a day before it shows none, and its resume of that day downloads as a PDF. A personnel officer sends a
record to another unit from the record page; the receiving unit's admin, in a second login, declines
one transfer with its reason and accepts the one sent on its transfers page. The tree shows each
unit's quota against the people in it; the staff list sorts and exports; an entry's history shows
its versions; a decision is read and cancelled, which retracts what it recorded; the audit trail is
searched; the session of an account disabled in Keycloak ends at its next page. A unit's report of a
period, found among what waits on the home page, is filled, refused by field, sent, returned with
its reason, sent again and approved by the level above; another province's head is refused the page.
The system admin backs up and drills from the backup page (after the suite's earlier tests have
federated another agency into the realm) and asks a restore that it may not confirm itself; the
sector's HR is refused the page. A unit head consents, on the account requests page, to a request
the system admin filed; that admin is not offered the approval (four-eyes) and rejects it, its
reason required; a self-tier login is refused the page. The sector's HR grants Hà Nội's personnel
officers a delegation over a team (refused first without a tier ticked), Hà Nội's admin sees it
without a revocation, and it is revoked. Hà Nội's admin opens the statistics on its own unit's BM01,
asks it for a team, follows the count of its women to exactly them and on to a record, and is told
beside the day's box that a day after today has no figures. Hà Nội's admin hands a purpose account
of a team to a civil servant (the day required first) and releases it; another Cục's head is
refused the account's page. Another agency's officer logs in through the agency's own login page
and lands with the tier its group maps to; an officer of an unmapped group lands with no role. An
officer reports their password stolen from their own account page; Hà Nội's admin finds the account,
grants it a record section and resets it: the new code goes to the holder's mail, the old sessions end.
Hà Nội's admin hands part of a unit's report down to a team (a unit required first), is told there is
nothing approved to consolidate yet, sends and approves the team's report, then consolidates its figure.
The sector's HR issues a report regime with a table through its form (a column naming no table refused
first; the form sent again issues nothing more) and adds a second template version. With reports
stopped, its page says the system cannot serve it (no trace) and is back after the restart. A session
the gateway no longer accepts goes through the login and back to the page asked, its query kept.
The system admin announces an upgrade (refused first when less than 24 hours ahead), which a civil
servant sees at the top of every page until the admin closes it; and works off an account waiting
to be disabled on the accounts page, then opens it again, takes a tier away and grants another.
Every page passes axe-core's WCAG 2.1 A/AA checks with no serious or critical violation (axe runs
in the page, so the browser context bypasses the pages' CSP, which allows no script at all).

Each test makes its own units and people under Hà Nội and Hồ Chí Minh (other tests share the system)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect

from qlcb_common.days import VIETNAM, vietnam_today
from qlcb_devstack.accounts import Account, ensure_user
from qlcb_devstack.demo import DEMO_PASSWORD
from qlcb_devstack.state import state_dir
from tests.personal_accounts import issue_personal_account
from tests.support import (
    System,
    agency_realm,
    agency_registration,
    api_client,
    eventually,
    handed_over_on,
    handover_day,
    mailed_code,
    person_body,
    unique_code,
    wait_for_headcount,
)

pytestmark = pytest.mark.integration

ADMIN = "quantri"
CHROMIUM = "/usr/bin/chromium"
DECISION = {"number": "12/QĐ-HQHN", "date": "2010-06-20", "body": "Cục Hải quan thành phố Hà Nội"}
WAIT_MS = 30_000
AXE_VERSION = "4.14.1"
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    assert shutil.which("chromium"), "Debian's chromium is missing: run scripts/bootstrap.sh --browser"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def assert_accessible(page: Page, *, shot: str = "") -> None:
    """axe-core's WCAG 2.1 A and AA rules, run in the page as it is shown: no serious or critical violation.
    With `shot`, and QLCB_SCREENSHOTS naming a folder, the page is also kept there as `<shot>.png`
    (how docs/screenshots is made: `QLCB_SCREENSHOTS=docs/screenshots pytest tests/integration/test_web.py`)."""
    folder = os.environ.get("QLCB_SCREENSHOTS")
    if shot and folder:
        await page.set_viewport_size({"width": 1280, "height": 800})
        await page.screenshot(path=Path(folder) / f"{shot}.png", full_page=True)
    axe = state_dir() / "axe-core" / AXE_VERSION / "node_modules" / "axe-core" / "axe.min.js"
    assert axe.exists(), f"{axe} is missing: run scripts/bootstrap.sh --browser"
    await page.add_script_tag(path=axe)
    result = await page.evaluate("rules => axe.run(document, {runOnly: rules})", AXE_RULES)
    serious = [
        (violation["id"], [node["target"] for node in violation["nodes"]])
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{page.url}: {serious}"
    await _fits_a_tablet(page)


TABLET = ViewportSize(width=768, height=1024)


async def _fits_a_tablet(page: Page) -> None:
    """Usable on a tablet held upright: the page is not wider than the screen (a wide table scrolls
    inside its own box), then the page is put back at the size it had."""
    before = page.viewport_size
    await page.set_viewport_size(TABLET)
    try:
        overflow = await page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                        && !e.closest('.wide'))
                .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''))"""
        )
        assert overflow == [], f"{page.url} is wider than a tablet ({TABLET['width']} px): {overflow}"
    finally:
        if before is not None:
            await page.set_viewport_size(before)


async def _unit(api: httpx.AsyncClient, parent_id: str, name: str) -> dict[str, Any]:
    body = {
        "code": unique_code("WEB"),
        "name": name,
        "kind": "sub_unit",
        "parent_id": parent_id,
        "effective_date": "2000-01-01",
        "decision": "1/QĐ-WEB",
    }
    created = await api.post("/v1/units", json=body)
    assert created.status_code == 201, created.text
    unit: dict[str, Any] = created.json()
    return unit


async def _person(api: httpx.AsyncClient, unit_id: str, name: str, *, born: str = "1986-04-09") -> dict[str, Any]:
    created = await api.post("/v1/persons", json=person_body(unit_id, name, born=born, sex="female"))
    assert created.status_code == 201, created.text
    person: dict[str, Any] = created.json()
    placement = {
        "section": "placements",
        "values": {"unit_name": "Chi cục Hải quan Gia Thụy", "post": "Kiểm tra viên hải quan"},
        "valid_from": "2010-07-01",
        "decision": DECISION,
    }
    recorded = await api.post(f"/v1/persons/{person['id']}/record", json={"entries": [placement]})
    assert recorded.status_code == 201, recorded.text
    return person


async def _log_in(page: Page, system: System, username: str, password: str | None = None) -> None:
    """Fills Keycloak's own login page, where the page asked for has sent the browser."""
    await expect(page.locator("#kc-login")).to_be_visible(timeout=WAIT_MS)
    assert page.url.startswith(system.infra.issuer), page.url
    await page.fill("#username", username)
    await page.fill("#password", password or system.passwords[username])
    await page.click("#kc-login")


@pytest.fixture(scope="module")
async def hanoi_and_hcm(system: System) -> dict[str, Any]:
    """A team under Hà Nội with two people, and one person in a team under Hồ Chí Minh."""
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        team = await _unit(api, system.unit_ids["HQHN"], "Đội kiểm tra trang web")
        nhung = await _person(api, team["id"], "Đặng Thị Hồng Nhung")
        binh = await _person(api, team["id"], "Trần Văn Bình", born="1979-11-23")
        far_team = await _unit(api, system.unit_ids["HQHCM"], "Đội trang web phía Nam")
        far = await _person(api, far_team["id"], "Lê Thị Phương Thảo")
    return {"team": team, "nhung": nhung, "binh": binh, "far": far, "far_team": far_team}


async def test_a_local_admin_finds_a_person_without_diacritics_reads_the_record_and_is_refused_elsewhere(
    system: System, hanoi_and_hcm: dict[str, Any]
) -> None:
    team, nhung, far = hanoi_and_hcm["team"], hanoi_and_hcm["nhung"], hanoi_and_hcm["far"]
    gateway = system.gateway_url
    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/units")
        await _log_in(page, system, "qthanoi")
        await expect(page).to_have_url(f"{gateway}/web/units", timeout=WAIT_MS)
        tree = page.locator("table.tree")
        await expect(tree).to_contain_text("Cục Hải quan thành phố Hà Nội")
        await expect(tree).to_contain_text(team["name"])
        await expect(tree).not_to_contain_text("Cục Hải quan Thành phố Hồ Chí Minh")
        await assert_accessible(page, shot="01-cay-don-vi")

        await tree.get_by_role("link", name=team["name"]).click()
        await expect(page.locator("h1")).to_have_text(team["name"])
        await expect(page.locator("#total")).to_have_text("2 người")
        staff = page.locator("table.staff")
        await expect(staff).to_contain_text("Trần Văn Bình")
        await expect(staff).to_contain_text("23/11/1979")
        await assert_accessible(page, shot="02-danh-sach-can-bo")
        await page.get_by_role("link", name="Đến tuổi nghỉ hưu").click()
        await expect(page.locator("h1")).to_have_text(f"Đến tuổi nghỉ hưu — {team['name']}", timeout=WAIT_MS)
        await assert_accessible(page)
        await page.go_back()
        await staff.get_by_role("link", name="Ngày sinh").click()
        await expect(page.locator("th[aria-sort=ascending]")).to_have_text("Ngày sinh", timeout=WAIT_MS)
        exported = await page.request.get(await page.get_by_role("link", name="CSV").get_attribute("href") or "")
        assert exported.status == 200
        assert exported.headers["content-type"].startswith("text/csv")
        rows = (await exported.body()).decode("utf-8-sig")
        assert "Trần Văn Bình" in rows
        assert "Đặng Thị Hồng Nhung" in rows

        # Filtered by a criterion of the search (R-PER-5): the list and its export; a bad value named.
        filters = page.locator("#filters")
        await filters.locator("summary").click()
        await page.get_by_label("Tuổi từ", exact=True).fill("41")
        await filters.get_by_role("button", name="Lọc").click()
        await expect(page.locator("#total")).to_have_text("1 người", timeout=WAIT_MS)
        await expect(staff).to_contain_text("Trần Văn Bình")
        await expect(page.locator("#filters summary")).to_contain_text("đang lọc theo 1 tiêu chí")
        await assert_accessible(page, shot="25-loc-danh-sach")
        narrowed = await page.request.get(await page.get_by_role("link", name="CSV").get_attribute("href") or "")
        narrowed_rows = (await narrowed.body()).decode("utf-8-sig")
        assert "Trần Văn Bình" in narrowed_rows
        assert "Đặng Thị Hồng Nhung" not in narrowed_rows
        await page.get_by_label("Tuổi từ", exact=True).fill("120")
        await filters.get_by_role("button", name="Lọc").click()
        await expect(page.locator("#faults")).to_contain_text("Tuổi từ: Phải từ 0 đến 100", timeout=WAIT_MS)
        await expect(page.get_by_label("Tuổi từ", exact=True)).to_have_attribute("aria-invalid", "true")
        await assert_accessible(page)
        await page.locator("#filters").get_by_role("link", name="Bỏ lọc").click()
        await expect(page.locator("#total")).to_have_text("2 người", timeout=WAIT_MS)

        await page.fill("#q", "dang thi hong")
        await page.click("form.search button")
        await expect(page.locator("#total")).to_have_text("1 người")
        await expect(staff).not_to_contain_text("Trần Văn Bình")
        await staff.get_by_role("link", name="Đặng Thị Hồng Nhung").click()

        await expect(page).to_have_url(f"{gateway}/web/persons/{nhung['id']}")
        await expect(page.locator("h1")).to_have_text("Đặng Thị Hồng Nhung")
        await expect(page.locator("dl.facts")).to_contain_text("09/04/1986")
        placements = page.locator("#section-placements")
        await expect(placements.locator("h2")).to_have_text("Quá trình công tác")
        await expect(placements).to_contain_text("01/07/2010")
        await expect(placements).to_contain_text("Kiểm tra viên hải quan")
        await expect(placements).to_contain_text("12/QĐ-HQHN ngày 20/06/2010")
        await expect(page.locator("#section-salary")).to_be_visible()
        await assert_accessible(page, shot="03-ho-so")

        refused = await page.goto(f"{gateway}/web/persons/{far['id']}")
        assert refused is not None
        assert refused.status == 404
        await expect(page.locator("h1")).to_have_text("Không tìm thấy")
        await expect(page.locator("main")).not_to_contain_text("Lê Thị Phương Thảo")
        await assert_accessible(page)

        no_token = await page.request.post(f"{gateway}/web/logout", form={"csrf_token": ""}, max_redirects=0)
        assert no_token.status == 403
        assert "Yêu cầu bị từ chối" in await no_token.text()
        await page.goto(f"{gateway}/web/")
        await expect(page.locator("#me-username")).to_have_text("qthanoi")

        await page.get_by_role("button", name="Đăng xuất").click()
        await expect(page).to_have_url(f"{gateway}/web/logged-out", timeout=WAIT_MS)
        await expect(page.locator("h1")).to_have_text("Bạn đã đăng xuất")
        await assert_accessible(page)
        await page.goto(f"{gateway}/web/units")
        await expect(page.locator("#kc-login")).to_be_visible(timeout=WAIT_MS)
        assert page.url.startswith(system.infra.issuer), "the Keycloak session ended with the logout"


async def test_the_system_admin_sees_the_whole_tree_and_a_local_officer_only_its_granted_sections(
    system: System, hanoi_and_hcm: dict[str, Any]
) -> None:
    gateway = system.gateway_url
    nhung, far = hanoi_and_hcm["nhung"], hanoi_and_hcm["far"]
    async with chromium() as browser:
        admin = await (await browser.new_context(bypass_csp=True)).new_page()
        await admin.goto(f"{gateway}/")
        await _log_in(admin, system, ADMIN)
        await expect(admin).to_have_url(f"{gateway}/web/", timeout=WAIT_MS)
        await expect(admin.locator("#me-tier")).to_have_text("Quản trị hệ thống")
        await expect(admin.locator("#me-unit")).to_have_text("Tổng cục Hải quan")
        await assert_accessible(admin)
        await admin.get_by_role("link", name="Cây đơn vị", exact=True).click()
        tree = admin.locator("table.tree")
        await expect(tree).to_contain_text("Tổng cục Hải quan")
        await expect(tree).to_contain_text("Cục Hải quan Thành phố Hồ Chí Minh")
        await expect(tree).to_contain_text(hanoi_and_hcm["team"]["name"])
        far_team = tree.locator(f"#unit-{far['unit_id']}")
        await expect(far_team.locator("td")).to_have_text(
            [hanoi_and_hcm["far_team"]["name"], hanoi_and_hcm["far_team"]["code"], "Chưa giao", "1", "—"]
        )
        await assert_accessible(admin)
        await admin.goto(f"{gateway}/web/persons/{far['id']}")
        await expect(admin.locator("h1")).to_have_text("Lê Thị Phương Thảo")

        officer_context = await browser.new_context()  # the pages as served: their CSP in force
        officer = await officer_context.new_page()
        await officer.goto(f"{gateway}/web/persons/{nhung['id']}")
        await _log_in(officer, system, "nhansu1.hanoi")
        await expect(officer).to_have_url(f"{gateway}/web/persons/{nhung['id']}", timeout=WAIT_MS)
        await expect(officer.locator("h1")).to_have_text("Đặng Thị Hồng Nhung")
        banner = officer.locator("header.top")
        assert await banner.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 79, 138)", (
            "the stylesheet is allowed by the pages' CSP"
        )
        await expect(officer.locator("#section-placements")).to_contain_text("Kiểm tra viên hải quan")
        await expect(officer.locator("#section-salary")).to_have_count(0)
        refused = await officer.goto(f"{gateway}/web/persons/{far['id']}")
        assert refused is not None
        assert refused.status == 404
        await expect(officer.locator("main")).not_to_contain_text("Lê Thị Phương Thảo")

        headers = refused.headers
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        session_cookies = [
            c for c in await officer_context.cookies(f"{gateway}/web/") if c["name"].startswith("qlcb_web")
        ]
        assert session_cookies
        assert all(c["httpOnly"] and c["sameSite"] == "Lax" and c["path"] == "/web" for c in session_cookies)


async def test_a_local_admin_adds_and_corrects_a_salary_step_through_the_form_and_sees_refusals_by_their_fields(
    system: System, hanoi_and_hcm: dict[str, Any]
) -> None:
    gateway = system.gateway_url
    binh = hanoi_and_hcm["binh"]
    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/persons/{binh['id']}")
        await _log_in(page, system, "qthanoi")
        await expect(page.locator("h1")).to_have_text("Trần Văn Bình", timeout=WAIT_MS)
        salary = page.locator("#section-salary")
        await expect(salary).to_contain_text("Chưa có mục nào.")
        await salary.get_by_role("link", name="Thêm mục: Diễn biến lương (ngạch, bậc, hệ số)").click()
        await expect(page.locator("h1")).to_have_text("Thêm mục: Diễn biến lương (ngạch, bậc, hệ số)")
        await assert_accessible(page)

        await page.get_by_label("Từ ngày (ngày có hiệu lực)").fill("2024-07-01")
        await page.get_by_label("Mã ngạch").select_option("01.003")
        await page.get_by_label(re.compile(r"^Bậc\b")).fill("25")
        await page.get_by_label("Hệ số lương").fill("2,50")
        await page.get_by_role("button", name="Ghi vào hồ sơ").click()
        await expect(page.locator("#f-values-step-error")).to_have_text("Phải từ 1 đến 20")
        await expect(page.locator("#f-decision-number-error")).to_have_text("Bắt buộc nhập")
        await expect(page.get_by_label("Mã ngạch")).to_have_value("01.003")
        await assert_accessible(page, shot="04-bieu-mau-bao-loi")

        await page.get_by_label(re.compile(r"^Bậc\b")).fill("1")
        await page.get_by_label("Số quyết định").fill("31/QĐ-HQHN")
        await page.get_by_label("Ngày quyết định").fill("2024-06-20")
        await page.get_by_role("button", name="Ghi vào hồ sơ").click()
        await expect(page.locator("#f-values-coefficient-error")).to_have_text(
            "Hệ số 2.50 không khớp bảng lương: ngạch 01.003 bậc 1 là 2.34"
        )
        await expect(page.locator("#f-values-step-error")).to_have_count(0)

        await page.get_by_label("Hệ số lương").fill("2,34")
        await page.get_by_role("button", name="Ghi vào hồ sơ").click()
        await expect(page).to_have_url(f"{gateway}/web/persons/{binh['id']}#section-salary", timeout=WAIT_MS)
        await expect(salary).to_contain_text("01/07/2024")
        await expect(salary).to_contain_text("2.34")
        await expect(salary).to_contain_text("31/QĐ-HQHN ngày 20/06/2024")

        await salary.get_by_role("link", name="Đính chính mục 1").click()
        await expect(page.locator("h1")).to_have_text("Đính chính mục: Diễn biến lương (ngạch, bậc, hệ số)")
        await expect(page.get_by_label("Hệ số lương")).to_have_value("2.34")
        await assert_accessible(page)
        await page.get_by_label(re.compile(r"^Bậc\b")).fill("2")
        await page.get_by_label("Hệ số lương").fill("2,67")
        await page.get_by_role("button", name="Ghi bản đính chính").click()
        await expect(page).to_have_url(f"{gateway}/web/persons/{binh['id']}#section-salary", timeout=WAIT_MS)
        await expect(salary).to_contain_text("2.67")
        await expect(salary).not_to_contain_text("2.34")
        await salary.get_by_role("link", name="Lịch sử mục 1").click()
        await expect(page.locator("#version-1 h2")).to_have_text("Phiên bản 1: Ghi nhận", timeout=WAIT_MS)
        await expect(page.locator("#version-1")).to_contain_text("2.34")
        await expect(page.locator("#version-2 h2")).to_have_text("Phiên bản 2: Đính chính")
        await expect(page.locator("#version-2")).to_contain_text("2.67")
        await assert_accessible(page)
        await page.go_back()

        await page.get_by_label("Xem hồ sơ tại ngày").fill("2024-06-30")
        await page.get_by_role("button", name="Xem", exact=True).click()
        await expect(page.locator("#as-of-shown")).to_contain_text("Hồ sơ tại ngày 30/06/2024")
        await expect(salary).to_contain_text("Chưa có mục nào.")
        await assert_accessible(page)
        resume_link = page.get_by_role("link", name="PDF", exact=True)
        resume_url = f"{gateway}/web/persons/{binh['id']}/resume.pdf?as_of=2024-06-30"
        assert await resume_link.get_attribute("href") == resume_url
        resume = await page.request.get(resume_url)
        assert resume.status == 200
        assert resume.headers["content-type"] == "application/pdf"
        assert (await resume.body()).startswith(b"%PDF-")

    async with api_client(gateway, system.token(ADMIN)) as api:
        entries = (await api.get(f"/v1/persons/{binh['id']}/salary")).json()
    assert [(e["valid_from"], e["values"]["rank_code"], e["values"]["coefficient"], e["version"]) for e in entries] == [
        ("2024-07-01", "01.003", "2.67", 2)
    ], "one entry, recorded once and corrected once: the refused attempts left nothing"


async def test_an_officer_sends_a_record_and_the_receiving_units_admin_accepts_it_in_a_second_login(
    system: System, hanoi_and_hcm: dict[str, Any]
) -> None:
    """Hà Nội's personnel officer sends one person from the record page (a missing decision number
    first, said by its field), and another to a unit outside its tree, which it withdraws with its
    reason; Hà Nội's admin, logged in after, declines another transfer with its reason and accepts the
    one sent, reached from the home page's count."""
    gateway = system.gateway_url
    async with api_client(gateway, system.token(ADMIN)) as api:
        receiving = await _unit(api, system.unit_ids["HQHN"], "Đội tiếp nhận trang web")
        moving = await _person(api, hanoi_and_hcm["team"]["id"], "Hoàng Văn Chuyển", born="1991-05-05")
        staying = await _person(api, hanoi_and_hcm["team"]["id"], "Vũ Thị Ở Lại", born="1992-06-06")
        leaving = await _person(api, hanoi_and_hcm["team"]["id"], "Đỗ Văn Đi Xa", born="1990-03-03")
        body = {
            "person_id": staying["id"],
            "to_unit_id": receiving["id"],
            "effective_date": "2026-12-01",
            "decision": "77/QĐ-HQHN",
        }
        response = await api.post("/v1/transfers", json=body)
        assert response.status_code == 201, response.text
        declined_id = response.json()["id"]

    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/persons/{moving['id']}")
        await _log_in(page, system, "nhansu1.hanoi")
        await page.get_by_role("link", name="Điều động sang đơn vị khác").click()
        await expect(page.locator("h1")).to_have_text("Điều động: Hoàng Văn Chuyển", timeout=WAIT_MS)
        await assert_accessible(page)
        await page.get_by_label("Đơn vị nhận").select_option(label=f"{receiving['name']} ({receiving['code']})")
        await page.get_by_label("Ngày hiệu lực").fill("2026-12-01")
        await page.get_by_role("button", name="Gửi hồ sơ điều động").click()
        await expect(page.locator("#f-decision-error")).to_have_text("Bắt buộc nhập", timeout=WAIT_MS)
        await assert_accessible(page)
        await page.get_by_label("Số quyết định điều động").fill("78/QĐ-HQHN")
        await page.get_by_role("button", name="Gửi hồ sơ điều động").click()
        await expect(page.locator("h1")).to_have_text(f"Điều động — {hanoi_and_hcm['team']['name']}", timeout=WAIT_MS)
        sent_row = page.locator("#outgoing tbody tr", has_text="Hoàng Văn Chuyển")
        await expect(sent_row).to_contain_text("Chờ tiếp nhận")
        await expect(sent_row).to_contain_text("78/QĐ-HQHN")
        sent_id = (await sent_row.get_attribute("id") or "").removeprefix("outgoing-")

        # Another Cục's unit, outside Hà Nội's tree, found in the sector's directory by its code.
        far_team = hanoi_and_hcm["far_team"]
        await page.goto(f"{gateway}/web/persons/{leaving['id']}/transfer")
        await page.get_by_label("Tìm đơn vị ngoài phạm vi của bạn (mã hoặc tên)").fill(far_team["code"].lower())
        await page.get_by_role("button", name="Tìm đơn vị").click()
        await expect(page.locator("#find-said")).to_contain_text("Tìm thấy 1 đơn vị", timeout=WAIT_MS)
        await expect(page.get_by_label("Đơn vị nhận")).to_have_value(far_team["id"])
        await assert_accessible(page)
        await page.get_by_label("Ngày hiệu lực").fill("2026-12-01")
        await page.get_by_label("Số quyết định điều động").fill("80/QĐ-TCHQ")
        await page.get_by_role("button", name="Gửi hồ sơ điều động").click()
        far_row = page.locator("#outgoing tbody tr", has_text="Đỗ Văn Đi Xa")
        await expect(far_row).to_contain_text("Chờ tiếp nhận", timeout=WAIT_MS)
        # Sent to the wrong Cục: the sender withdraws it with its reason.
        await far_row.get_by_label("Lý do thu hồi").fill("Gửi nhầm đơn vị nhận")
        await far_row.get_by_role("button", name="Thu hồi").click()
        await expect(far_row).to_contain_text("Đã thu hồi: Gửi nhầm đơn vị nhận", timeout=WAIT_MS)

    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/")
        await _log_in(page, system, "qthanoi")
        waiting = page.locator("#waiting")
        await expect(waiting).to_contain_text("hồ sơ điều động chờ tiếp nhận", timeout=WAIT_MS)
        await assert_accessible(page)
        await waiting.get_by_role("link", name="hồ sơ điều động chờ tiếp nhận").click()
        await expect(page.locator("h1")).to_have_text("Điều động — Cục Hải quan thành phố Hà Nội")
        await expect(page.locator(f"#incoming-{sent_id}")).to_contain_text(receiving["name"])
        await expect(page.locator(f"#outgoing-{sent_id}")).to_contain_text(receiving["name"])
        await page.goto(f"{gateway}/web/units/{receiving['id']}")
        await page.get_by_role("link", name="Điều động đến và đi khỏi đơn vị").click()
        await expect(page.locator("h1")).to_have_text(f"Điều động — {receiving['name']}", timeout=WAIT_MS)
        declined_row = page.locator(f"#incoming-{declined_id}")
        await expect(declined_row).to_contain_text("Chờ tiếp nhận")
        await expect(declined_row).to_contain_text(hanoi_and_hcm["team"]["name"])
        await assert_accessible(page, shot="05-dieu-dong")

        await declined_row.get_by_label("Lý do từ chối").fill("Đơn vị đã đủ biên chế năm 2026")
        await declined_row.get_by_role("button", name="Từ chối tiếp nhận").click()
        await expect(declined_row).to_contain_text("Bị từ chối: Đơn vị đã đủ biên chế năm 2026", timeout=WAIT_MS)
        # A form posted by hand for someone outside Hà Nội (Hồ Chí Minh), with the session's own
        # CSRF token: personnel refuses it as if the record did not exist, and nothing is sent.
        csrf = await page.locator("input[name=csrf_token]").first.get_attribute("value")
        forged = await page.request.post(
            f"{gateway}/web/persons/{hanoi_and_hcm['far']['id']}/transfer",
            form={
                "csrf_token": csrf or "",
                "to_unit_id": receiving["id"],
                "effective_date": "2026-12-01",
                "decision": "79/QĐ-HQHN",
            },
            max_redirects=0,
        )
        assert forged.status == 404
        accepted_row = page.locator(f"#incoming-{sent_id}")
        await accepted_row.get_by_role("button", name="Tiếp nhận", exact=True).click()
        await expect(accepted_row).to_contain_text("Đã tiếp nhận", timeout=WAIT_MS)
        await expect(accepted_row.get_by_role("button")).to_have_count(0)
        await assert_accessible(page)

    async with api_client(gateway, system.token(ADMIN)) as api:
        units = {p["full_name"]: (await api.get(f"/v1/persons/{p['id']}")).json()["unit_id"] for p in (moving, staying)}
        sent = [t for t in (await api.get(f"/v1/units/{receiving['id']}/transfers")).json() if t["id"] == sent_id]
        far_unit = (await api.get(f"/v1/persons/{hanoi_and_hcm['far']['id']}")).json()["unit_id"]
        far_sent = (await api.get(f"/v1/units/{far_unit}/transfers", params={"direction": "outgoing"})).json()
    assert units == {"Hoàng Văn Chuyển": receiving["id"], "Vũ Thị Ở Lại": hanoi_and_hcm["team"]["id"]}
    assert far_unit == hanoi_and_hcm["far_team"]["id"]
    assert far_sent == [], "the forged form sent nothing"
    async with api_client(gateway, system.token(ADMIN)) as api:
        far_incoming = (await api.get(f"/v1/units/{hanoi_and_hcm['far_team']['id']}/transfers")).json()
    assert [(t["person_id"], t["status"]) for t in far_incoming if t["decision"] == "80/QĐ-TCHQ"] == [
        (leaving["id"], "withdrawn")
    ], "sent to the unit outside, then withdrawn"
    assert [(t["decision"], t["effective_date"], t["status"]) for t in sent] == [
        ("78/QĐ-HQHN", "2026-12-01", "accepted")
    ]


async def test_the_session_of_an_account_disabled_in_keycloak_ends_at_its_next_page(system: System) -> None:
    """An account disabled in Keycloak's own console (no logout of its sessions asked): its next
    page goes back to Keycloak's login, though the page's access token has minutes left."""
    username = unique_code("web.tat").lower()
    account = Account(username, DEMO_PASSWORD, "unit-leader", "/TCHQ/HQHN", "Phan Văn Tạm")
    admin = system.infra.keycloak_admin()
    user_id = await asyncio.to_thread(ensure_user, admin, account)
    gateway = system.gateway_url
    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/units")
        await _log_in(page, system, username, DEMO_PASSWORD)
        await expect(page).to_have_url(f"{gateway}/web/units", timeout=WAIT_MS)
        await expect(page.locator("table.tree")).to_contain_text("Cục Hải quan thành phố Hà Nội")

        await asyncio.to_thread(admin.update_user, user_id, {"enabled": False})
        await page.goto(f"{gateway}/web/units")
        await expect(page.locator("#kc-login")).to_be_visible(timeout=WAIT_MS)
        assert page.url.startswith(system.infra.issuer), page.url
        await expect(page.locator("table.tree")).to_have_count(0)


async def test_a_local_admin_records_a_decision_for_two_of_a_units_people_then_cancels_it_which_retracts_it(
    system: System, hanoi_and_hcm: dict[str, Any]
) -> None:
    gateway = system.gateway_url
    number = f"{unique_code('')[-5:]}/QĐ-HQHN"
    async with api_client(gateway, system.token(ADMIN)) as api:
        team = await _unit(api, system.unit_ids["HQHN"], "Đội quyết định trang web")
        people = [await _person(api, team["id"], name) for name in ("Trịnh Văn Khen", "Mai Thị Thưởng")]

    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/units/{team['id']}")
        await _log_in(page, system, "qthanoi")
        await page.get_by_role("link", name="Quyết định về cán bộ của đơn vị").click()
        await page.get_by_role("link", name="Ghi quyết định mới").click()
        await assert_accessible(page)
        await page.get_by_label("Loại quyết định").select_option(label="Quyết định khen thưởng")
        await page.get_by_role("button", name="Tiếp tục").click()
        await assert_accessible(page)
        await page.get_by_label("Số quyết định").fill(number)
        await page.get_by_role("button", name="Ghi quyết định").click()
        await expect(page.locator("#f-decision_date-error")).to_have_text("Bắt buộc nhập", timeout=WAIT_MS)
        await expect(page.locator("#people-error")).to_have_text("Chọn ít nhất một người")
        await expect(page.get_by_label("Số quyết định")).to_have_value(number)
        await page.get_by_label("Ngày ký").fill("2025-02-20")
        await page.get_by_label("Ngày có hiệu lực").fill("2025-03-01")
        await page.get_by_label("Cơ quan ban hành").fill("Cục Hải quan thành phố Hà Nội")
        await page.locator("#f-signer").fill("Nguyễn Văn Ký")
        await page.get_by_label("Chức vụ người ký").fill("Cục trưởng")
        await page.get_by_label("Trích yếu").fill("Khen thưởng năm 2024")
        await page.get_by_label("Hình thức khen thưởng").select_option(label="Giấy khen (GIAY_KHEN)")
        await page.get_by_label("Thành tích").fill("Hoàn thành xuất sắc nhiệm vụ năm 2024")
        await page.get_by_label("Trịnh Văn Khen").check()
        await page.get_by_label("Mai Thị Thưởng").check()
        await assert_accessible(page, shot="15-ghi-quyet-dinh")
        # Each one's achievement of their own: a row per person, first filled with what was typed.
        await page.get_by_role("button", name="Nhập riêng từng người").click()
        own = page.get_by_label("Thành tích — Mai Thị Thưởng")
        await expect(own).to_have_value("Hoàn thành xuất sắc nhiệm vụ năm 2024", timeout=WAIT_MS)
        await own.fill("Phát hiện vụ buôn lậu lớn tại cửa khẩu")
        await assert_accessible(page, shot="20-quyet-dinh-rieng-tung-nguoi")
        await page.get_by_role("button", name="Ghi quyết định").click()
        await expect(page.locator("#decision-state")).to_contain_text("Đã áp dụng", timeout=WAIT_MS)
        for name, achievement in (
            ("Trịnh Văn Khen", "Hoàn thành xuất sắc nhiệm vụ năm 2024"),
            ("Mai Thị Thưởng", "Phát hiện vụ buôn lậu lớn tại cửa khẩu"),
        ):
            listed = page.locator("#people tr", has_text=name)
            await expect(listed).to_contain_text("Giấy khen (GIAY_KHEN)")
            await expect(listed).to_contain_text(achievement)
        await expect(page.locator("#decision-recorded")).to_contain_text("(qthanoi)")
        await assert_accessible(page)

        await page.goto(f"{gateway}/web/units/{team['id']}/decisions")
        await expect(page.locator("table.decisions")).to_contain_text(number, timeout=WAIT_MS)
        row = page.locator("table.decisions tbody tr", has_text=number)
        await expect(row).to_contain_text("Đã áp dụng")
        await expect(row).to_contain_text("01/03/2025")
        await assert_accessible(page, shot="06-quyet-dinh")
        await row.get_by_role("link", name=number).click()
        await expect(page.locator("#people")).to_contain_text("Trịnh Văn Khen", timeout=WAIT_MS)
        async with api_client(gateway, system.token(ADMIN)) as api:
            rewards = [(await api.get(f"/v1/persons/{p['id']}/rewards")).json() for p in people]
        assert [[r["values"]["form"] for r in found] for found in rewards] == [["GIAY_KHEN"], ["GIAY_KHEN"]]

        await page.get_by_role("button", name="Hủy quyết định").click()
        await expect(page.locator("#f-reason-error")).to_have_text("Bắt buộc nhập", timeout=WAIT_MS)
        await page.get_by_label("Lý do hủy").fill("Trùng với quyết định khen thưởng đã có")
        await page.get_by_label("Số quyết định hủy bỏ (nếu có)").fill("99/QĐ-HQHN")
        await page.get_by_role("button", name="Hủy quyết định").click()
        await expect(page.locator("#decision-state")).to_contain_text("Đã hủy", timeout=WAIT_MS)
        await expect(page.locator("#decision-state")).to_contain_text("theo quyết định 99/QĐ-HQHN")
        await expect(page.get_by_role("button", name="Hủy quyết định")).to_have_count(0)
        await assert_accessible(page)
        await page.goto(f"{gateway}/web/persons/{people[0]['id']}/decisions")
        await expect(page.locator("h1")).to_contain_text("Trịnh Văn Khen", timeout=WAIT_MS)
        await assert_accessible(page)

    async with api_client(gateway, system.token(ADMIN)) as api:
        rewards = [(await api.get(f"/v1/persons/{p['id']}/rewards")).json() for p in people]
    assert rewards == [[], []], "the cancelled decision's entries are retracted"


async def test_a_local_admin_reads_who_read_and_changed_a_record_in_the_audit_trail(
    system: System, hanoi_and_hcm: dict[str, Any]
) -> None:
    nhung = hanoi_and_hcm["nhung"]
    gateway = system.gateway_url
    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/persons/{nhung['id']}")
        await _log_in(page, system, "qthanoi")
        await page.get_by_role("link", name="Nhật ký truy cập, thay đổi hồ sơ").click()
        await expect(page.locator("#of-person")).to_contain_text("Đặng Thị Hồng Nhung", timeout=WAIT_MS)
        trail = page.locator("table.audit")
        await expect(trail).to_contain_text("qthanoi")
        await expect(trail).to_contain_text("Xem")
        await assert_accessible(page)

        await page.get_by_label("Thao tác").select_option(label="Tạo")
        await page.get_by_role("button", name="Tìm", exact=True).click()
        await expect(trail.locator("tbody tr").first).to_contain_text("Tạo", timeout=WAIT_MS)
        await expect(trail).to_contain_text(ADMIN)
        await expect(trail).not_to_contain_text("qthanoi")

        await page.get_by_label("Từ ngày").fill("2026-12-02")
        await page.get_by_label("Đến ngày (gồm cả ngày này)").fill("2026-12-01")
        await page.get_by_role("button", name="Tìm", exact=True).click()
        await expect(page.locator("#f-occurred_to-error")).to_have_text("Trước ngày bắt đầu", timeout=WAIT_MS)
        await assert_accessible(page)


REPORT_INDICATORS: list[dict[str, Any]] = [
    {"code": "so_bien_che", "label": "Số biên chế được giao", "kind": "number", "unit": "người", "required": True},
    {"code": "ty_le_nu", "label": "Tỷ lệ nữ", "kind": "percent"},
    {
        "code": "danh_sach",
        "label": "Cán bộ nghỉ hưu trong kỳ",
        "kind": "table",
        "max_rows": 5,
        "columns": [
            {"code": "ho_ten", "label": "Họ và tên", "kind": "text", "required": True},
            {"code": "so_nam", "label": "Số năm công tác", "kind": "number", "integer": True, "max": 60},
        ],
    },
]


async def _thematic_regime(system: System, issuer_id: str, name: str, **regime: Any) -> dict[str, Any]:
    """A thematic regime of REPORT_INDICATORS issued by the unit (by the sector's HR)."""
    body = {
        "code": unique_code("WEB-"),
        "name": name,
        "kind": "thematic",
        "legal_basis": "Quyết định 239/QĐ-UBND ngày 01/12/2025",
        "issuer_unit_id": issuer_id,
        "deadline_days": 0,
        "indicators": REPORT_INDICATORS,
        **regime,
    }
    async with api_client(system.gateway_url, system.token("vutccb")) as api:
        made = await api.post("/v1/report-regimes", json=body)
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


async def _thematic_period(
    system: System, issuer_id: str, name: str, period: str, **regime: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """That regime and its period opened with a deadline two months ahead: the regime and what opening
    the period answered."""
    made = await _thematic_regime(system, issuer_id, name, **regime)
    deadline = (vietnam_today() + timedelta(days=60)).isoformat()
    async with api_client(system.gateway_url, system.token("vutccb")) as api:
        window = {"period": period, "starts_on": "2026-01-01", "ends_on": "2026-06-30", "deadline": deadline}
        opened = await api.post(f"/v1/report-regimes/{made['id']}/periods", json=window)
        assert opened.status_code == 201, opened.text
    return made, opened.json()


async def test_a_unit_fills_and_sends_its_report_and_the_level_above_returns_then_approves_it(system: System) -> None:
    gateway = system.gateway_url
    async with api_client(gateway, system.token(ADMIN)) as api:
        above = await _unit(api, system.unit_ids["HQHN"], "Đội tổng hợp báo cáo web")
        team = await _unit(api, above["id"], "Tổ báo cáo web")
        for unit in (above, team):
            await wait_for_headcount(api, unit["id"], 0)
    regime = await _thematic_regime(system, above["id"], "Báo cáo chuyên đề về biên chế")
    async with chromium() as browser:
        # The sector's HR opens the period on the regime's page: a deadline before the data's end is
        # refused beside it, then the period is handed to the one unit below the issuer.
        issuer = await (await browser.new_context(bypass_csp=True)).new_page()
        await issuer.goto(f"{gateway}/web/reports/{regime['id']}")
        await _log_in(issuer, system, "vutccb")
        opening = issuer.locator("#open-period")
        await opening.get_by_label("Tên kỳ").fill("CD-2026")
        await opening.get_by_label("Số liệu từ ngày").fill("2026-01-01")
        await opening.get_by_label("Số liệu đến ngày").fill("2026-06-30")
        await opening.get_by_label("Hạn gửi").fill("2026-06-15")
        await opening.get_by_role("button", name="Mở kỳ").click()
        await expect(issuer.locator("#f-deadline-error")).to_have_text("Hạn gửi trước ngày cuối của số liệu")
        await expect(issuer.locator("#periods")).to_contain_text("Chưa mở kỳ nào.")
        deadline = vietnam_today() + timedelta(days=60)
        await issuer.locator("#open-period").get_by_label("Hạn gửi").fill(deadline.isoformat())
        await issuer.locator("#open-period").get_by_role("button", name="Mở kỳ").click()
        await expect(issuer.locator("#opened")).to_contain_text(
            f"giao báo cáo cho 1 đơn vị thực hiện, hạn gửi {deadline:%d/%m/%Y}", timeout=WAIT_MS
        )
        await assert_accessible(issuer, shot="19-mo-ky-bao-cao")
        period_id = str(await issuer.locator("#opened a").get_attribute("href")).rsplit("/", 1)[-1]

        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/")
        await _log_in(page, system, "qthanoi")
        async with api_client(gateway, system.token("qthanoi")) as api:
            waiting = (await api.get("/v1/report-waiting", params={"limit": 1})).json()
        assert waiting["to_send_total"] >= 1
        to_send = page.locator("#reports-to-send")
        await expect(to_send).to_have_text(f"{waiting['to_send_total']} báo cáo phải gửi", timeout=WAIT_MS)
        late = page.locator("#late-entries")
        await expect(late).to_contain_text("mục hồ sơ nhập quá hạn trong 30 ngày qua")
        await late.click()
        await expect(page.locator("h1")).to_have_text("Nhập dữ liệu quá hạn — Cục Hải quan thành phố Hà Nội")
        await expect(page.locator("#limits")).to_contain_text("ngày làm việc", timeout=WAIT_MS)
        await assert_accessible(page)
        await page.go_back()
        await to_send.click()
        await expect(page.locator("#to-send h2")).to_have_text(f"Phải gửi ({waiting['to_send_total']})")
        await assert_accessible(page)
        await page.get_by_role("navigation", name="Chính").get_by_role("link", name="Báo cáo").click()
        listed = page.locator(f"#regime-{regime['id']}")
        await expect(listed).to_contain_text("Chuyên đề · Quyết định 239/QĐ-UBND", timeout=WAIT_MS)
        await assert_accessible(page)
        await listed.get_by_role("link", name="CD-2026").click()
        await expect(page.locator("h1")).to_have_text("Báo cáo chuyên đề về biên chế — kỳ CD-2026")
        await expect(page.locator("#expected")).to_have_text("1")
        await expect(page.locator("table.reports")).to_contain_text("Chưa gửi")
        await expect(page.locator("#states-chart title")).to_contain_text("Chưa gửi 1")
        await assert_accessible(page, shot="21-ky-bao-cao")

        await page.locator("table.reports").get_by_role("link", name="Tổ báo cáo web").click()
        await expect(page.locator("#report-state")).to_have_text("Chưa gửi")
        await page.get_by_label("Số biên chế được giao (người)").fill("mười hai")
        await page.get_by_role("button", name="Lưu", exact=True).click()
        await expect(page.locator("#f-values-so_bien_che-error")).to_have_text("Phải là một số, ví dụ 12 hoặc 4,5")
        await assert_accessible(page, shot="07-bao-cao-bao-loi")
        await page.get_by_label("Số biên chế được giao (người)").fill("12")
        await page.get_by_label("Tỷ lệ nữ").fill("41,5")
        await page.get_by_label("Cán bộ nghỉ hưu trong kỳ, dòng 2: Họ và tên").fill("Nguyễn Văn Hưu")
        await page.get_by_label("Cán bộ nghỉ hưu trong kỳ, dòng 2: Số năm công tác").fill("61")
        await page.get_by_role("button", name="Lưu và gửi lên cấp duyệt").click()
        # Reports refuses the first row it is given: the page names the second input row, which held it.
        await expect(page.locator("[id='f-values-danh_sach[2]-so_nam-error']")).to_have_text("Không được lớn hơn 60")
        await expect(page.get_by_label("Cán bộ nghỉ hưu trong kỳ, dòng 2: Họ và tên")).to_have_value("Nguyễn Văn Hưu")
        await page.get_by_label("Cán bộ nghỉ hưu trong kỳ, dòng 2: Số năm công tác").fill("34")
        await page.get_by_role("button", name="Lưu và gửi lên cấp duyệt").click()
        await expect(page.locator("#report-state")).to_have_text("Đã gửi, chờ duyệt", timeout=WAIT_MS)
        await expect(page.locator("#report-values")).to_contain_text("41,5%")
        await expect(page.locator("#report-values")).to_contain_text("Nguyễn Văn Hưu")
        await assert_accessible(page, shot="08-bao-cao-da-gui")
        report_url = page.url

        await page.get_by_role("button", name="Trả lại báo cáo").click()
        await expect(page.locator("#reason-return-error")).to_have_text("Cần ghi lý do trả lại")
        await page.get_by_label("Lý do trả lại").fill("Thiếu số liệu tỷ lệ nữ của quý II")
        await page.get_by_role("button", name="Trả lại báo cáo").click()
        await expect(page.locator("#report-state")).to_have_text("Bị trả lại", timeout=WAIT_MS)
        await expect(page.locator("#returned-reason")).to_have_text("Thiếu số liệu tỷ lệ nữ của quý II")
        await expect(page.get_by_label("Tỷ lệ nữ")).to_have_value("41,5")
        await page.get_by_label("Tỷ lệ nữ").fill("42")
        await page.get_by_role("button", name="Lưu và gửi lên cấp duyệt").click()
        await expect(page.locator("#report-state")).to_have_text("Đã gửi, chờ duyệt", timeout=WAIT_MS)
        # Four eyes: Hà Nội's admin sent it, so the sector's HR, also over the unit, approves it.
        await expect(page.locator("#submitted")).to_contain_text("(qthanoi)")
        await expect(page.locator("#prepared")).to_have_text("qthanoi")
        await expect(page.locator("#steps")).to_contain_text("một tài khoản khác của cấp trên duyệt")
        await expect(page.get_by_role("button", name="Duyệt báo cáo")).to_have_count(0)
        await issuer.goto(report_url)
        await issuer.get_by_role("button", name="Duyệt báo cáo").click()
        await expect(issuer.locator("#report-state")).to_have_text("Đã duyệt", timeout=WAIT_MS)
        await page.reload()
        await expect(page.locator("#report-state")).to_have_text("Đã duyệt", timeout=WAIT_MS)
        await expect(page.locator("#log")).to_contain_text("Thiếu số liệu tỷ lệ nữ của quý II")
        await expect(page.get_by_role("button", name="Mở lại để đính chính")).to_be_visible()
        await assert_accessible(page)

        far = await (await browser.new_context(bypass_csp=True)).new_page()
        await far.goto(report_url)
        await _log_in(far, system, "thutruong.hcm")
        await expect(far.locator("h1")).to_have_text("Không có quyền", timeout=WAIT_MS)
        await expect(far.locator("main")).not_to_contain_text("Nguyễn Văn Hưu")
        # The steps posted by hand with that head's own session and CSRF token: refused, nothing done.
        await far.goto(f"{gateway}/web/")
        csrf = await far.locator("input[name=csrf_token]").first.get_attribute("value")
        async with api_client(gateway, system.token("vutccb")) as api:
            [approved] = (await api.get(f"/v1/report-periods/{period_id}/assignments")).json()["items"]
        for step in ("reopen", "return", "approve"):
            forged = await far.request.post(
                f"{gateway}/web/report-assignments/{approved['id']}/{step}",
                form={"csrf_token": csrf or "", "reason": "Sửa hộ", "version": str(approved["version"])},
                max_redirects=0,
            )
            assert forged.status in (403, 404), (step, forged.status)

    async with api_client(gateway, system.token("vutccb")) as api:
        [report] = (await api.get(f"/v1/report-periods/{period_id}/assignments")).json()["items"]
    assert (report["state"], report["version"]) == ("approved", approved["version"])
    assert report["values"] == {
        "so_bien_che": 12,
        "ty_le_nu": 42,
        "danh_sach": [{"ho_ten": "Nguyễn Văn Hưu", "so_nam": 34}],
    }, "the refused attempts left nothing; the blank first row was not saved"


async def test_the_system_admin_backs_up_drills_and_asks_a_restore_that_a_second_admin_must_confirm(
    system: System,
) -> None:
    gateway = system.gateway_url
    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/")
        await _log_in(page, system, ADMIN)
        await page.get_by_role("navigation", name="Chính").get_by_role("link", name="Sao lưu").click()
        await expect(page.locator("h1")).to_have_text("Sao lưu và phục hồi", timeout=WAIT_MS)
        await page.get_by_role("button", name="Sao lưu ngay mọi kho").click()
        await expect(page).to_have_url(re.compile(r"/web/backups#set-"), timeout=120_000)
        made = page.locator(f"#{page.url.rsplit('#', 1)[1]}")
        await expect(made).to_contain_text("Hoàn tất, đã kiểm tra")
        await expect(made).to_contain_text("personnel")
        await expect(page.locator("#last-good")).to_contain_text("(0 giờ trước)")
        await assert_accessible(page, shot="09-sao-luu")

        await page.get_by_role("button", name="Diễn tập phục hồi ngay").click()
        await expect(page).to_have_url(re.compile(r"/web/backups#drill-"), timeout=120_000)
        await expect(page.locator(f"#{page.url.rsplit('#', 1)[1]}")).to_contain_text("Đạt: mọi phần phục hồi và khớp")

        await page.get_by_role("button", name="Gửi yêu cầu phục hồi").click()
        await expect(page.locator("#f-reason-error")).to_have_text("Bắt buộc nhập")
        suffix = f"web{unique_code('').lower()}"
        await page.get_by_label("Bộ sao lưu").select_option(index=1)
        await page.get_by_label("Hậu tố tên CSDL mới (chữ thường, số, _)").fill(suffix)
        await page.get_by_label("Lý do phục hồi").fill("Kiểm tra dữ liệu sau sự cố ổ đĩa")
        await page.get_by_role("button", name="Gửi yêu cầu phục hồi").click()
        await expect(page).to_have_url(re.compile(r"/web/backups#restore-"), timeout=WAIT_MS)
        asked = page.locator(f"#{page.url.rsplit('#', 1)[1]}")
        await expect(asked).to_contain_text("Chờ quản trị viên thứ hai xác nhận")
        await assert_accessible(page)
        await asked.get_by_role("button", name="Xác nhận và phục hồi").click()
        await expect(page.locator("#faults")).to_be_visible(timeout=WAIT_MS)
        await expect(asked).to_contain_text("Chờ quản trị viên thứ hai xác nhận")
        await asked.get_by_role("button", name="Hủy yêu cầu").click()
        await expect(asked).to_contain_text("Đã hủy hoặc hết hạn", timeout=WAIT_MS)

        officer = await (await browser.new_context(bypass_csp=True)).new_page()
        await officer.goto(f"{gateway}/web/backups")
        await _log_in(officer, system, "vutccb")
        await expect(officer.locator("h1")).to_have_text("Không có quyền", timeout=WAIT_MS)
        # Posted by hand with the officer's own session and CSRF token: refused, no set nor drill made.
        await officer.goto(f"{gateway}/web/")
        csrf = await officer.locator("input[name=csrf_token]").first.get_attribute("value")
        async with api_client(gateway, system.token(ADMIN)) as api:
            before = [
                {x["id"] for x in (await api.get(f"/v1/{listed}")).json()} for listed in ("backup-sets", "drills")
            ]
            for action in ("set", "drill"):
                forged = await officer.request.post(
                    f"{gateway}/web/backups/{action}", form={"csrf_token": csrf or ""}, max_redirects=0
                )
                assert forged.status == 403, (action, forged.status)
            after = [{x["id"] for x in (await api.get(f"/v1/{listed}")).json()} for listed in ("backup-sets", "drills")]
            assert after == before


async def test_a_unit_head_consents_to_an_account_request_and_the_admin_who_filed_it_may_only_reject_it(
    system: System,
) -> None:
    body = {
        "holder_name": "Hồ Thị Tài Khoản",
        "holder_email": f"tk.{unique_code('').lower()}@haiquan.example",
        "unit_path": "/TCHQ/HQHCM",
        "division": "Phòng Tổ chức cán bộ",
        "position": "Chuyên viên",
        "phone": "0912345678",
        "account_types": ["local-officer"],
        "reply_name": "Nguyễn Văn Quản",
        "reply_unit": "Cục Công nghệ thông tin",
        "reply_email": "quantri@haiquan.example",
        "reply_phone": "0912345679",
        "requester_name": "Nguyễn Văn Quản",
    }
    async with httpx.AsyncClient(
        base_url=system.services.identity_url, headers={"Authorization": f"Bearer {system.token(ADMIN)}"}, timeout=60
    ) as identity:
        filed = await identity.post("/v1/account-requests", json=body)
    assert filed.status_code == 201, filed.text
    row_id = f"#request-{filed.json()['id']}"
    gateway = system.gateway_url
    async with chromium() as browser:
        head = await (await browser.new_context(bypass_csp=True)).new_page()
        await head.goto(f"{gateway}/web/")
        await _log_in(head, system, "thutruong.hcm")
        await expect(head.locator("#account-requests")).to_contain_text("đề nghị cấp tài khoản chờ bạn xử lý")
        await head.locator("#account-requests").click()
        await expect(head.locator("h1")).to_have_text("Đề nghị cấp tài khoản", timeout=WAIT_MS)
        row = head.locator(row_id)
        await expect(row).to_contain_text("Hồ Thị Tài Khoản")
        await expect(row).to_contain_text("Chờ thủ trưởng đơn vị đồng ý")
        await assert_accessible(head, shot="10-de-nghi-cap-tai-khoan")
        await row.get_by_role("button", name="Đồng ý").click()
        await expect(head.locator("#done")).to_have_text("Đã đồng ý đề nghị.", timeout=WAIT_MS)
        await expect(row).to_contain_text("Chờ phê duyệt")
        await expect(row).to_contain_text("Chờ người khác")

        admin = await (await browser.new_context(bypass_csp=True)).new_page()
        await admin.goto(f"{gateway}/web/account-requests")
        await _log_in(admin, system, ADMIN)
        filed_row = admin.locator(row_id)
        await expect(filed_row).to_contain_text("Chờ phê duyệt", timeout=WAIT_MS)
        await expect(filed_row.get_by_role("button", name="Phê duyệt")).to_have_count(0)
        await filed_row.locator("summary").click()
        await filed_row.get_by_role("button", name="Từ chối đề nghị").click()
        await expect(admin.locator(f"{row_id} .error")).to_have_text("Bắt buộc nhập", timeout=WAIT_MS)
        await assert_accessible(admin)
        await admin.locator(row_id).get_by_label("Lý do từ chối").fill("Đơn vị đã có đủ cán bộ nhân sự")
        await admin.locator(row_id).get_by_role("button", name="Từ chối đề nghị").click()
        await expect(admin.locator("#done")).to_have_text("Đã từ chối đề nghị.", timeout=WAIT_MS)
        await expect(admin.locator(row_id)).to_have_count(0)

        plain = await (await browser.new_context(bypass_csp=True)).new_page()
        await plain.goto(f"{gateway}/web/account-requests")
        await _log_in(plain, system, "canbo.noibai")
        await expect(plain.locator("h1")).to_have_text("Không có quyền", timeout=WAIT_MS)
        await assert_accessible(plain)
        await plain.goto(f"{gateway}/web/")
        await expect(plain.locator("#me-tier")).to_be_visible(timeout=WAIT_MS)
        await assert_accessible(plain)


async def test_the_sector_hr_grants_a_delegation_the_unit_sees_and_revokes_it(
    system: System, hanoi_and_hcm: dict[str, Any]
) -> None:
    team = hanoi_and_hcm["team"]
    gateway = system.gateway_url
    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/")
        await _log_in(page, system, "vutccb")
        await expect(page.locator("#me-tier")).to_be_visible(timeout=WAIT_MS)
        await assert_accessible(page)
        await page.get_by_role("navigation", name="Chính").get_by_role("link", name="Ủy quyền").click()
        await expect(page.locator("h1")).to_have_text("Ủy quyền", timeout=WAIT_MS)
        grant = page.locator("#grant")
        await grant.get_by_label("Mã đơn vị được ủy quyền").fill("HQHN")
        await grant.get_by_label("Mã đơn vị có hồ sơ được ủy quyền (cả cây đơn vị)").fill(team["code"])
        await grant.get_by_label("Đào tạo, bồi dưỡng").check()
        await grant.get_by_label("Xem", exact=True).check()
        await grant.get_by_label("Hiệu lực từ ngày").fill(vietnam_today().isoformat())
        await grant.get_by_label("Căn cứ ủy quyền (số, ngày quyết định)").fill("Quyết định 21/QĐ-TCHQ")
        await grant.get_by_role("button", name="Ủy quyền").click()
        await expect(page.locator("#f-tiers-error")).to_have_text("Chọn ít nhất một", timeout=WAIT_MS)
        await assert_accessible(page)
        await page.locator("#grant").get_by_label("Cán bộ nhân sự đơn vị").check()
        await page.locator("#grant").get_by_role("button", name="Ủy quyền").click()
        await expect(page.locator("#done")).to_have_text("Đã ủy quyền.", timeout=WAIT_MS)
        granted = page.locator("tr", has_text="Quyết định 21/QĐ-TCHQ")
        await expect(granted).to_contain_text(f"Cây đơn vị {team['name']}")
        await expect(granted).to_contain_text("Cán bộ nhân sự đơn vị")
        await assert_accessible(page, shot="11-uy-quyen")

        unit = await (await browser.new_context(bypass_csp=True)).new_page()
        await unit.goto(f"{gateway}/web/delegations")
        await _log_in(unit, system, "qthanoi")
        seen = unit.locator("tr", has_text="Quyết định 21/QĐ-TCHQ")
        await expect(seen).to_contain_text("Đào tạo, bồi dưỡng", timeout=WAIT_MS)
        await expect(seen.get_by_role("button")).to_have_count(0)
        await expect(unit.locator("#grant")).to_have_count(0)

        await granted.get_by_role("button", name="Thu hồi").click()
        await expect(page.locator("#done")).to_have_text("Đã thu hồi ủy quyền.", timeout=WAIT_MS)
        await expect(page.locator("tr", has_text="Quyết định 21/QĐ-TCHQ")).to_have_count(0)
        await unit.reload()
        await expect(unit.locator("tr", has_text="Quyết định 21/QĐ-TCHQ")).to_have_count(0)


async def test_a_local_admin_reads_bm01_follows_a_count_to_the_people_it_counts_and_draws_a_column(
    system: System,
) -> None:
    gateway = system.gateway_url
    async with api_client(gateway, system.token(ADMIN)) as api:
        team = await _unit(api, system.unit_ids["HQHN"], "Đội thống kê trang web")
        await _person(api, team["id"], "Phạm Thị Lan")
        await _person(api, team["id"], "Ngô Thị Hoa", born="1992-02-14")
        man = await api.post("/v1/persons", json=person_body(team["id"], "Vũ Văn Nam", sex="male"))
        assert man.status_code == 201, man.text

        async def counted() -> int:
            response = await api.get("/v1/statistics/BM01", params={"unit": team["id"]})
            if response.status_code != 200:
                return -1
            form = response.json()
            headcount = [c["key"] for c in form["columns"]].index("headcount")
            return int(form["rows"][0]["cells"][headcount])

        await eventually(counted, lambda n: n == 3, timeout=60, what="reports' statistics to count the team")
    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/")
        await _log_in(page, system, "qthanoi")
        await page.get_by_role("navigation", name="Chính").get_by_role("link", name="Thống kê").click()
        await expect(page.locator("#form-unit")).to_contain_text("Cục Hải quan thành phố Hà Nội", timeout=WAIT_MS)
        await expect(page.locator("#form-day")).to_have_text(vietnam_today().strftime("%d/%m/%Y"))
        await assert_accessible(page, shot="12-thong-ke")

        await page.get_by_label("Đơn vị (gồm các đơn vị trực thuộc)").select_option(value=team["id"])
        await page.get_by_role("button", name="Lập biểu").click()
        await expect(page.locator("#form-unit")).to_contain_text(team["name"], timeout=WAIT_MS)
        total = page.locator("#row-total")
        await expect(total.locator("td[data-column=headcount]")).to_have_text("3 Công chức hiện có, Tổng số")
        await expect(page.locator("#chart rect")).to_have_count(1)
        await total.locator("td[data-column=women] a").click()
        await expect(page.locator("h1")).to_have_text("Trong đó: Nữ — Tổng số", timeout=WAIT_MS)
        await expect(page.locator("#listed-total")).to_have_text("2")
        people = page.locator("table#people")
        await expect(people).to_contain_text("Phạm Thị Lan")
        await expect(people).to_contain_text("Ngô Thị Hoa")
        await expect(people).not_to_contain_text("Vũ Văn Nam")
        await assert_accessible(page)
        await people.get_by_role("link", name="Phạm Thị Lan").click()
        await expect(page.locator("h1")).to_contain_text("Phạm Thị Lan", timeout=WAIT_MS)

        await page.go_back()
        await page.get_by_role("link", name=re.compile("^← BM01")).click()
        tomorrow = (vietnam_today() + timedelta(days=1)).isoformat()
        await page.get_by_label("Số liệu tại ngày (bỏ trống: hôm nay)").fill(tomorrow)
        await page.get_by_role("button", name="Lập biểu").click()
        await expect(page.locator("#f-as_of-error")).to_contain_text("sau hôm nay", timeout=WAIT_MS)
        await expect(page.locator("#form-table")).to_have_count(0)
        await assert_accessible(page)


async def test_a_local_admin_issues_a_purpose_account_in_its_quota_hands_it_over_then_releases_it(
    system: System,
) -> None:
    gateway = system.gateway_url
    async with api_client(gateway, system.token(ADMIN)) as api:
        team = await _unit(api, system.unit_ids["HQHN"], "Đội tài khoản dùng chung")
    async with chromium() as browser:
        admin = await (await browser.new_context(bypass_csp=True)).new_page()
        await admin.goto(f"{gateway}/web/purpose-accounts/units/{team['id']}")
        await _log_in(admin, system, ADMIN)
        await expect(admin.locator("#quotas")).to_contain_text("chưa có định mức", timeout=WAIT_MS)
        await admin.locator("#quota").get_by_label("Loại tài khoản").select_option(label="Tài khoản người dùng")
        await admin.locator("#quota").get_by_label("Định mức").fill("1")
        await admin.get_by_role("button", name="Đặt định mức").click()
        await expect(admin.locator("#done")).to_have_text("Đã đặt định mức.", timeout=WAIT_MS)
        await expect(admin.locator("#quota-user")).to_contain_text("Tài khoản người dùng")

        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/")
        await _log_in(page, system, "qthanoi")
        await page.get_by_role("navigation", name="Chính").get_by_role("link", name="Tài khoản dùng chung").click()
        await page.get_by_label("Đơn vị (gồm các đơn vị trực thuộc)").select_option(value=team["id"])
        await page.get_by_role("button", name="Xem").click()
        await expect(page.locator("#total")).to_have_text("0 tài khoản", timeout=WAIT_MS)
        await page.get_by_role("link", name="Định mức tài khoản và cấp tài khoản cho đơn vị này").click()
        await expect(page.locator("#quota")).to_have_count(0)
        await page.get_by_label("Mục đích (như Nhân sự 1)").fill("Nhân sự 1")
        await page.get_by_label("Vai trò").select_option(label="Cán bộ nhân sự đơn vị")
        await assert_accessible(page, shot="17-cap-tai-khoan")
        await page.get_by_role("button", name="Cấp tài khoản").click()
        await expect(page.locator("#done")).to_contain_text("Đã cấp tài khoản", timeout=WAIT_MS)
        await expect(page.locator("#holder")).to_have_text("Chưa có người giữ")
        account_id = page.url.rsplit("/", 1)[-1].split("?")[0]

        await page.goto(f"{gateway}/web/purpose-accounts/units/{team['id']}")
        await page.get_by_label("Mục đích (như Nhân sự 1)").fill("Nhân sự 2")
        await page.get_by_label("Vai trò").select_option(label="Cán bộ nhân sự đơn vị")
        await page.get_by_role("button", name="Cấp tài khoản").click()
        await expect(page.locator("#faults")).to_contain_text("đã dùng hết định mức 1", timeout=WAIT_MS)
        await expect(page.locator("#quota-user")).to_contain_text("1")

        await page.goto(f"{gateway}/web/purpose-accounts?unit_id={team['id']}")
        row = page.locator(f"#account-{account_id}")
        await expect(row).to_contain_text("Chưa có người giữ", timeout=WAIT_MS)
        await expect(page.locator("#total")).to_have_text("1 tài khoản")
        await assert_accessible(page)
        await row.get_by_role("link", name="Nhân sự 1").click()

        handover = page.locator("#hand-over")
        await handover.get_by_label("Họ và tên người giữ").fill("Phạm Thị Ba")
        await handover.get_by_label("Thư điện tử nhận mật khẩu lần đầu").fill("pham.thi.ba@haiquan.example")
        await handover.get_by_role("button", name="Giao tài khoản").click()
        await expect(page.locator("#f-since-error")).to_have_text("Bắt buộc nhập", timeout=WAIT_MS)
        await assert_accessible(page)
        today = date.fromisoformat(handover_day())
        await page.locator("#hand-over").get_by_label("Giao từ ngày").fill((today - timedelta(days=7)).isoformat())
        await page.locator("#hand-over").get_by_role("button", name="Giao tài khoản").click()
        await expect(page.locator("#f-since-error")).to_contain_text("Không được trước ngày hôm nay", timeout=WAIT_MS)
        await page.locator("#hand-over").get_by_label("Giao từ ngày").fill(today.isoformat())
        await page.locator("#hand-over").get_by_role("button", name="Giao tài khoản").click()
        await expect(page.locator("#done")).to_contain_text("Mã nhận mật khẩu lần đầu đã gửi tới", timeout=WAIT_MS)
        await expect(page.locator("#holder")).to_have_text(f"Phạm Thị Ba, từ {today.strftime('%d/%m/%Y')}")
        await assert_accessible(page, shot="13-tai-khoan-dung-chung")
        await handed_over_on(system, account_id, today - timedelta(days=7))  # a holder keeps it a day at least

        elsewhere = await (await browser.new_context(bypass_csp=True)).new_page()
        await elsewhere.goto(f"{gateway}/web/purpose-accounts/{account_id}")
        await _log_in(elsewhere, system, "thutruong.hcm")
        await expect(elsewhere.locator("h1")).to_have_text("Không có quyền", timeout=WAIT_MS)
        await expect(elsewhere.locator("body")).not_to_contain_text("Phạm Thị Ba")

        await page.locator("#release").get_by_label("Thôi giữ từ ngày").fill(today.isoformat())
        await page.locator("#release").get_by_role("button", name="Cho thôi giữ").click()
        await expect(page.locator("#done")).to_have_text("Người giữ đã thôi giữ tài khoản.", timeout=WAIT_MS)
        await expect(page.locator("#holder")).to_have_text("Chưa có người giữ")
        await expect(page.locator("#release")).to_have_count(0)


AGENCY_PASSWORD = "Cán bộ Bộ Nội vụ 2026"


async def test_an_agencys_officers_log_in_through_their_agency_with_the_tier_their_group_maps_to(
    system: System,
) -> None:
    """Another agency federated in (R-ACC-10): its officer picks the agency on the login page, logs in
    on the agency's own page and lands with the tier and unit identity maps its group to; an officer
    of a group mapped to nothing lands with no role and is refused the tree."""
    users = {
        "lanhdao.bnv": (AGENCY_PASSWORD, "Đỗ Văn Vụ", ["vu-cong-chuc"]),
        "khach.bnv": (AGENCY_PASSWORD, "Hồ Thị Khách", []),
    }
    issuer = await asyncio.to_thread(agency_realm, system, "bo-noi-vu", "bonoivu", users)
    body = agency_registration(issuer, "bonoivu", "Bộ Nội vụ", "vu-cong-chuc", "/TCHQ/HQHN", "unit-leader")
    async with api_client(system.services.identity_url, system.token(ADMIN)) as identity:
        registered = await identity.post("/v1/federation/agencies", json=body)
        assert registered.status_code == 201, registered.text
    gateway = system.gateway_url
    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/units")
        await expect(page.locator("#kc-login")).to_be_visible(timeout=WAIT_MS)
        await page.get_by_role("link", name="Bộ Nội vụ").click()
        await _log_in_at_agency(page, issuer, "lanhdao.bnv")
        await expect(page).to_have_url(f"{gateway}/web/units", timeout=WAIT_MS)
        tree = page.locator("table.tree")
        await expect(tree).to_contain_text("Cục Hải quan thành phố Hà Nội")
        await expect(tree).not_to_contain_text("Cục Hải quan Thành phố Hồ Chí Minh")
        await page.goto(f"{gateway}/web/")
        await expect(page.locator("#me-tier")).to_have_text("Thủ trưởng đơn vị", timeout=WAIT_MS)
        await expect(page.locator("#me-unit")).to_have_text("Cục Hải quan thành phố Hà Nội")
        await assert_accessible(page)

        stranger = await (await browser.new_context(bypass_csp=True)).new_page()
        await stranger.goto(f"{gateway}/web/")
        await expect(stranger.locator("#kc-login")).to_be_visible(timeout=WAIT_MS)
        await stranger.get_by_role("link", name="Bộ Nội vụ").click()
        await _log_in_at_agency(stranger, issuer, "khach.bnv")
        await expect(stranger.locator("#me-tier")).to_have_text("Không có vai trò nào", timeout=WAIT_MS)
        await assert_accessible(stranger)
        await stranger.goto(f"{gateway}/web/units")
        await expect(stranger.locator("h1")).to_have_text("Không có quyền", timeout=WAIT_MS)


async def _log_in_at_agency(page: Page, issuer: str, username: str) -> None:
    """Fills the agency's own login page, where its button on this system's login page leads."""
    await expect(page.locator("#kc-login")).to_be_visible(timeout=WAIT_MS)
    assert page.url.startswith(issuer), page.url
    await page.fill("#username", username)
    await page.fill("#password", AGENCY_PASSWORD)
    await page.click("#kc-login")


async def test_an_officer_reports_a_stolen_password_and_the_admin_grants_sections_and_resets_it(
    system: System,
) -> None:
    username = unique_code("canbo").lower()
    holder = Account(username, AGENCY_PASSWORD, "local-officer", "/TCHQ/HQHN/HQHN-BHN", "Hà Văn Lộ")
    await asyncio.to_thread(ensure_user, system.infra.keycloak_admin(), holder)
    gateway = system.gateway_url
    async with chromium() as browser:
        own = await (await browser.new_context(bypass_csp=True)).new_page()
        await own.goto(f"{gateway}/web/")
        await _log_in(own, system, username, AGENCY_PASSWORD)
        await expect(own.locator("#me-tier")).to_be_visible(timeout=WAIT_MS)
        await assert_accessible(own)
        await own.get_by_role("link", name="Hà Văn Lộ").click()
        await expect(own.locator("h1")).to_have_text(f"Tài khoản {username} (của bạn)", timeout=WAIT_MS)
        await expect(own.locator("#grant-sections")).to_have_count(0)
        await own.get_by_label("Sự cố").select_option("stolen")
        await own.get_by_label("Ghi chú (khi nào, ở đâu)").fill("Máy tính ở phòng họp bị mở khi vắng mặt")
        await own.get_by_role("button", name="Báo sự cố").click()
        await expect(own.locator("#done")).to_have_text("Đã ghi nhận báo cáo.", timeout=WAIT_MS)
        await expect(own.locator("#incidents tbody tr")).to_contain_text("Chưa cấp lại")
        await assert_accessible(own)

        # The admin finds the account among its Chi cục's, typed without diacritics, and opens it.
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/")
        await _log_in(page, system, "qthanoi")
        await page.get_by_role("navigation", name="Chính").get_by_role("link", name="Tài khoản", exact=True).click()
        await page.get_by_label("Đơn vị", exact=True).select_option(label="Chi cục Hải quan Bắc Hà Nội")
        await page.get_by_label("Họ tên hoặc tên đăng nhập").fill("ha van lo")
        await page.get_by_role("button", name="Xem").click()
        listed = page.locator(f"#account-{username} td")
        await expect(listed).to_have_text(
            ["Hà Văn Lộ", username, "Cán bộ nhân sự đơn vị", "Cá nhân", "Đang mở"], timeout=WAIT_MS
        )
        await assert_accessible(page, shot="18-tai-khoan-don-vi")
        # The listing's link (the recent entries below may name the account too).
        await page.locator(f"#account-{username}").get_by_role("link", name=username).click()
        await expect(page.locator("#holder")).to_have_text("Hà Văn Lộ", timeout=WAIT_MS)
        await expect(page.locator("#sections")).to_have_text("Chưa được giao phần nào")
        await page.locator("#grant-sections").get_by_label("Đào tạo, bồi dưỡng").check()
        await page.get_by_role("button", name="Lưu phần được giao").click()
        await expect(page.locator("#sections")).to_have_text("Đào tạo, bồi dưỡng", timeout=WAIT_MS)
        await assert_accessible(page, shot="14-tai-khoan")
        await page.get_by_role("button", name="Cấp lại mật khẩu").click()
        await expect(page.locator("#done")).to_contain_text("Đã cấp lại mật khẩu lần đầu.", timeout=WAIT_MS)
        await expect(page.locator("#incidents tbody tr").first).not_to_contain_text("Chưa cấp lại")
        await expect(page.get_by_role("button", name="Cấp lại mật khẩu")).to_have_count(0)

        # The new first-login code went to the holder's mailbox; the stolen password's sessions ended.
        assert await mailed_code(system, f"{username}@qlcb.example")
        await own.reload()
        await expect(own.locator("#kc-login")).to_be_visible(timeout=WAIT_MS)


async def test_a_unit_hands_part_of_its_report_down_then_consolidates_what_the_team_sent(system: System) -> None:
    gateway = system.gateway_url
    async with api_client(gateway, system.token(ADMIN)) as api:
        issuer = await _unit(api, system.unit_ids["HQHN"], "Phòng ban hành báo cáo web")
        mid = await _unit(api, issuer["id"], "Đội tổng hợp giao tiếp")
        team = await _unit(api, mid["id"], "Tổ nhận giao tiếp")
        for unit in (issuer, mid, team):
            await wait_for_headcount(api, unit["id"], 0)
    # Only /TCHQ/HQHN/issuer/mid is assigned: the team below is handed its part from the page.
    _regime, opened = await _thematic_period(
        system, issuer["id"], "Báo cáo giao tiếp cấp dưới", "GT-2026", unit_levels=[4]
    )
    async with api_client(gateway, system.token("vutccb")) as api:
        [assigned] = (await api.get(f"/v1/report-periods/{opened['period']['id']}/assignments")).json()["items"]
    assert assigned["unit_id"] == mid["id"]
    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        report_url = f"{gateway}/web/report-assignments/{assigned['id']}"
        await page.goto(report_url)
        await _log_in(page, system, "qthanoi")
        children = page.locator("#children")
        await expect(children).to_contain_text("Chưa giao cho đơn vị cấp dưới nào.", timeout=WAIT_MS)
        await children.get_by_role("button", name="Giao báo cáo").click()
        await expect(page.locator("#f-units-error")).to_have_text("Chọn ít nhất một đơn vị", timeout=WAIT_MS)
        await page.locator("#children").get_by_label(f"{team['name']} ({team['code']})").check()
        await page.locator("#children").get_by_label("Số biên chế được giao").check()
        await page.locator("#children").get_by_role("button", name="Giao báo cáo").click()
        await expect(page.locator("#handed")).to_be_visible(timeout=WAIT_MS)
        await expect(page.locator("#children table")).to_contain_text("Chưa gửi")
        await assert_accessible(page)
        await page.get_by_role("button", name="Tổng hợp số liệu từ cấp dưới").click()
        await expect(page.locator("#faults")).to_contain_text("được duyệt", timeout=WAIT_MS)

        await page.locator("#children table").get_by_role("link", name=team["name"]).click()
        await page.get_by_label("Số biên chế được giao (người)").fill("5")
        await expect(page.get_by_label("Tỷ lệ nữ")).to_have_count(0)
        await page.get_by_role("button", name="Lưu và gửi lên cấp duyệt").click()
        await expect(page.locator("#report-state")).to_have_text("Đã gửi, chờ duyệt", timeout=WAIT_MS)
        team_report = urlsplit(page.url).path.rsplit("/", 1)[-1]
        async with api_client(gateway, system.token("vutccb")) as api:
            approved = await api.post(f"/v1/report-assignments/{team_report}/approve", json={})
        assert approved.status_code == 200, approved.text

        await page.goto(report_url)
        await expect(page.locator("#children table")).to_contain_text("Đã duyệt", timeout=WAIT_MS)
        await page.get_by_role("button", name="Tổng hợp số liệu từ cấp dưới").click()
        await expect(page.locator("#consolidated")).to_be_visible(timeout=WAIT_MS)
        await expect(page.get_by_label("Số biên chế được giao (người)")).to_have_value("5")


async def test_the_sector_hr_gives_a_unit_its_quota_then_a_team_part_of_it_and_is_told_what_is_left(
    system: System,
) -> None:
    gateway = system.gateway_url
    async with api_client(gateway, system.token(ADMIN)) as api:
        root_quota = {"quota": 900_000, "effective_date": "2026-01-01", "decision": "1/QĐ-BTC"}
        given = await api.put(f"/v1/units/{system.root_unit_id}/quotas/2026", json=root_quota)
        assert given.status_code == 200, given.text  # as test_quotas gives it: the same decision records nothing
        unit = await _unit(api, system.root_unit_id, "Cục kiểm thử biên chế trang web")
        team = await _unit(api, unit["id"], "Đội kiểm thử biên chế trang web")

    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/units")
        await _log_in(page, system, "vutccb")
        await page.locator(f"#unit-{unit['id']}").get_by_role("link", name="Chưa giao").click()
        await expect(page.locator("h1")).to_have_text(f"Biên chế năm 2026 — {unit['name']}", timeout=WAIT_MS)
        await page.get_by_label("Số biên chế được giao").fill("10")
        await page.get_by_label("Ngày hiệu lực").fill("2026-12-01")
        await page.get_by_label("Số quyết định").fill("150/QĐ-TCHQ")
        await page.get_by_role("button", name="Ghi biên chế").click()
        await expect(page.locator("#done")).to_have_text("Đã ghi biên chế.", timeout=WAIT_MS)
        await expect(page.locator("#history")).to_contain_text("Giao lần đầu")
        await expect(page.locator("#history")).to_contain_text("(vutccb)")
        await assert_accessible(page, shot="16-bien-che")

        await page.locator("#below").get_by_role("link", name=team["name"]).click()
        await page.get_by_label("Số biên chế được giao").fill("20")
        await page.get_by_label("Ngày hiệu lực").fill("2026-12-02")
        await page.get_by_label("Số quyết định").fill("151/QĐ-TCHQ")
        await page.get_by_role("button", name="Ghi biên chế").click()
        await expect(page.locator("#faults")).to_contain_text("vượt phần còn lại của đơn vị cấp trên", timeout=WAIT_MS)
        await expect(page.get_by_label("Số biên chế được giao")).to_have_value("20")
        await assert_accessible(page)
        await page.get_by_label("Số biên chế được giao").fill("4")
        await page.get_by_role("button", name="Ghi biên chế").click()
        await expect(page.locator("#done")).to_be_visible(timeout=WAIT_MS)

        await page.goto(f"{gateway}/web/units/{unit['id']}/quota?year=2026")
        facts = page.locator("#quota-facts")
        await expect(facts).to_contain_text("Đã phân bổ cho đơn vị trực thuộc4", timeout=WAIT_MS)
        await expect(facts).to_contain_text("Còn lại6")


async def test_the_sector_hr_issues_a_regime_with_a_table_through_the_form_then_a_second_version(
    system: System,
) -> None:
    gateway = system.gateway_url
    async with api_client(gateway, system.token(ADMIN)) as api:
        issuer = await _unit(api, system.unit_ids["HQHN"], "Phòng ban hành chế độ báo cáo web")
        await wait_for_headcount(api, issuer["id"], 0)  # reports knows the unit from personnel's event
    code = unique_code("WEBF-")
    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/reports")
        await _log_in(page, system, "vutccb")
        await page.get_by_role("link", name="Ban hành chế độ báo cáo").click()
        await expect(page.locator("h1")).to_have_text("Ban hành chế độ báo cáo", timeout=WAIT_MS)
        await assert_accessible(page)
        await page.get_by_label("Mã chế độ báo cáo").fill(code)
        await page.get_by_label("Tên chế độ báo cáo").fill("Báo cáo chuyên đề về kiểm tra sau thông quan")
        await page.locator("#f-kind").select_option("thematic")
        await page.get_by_label("Căn cứ pháp lý").fill("Công văn 321/TCHQ-TCCB ngày 01/12/2026")
        await page.get_by_label("Đơn vị ban hành").select_option(issuer["id"])
        await page.get_by_label("Hạn gửi: số ngày").fill("5")
        rows = page.locator("#indicator-rows")
        typed = [
            ("1", "so_vu", "Số vụ kiểm tra", "number"),
            ("2", "danh_sach", "Danh sách doanh nghiệp", "table"),
            ("3", "ten_dn", "Tên doanh nghiệp", "text"),
        ]
        for row, code_typed, label, kind in typed:
            await rows.get_by_label(f"Dòng {row}, Mã", exact=True).fill(code_typed)
            await rows.get_by_label(f"Dòng {row}, Chỉ tiêu", exact=True).fill(label)
            await rows.get_by_label(f"Dòng {row}, Kiểu", exact=True).select_option(kind)
        await rows.get_by_label("Dòng 1, Bắt buộc", exact=True).check()
        await rows.get_by_label("Dòng 3, Cột của bảng (mã)", exact=True).fill("danh_sach_dn")
        await page.get_by_role("button", name="Ban hành").click()
        await expect(page.locator("#faults")).to_contain_text(
            "Dòng 3, Cột của bảng (mã): Không có chỉ tiêu kiểu Bảng mã danh_sach_dn", timeout=WAIT_MS
        )
        await expect(rows.get_by_label("Dòng 1, Bắt buộc", exact=True)).to_be_checked()
        await assert_accessible(page)
        await rows.get_by_label("Dòng 3, Cột của bảng (mã)", exact=True).fill("danh_sach")
        sent_form = await page.locator("#regime-form").evaluate("form => Array.from(new FormData(form).entries())")
        await page.get_by_role("button", name="Ban hành").click()
        await expect(page.locator("#saved")).to_have_text("Đã ban hành chế độ báo cáo.", timeout=WAIT_MS)
        # The same form sent a second time (a second click, a resubmission) issues nothing more.
        again = await page.request.post(f"{gateway}/web/reports/new", form=dict(sent_form), max_redirects=0)
        assert again.status == 409
        assert f"{code} đã có" in await again.text()
        async with api_client(gateway, system.token("vutccb")) as api:
            regimes = (await api.get("/v1/report-regimes")).json()
        assert [r["code"] for r in regimes].count(code) == 1
        template = page.locator("#template")
        await expect(template).to_contain_text("Mẫu báo cáo, phiên bản 1")
        await expect(template).to_contain_text("Danh sách doanh nghiệp: Tên doanh nghiệp")
        await assert_accessible(page)

        await page.get_by_role("link", name="Phiên bản mẫu mới").click()
        rows = page.locator("#indicator-rows")
        await expect(rows.get_by_label("Dòng 3, Cột của bảng (mã)", exact=True)).to_have_value("danh_sach")
        await assert_accessible(page)
        await rows.get_by_label("Dòng 2, Kiểu", exact=True).select_option("number")
        await page.get_by_role("button", name="Lưu phiên bản mới").click()
        await expect(page.locator("#faults")).to_contain_text("Dòng 3, Cột của bảng (mã)", timeout=WAIT_MS)
        await rows.get_by_label("Dòng 2, Kiểu", exact=True).select_option("table")
        await page.get_by_role("button", name="Thêm 6 dòng").click()
        await rows.get_by_label("Dòng 10, Mã", exact=True).fill("so_tien")
        await rows.get_by_label("Dòng 10, Chỉ tiêu", exact=True).fill("Số tiền truy thu")
        await rows.get_by_label("Dòng 10, Đơn vị tính", exact=True).fill("đồng")
        await rows.get_by_label("Dòng 10, Cột của bảng (mã)", exact=True).fill("danh_sach")
        await assert_accessible(page, shot="22-ban-hanh-mau-bao-cao")
        await page.get_by_role("button", name="Lưu phiên bản mới").click()
        await expect(page.locator("#saved")).to_have_text(
            "Đã lưu phiên bản mẫu 2; các kỳ mở từ nay dùng phiên bản này.", timeout=WAIT_MS
        )
        await expect(page.locator("#template")).to_contain_text(
            "Danh sách doanh nghiệp: Tên doanh nghiệp, Số tiền truy thu"
        )


async def test_a_backend_stopped_is_a_page_saying_so_and_the_page_is_back_with_it(system: System) -> None:
    gateway = system.gateway_url
    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/reports")
        await _log_in(page, system, "qthanoi")
        await expect(page.locator("h1")).to_have_text("Báo cáo", timeout=WAIT_MS)
        system.services.stop("reports")
        try:
            answered = await page.reload()
            assert answered is not None
            assert answered.status == 503
            await expect(page.locator("h1")).to_have_text("Hệ thống tạm thời không phục vụ được")
            await expect(page.locator("main")).not_to_contain_text("Traceback")
            await expect(page.locator("main")).not_to_contain_text("StatusCode")
            await assert_accessible(page)
        finally:
            system.services.start("reports")
            await system.services.wait_ready("reports")

        async def reloaded() -> int:
            answered = await page.reload()
            return answered.status if answered is not None else 0

        # As a user would: the gateway reconnects within its channels' backoff (at most 2 s).
        await eventually(reloaded, lambda status: status == 200, timeout=30, what="the reports page back")
        await expect(page.locator("h1")).to_have_text("Báo cáo")


async def test_a_session_the_gateway_no_longer_accepts_goes_through_the_login_and_back_to_the_page(
    system: System,
) -> None:
    gateway = system.gateway_url
    async with chromium() as browser:
        context = await browser.new_context(bypass_csp=True)
        page = await context.new_page()
        await page.goto(f"{gateway}/web/")
        await _log_in(page, system, "qthanoi")
        await expect(page.locator("#me-tier")).to_be_visible(timeout=WAIT_MS)
        # The session's cookies as an expired or tampered session leaves them: the gateway refuses them.
        (first,) = [c for c in await context.cookies() if c["name"] == "qlcb_web0"]
        changed = ("B" if first["value"][0] == "A" else "A") + first["value"][1:]
        await context.add_cookies(
            [{"name": first["name"], "value": changed, "domain": first["domain"], "path": first["path"]}]
        )
        await page.goto(f"{gateway}/web/units/{system.unit_ids['HQHN']}?q=nguyen")
        # Keycloak's own session still stands, so its login answers at once and the page comes back.
        await expect(page.locator("h1")).to_have_text("Cục Hải quan thành phố Hà Nội", timeout=WAIT_MS)
        assert page.url.endswith("?q=nguyen"), page.url
        await expect(page.locator("#q")).to_have_value("nguyen")


async def test_an_officer_finds_a_person_with_the_keyboard_alone(system: System, hanoi_and_hcm: dict[str, Any]) -> None:
    team = hanoi_and_hcm["team"]
    gateway = system.gateway_url
    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/units/{team['id']}")
        await _log_in(page, system, "qthanoi")
        await expect(page.locator("h1")).to_have_text(team["name"], timeout=WAIT_MS)
        # The first Tab reaches the skip link, which leads past the navigation to the page's content.
        await page.keyboard.press("Tab")
        await expect(page.locator("a.skip")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(re.compile(r"#main$"), timeout=WAIT_MS)
        # The search box takes the query and Enter sends it; the person found is reached by Tab alone.
        await page.locator("#q").focus()
        await page.keyboard.type("dang thi hong")
        await page.keyboard.press("Enter")
        found = page.get_by_role("link", name="Đặng Thị Hồng Nhung")
        await expect(found).to_be_visible(timeout=WAIT_MS)
        for _ in range(60):
            if await found.evaluate("link => link === document.activeElement"):
                break
            await page.keyboard.press("Tab")
        await expect(found).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator("h1")).to_contain_text("Đặng Thị Hồng Nhung", timeout=WAIT_MS)


async def test_the_system_admin_announces_an_upgrade_a_day_ahead_which_every_page_shows_until_closed(
    system: System,
) -> None:
    gateway = system.gateway_url

    def local(hours: float) -> str:
        return (datetime.now(VIETNAM) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")

    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/")
        await _log_in(page, system, "quantri")
        await page.get_by_role("navigation", name="Chính").get_by_role("link", name="Thông báo").click()
        await expect(page.locator("h1")).to_have_text("Thông báo cho người dùng", timeout=WAIT_MS)
        form = page.locator("#post")
        await form.get_by_label("Loại thông báo").select_option("upgrade")
        await form.get_by_label("Tiêu đề").fill("Nâng cấp hệ thống QLCB 2.5")
        await form.get_by_label("Nội dung (việc gì, ảnh hưởng gì, người dùng cần làm gì)").fill(
            "Hệ thống tạm dừng trong thời gian nâng cấp."
        )
        await form.get_by_label("Bắt đầu (nâng cấp: từ 24 giờ sau khi đăng)").fill(local(2))
        await form.get_by_label("Dự kiến kết thúc (bắt buộc với nâng cấp)").fill(local(4))
        await form.get_by_role("button", name="Đăng thông báo").click()
        await expect(page.locator("#f-starts_at-error")).to_contain_text("24 giờ", timeout=WAIT_MS)
        await expect(page.locator("aside.banner", has_text="QLCB 2.5")).to_have_count(0)
        await assert_accessible(page)

        form = page.locator("#post")
        await form.get_by_label("Bắt đầu (nâng cấp: từ 24 giờ sau khi đăng)").fill(local(48))
        await form.get_by_label("Dự kiến kết thúc (bắt buộc với nâng cấp)").fill(local(50))
        await form.get_by_role("button", name="Đăng thông báo").click()
        await expect(page.locator("#done")).to_have_text("Đã đăng thông báo.", timeout=WAIT_MS)
        banner = page.get_by_role("complementary", name="Thông báo hệ thống")
        await expect(banner).to_contain_text("Thông báo nâng cấp hệ thống: Nâng cấp hệ thống QLCB 2.5")
        await assert_accessible(page, shot="23-thong-bao")

        officer = await (await browser.new_context(bypass_csp=True)).new_page()
        await officer.goto(f"{gateway}/web/")
        await _log_in(officer, system, "canbo.noibai")
        seen = officer.get_by_role("complementary", name="Thông báo hệ thống")
        await expect(seen).to_contain_text("Nâng cấp hệ thống QLCB 2.5", timeout=WAIT_MS)
        await expect(seen).to_contain_text("Hệ thống tạm dừng trong thời gian nâng cấp.")
        await expect(officer.get_by_role("link", name="Thông báo")).to_have_count(0)

        row = page.locator("tr", has_text="Nâng cấp hệ thống QLCB 2.5")
        await row.get_by_role("button", name="Đóng").click()
        await expect(page.locator("#done")).to_have_text("Đã đóng thông báo.", timeout=WAIT_MS)
        await expect(page.locator("tr", has_text="Nâng cấp hệ thống QLCB 2.5")).to_contain_text("Đã đóng")
        await expect(page.locator("aside.banner", has_text="QLCB 2.5")).to_have_count(0)
        await officer.reload()
        await expect(officer.locator("#me-tier")).to_be_visible(timeout=WAIT_MS)
        await expect(officer.locator("aside.banner", has_text="QLCB 2.5")).to_have_count(0)


async def test_the_system_admin_works_off_an_account_review_and_grants_and_revokes_tiers_on_the_account_page(
    system: System,
) -> None:
    """R-ACC-8 on the pages: a clerk's recorded retirement leaves an account holding local-admin
    enabled and waiting; the system admin sees it on the accounts page, with its deadline, disables
    it from the account's page (the review goes), opens it again, takes the tier away and grants another;
    the page's history lists each step, for the unit's local admin too."""
    gateway = system.gateway_url
    async with api_client(gateway, system.token(ADMIN)) as api:
        holder = await _person(api, system.unit_ids["HQHN-NB"], "Tạ Văn Quản")
    username = await issue_personal_account(system, holder["personal_id"], "Tạ Văn Quản")
    async with api_client(system.services.identity_url, system.token(ADMIN)) as accounts:
        granted = await accounts.put(f"/v1/accounts/{username}/tiers/local-admin")
        assert granted.status_code == 200, granted.text
    async with api_client(gateway, system.token("nhansu1.hanoi")) as clerk:
        retire = {"status": "retired", "effective_date": "2026-11-30", "decision": "150/QĐ-HQHN"}
        retired = await clerk.post(f"/v1/persons/{holder['id']}/status", json=retire)
        assert retired.status_code == 200, retired.text

    async with api_client(system.services.identity_url, system.token(ADMIN)) as accounts:

        async def waiting() -> list[str]:
            return [r["username"] for r in (await accounts.get("/v1/account-reviews")).json()]

        await eventually(waiting, lambda names: username in names, timeout=30, what="the review")

    async with chromium() as browser:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{gateway}/web/accounts")
        await _log_in(page, system, ADMIN)
        review = page.locator("#reviews tr", has_text=username)
        await expect(review).to_contain_text("Người giữ đã nghỉ hưu", timeout=WAIT_MS)
        await expect(review).to_contain_text("Khóa tài khoản")
        await assert_accessible(page, shot="24-cho-khoa")
        await review.get_by_role("link", name=username).click()

        administer = page.locator("#administer")
        await administer.get_by_role("button", name="Khóa tài khoản").click()
        await expect(page.locator("#done")).to_contain_text("Đã khóa tài khoản", timeout=WAIT_MS)
        await expect(page.locator("#state")).to_have_text("Đã khóa")
        await assert_accessible(page)
        await page.get_by_role("navigation", name="Chính").get_by_role("link", name="Tài khoản", exact=True).click()
        await expect(page.locator("h1")).to_contain_text("Tài khoản", timeout=WAIT_MS)
        await expect(page.locator("#reviews tr", has_text=username)).to_have_count(0)
        recent = page.locator("#recent tbody tr", has_text=username).first
        await expect(recent).to_contain_text("Khóa tài khoản")
        await expect(recent.get_by_role("link", name=username)).to_be_visible()

        await page.goto(f"{gateway}/web/accounts/{username}")
        await page.locator("#administer").get_by_role("button", name="Mở lại tài khoản").click()
        await expect(page.locator("#done")).to_have_text("Đã mở lại tài khoản.", timeout=WAIT_MS)
        await expect(page.locator("#state")).to_have_text("Đang dùng")
        await page.locator("#tier-local-admin").get_by_role("button", name="Thu hồi").click()
        await expect(page.locator("#done")).to_have_text("Đã thu hồi quyền.", timeout=WAIT_MS)
        await expect(page.locator("#tiers")).not_to_contain_text("Quản trị đơn vị")
        await page.get_by_label("Cấp thêm quyền").select_option("local-officer")
        await page.get_by_role("button", name="Cấp quyền").click()
        await expect(page.locator("#done")).to_contain_text("Đã cấp quyền", timeout=WAIT_MS)
        await expect(page.locator("#tiers")).to_contain_text("Cán bộ nhân sự đơn vị")

        # What was done, newest first, as identity's account audit has it.
        history = page.locator("#history tbody tr")
        for row, label in enumerate(("Cấp quyền", "Thu hồi quyền", "Mở lại tài khoản", "Khóa tài khoản")):
            await expect(history.nth(row)).to_contain_text(label)
        await expect(history.nth(0)).to_contain_text(ADMIN)
        await expect(page.locator("#history")).to_contain_text("Đưa vào danh sách chờ xử lý")
        await assert_accessible(page)

        # Hà Nội's admin reads the same history of an account of its subtree (R-AUD-1).
        local = await (await browser.new_context(bypass_csp=True)).new_page()
        await local.goto(f"{gateway}/web/accounts/{username}")
        await _log_in(local, system, "qthanoi")
        await expect(local.locator("#history tbody tr").first).to_contain_text("Cấp quyền", timeout=WAIT_MS)
        await expect(local.locator("#history")).to_contain_text("Khóa tài khoản")
