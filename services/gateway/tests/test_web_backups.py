"""The backup page against a stand-in backup service: the sets, drills and restores newest first with
the age of the last good set; backing up and drilling now; a restore asked with its fields checked
first (nothing sent on a fault), the service's refusals in its words (a confirmation by the admin
who asked); only with the session's CSRF token; offered in the navigation to the system admin only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from google.protobuf.timestamp_pb2 import Timestamp
from html_tree import parsed
from web_stand_ins import SESSION, Verifier, invalid_argument, rpc_error, stand_in_pages

from qlcb.backup.v1 import backup_pb2
from qlcb_common.auth import Principal
from qlcb_gateway.web.pages import who


def _at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _sets(now: datetime) -> list[backup_pb2.BackupSet]:
    return [
        backup_pb2.BackupSet(
            id="s2-failed", status="failed", created_at=_at(now - timedelta(hours=1)), failure="pg_dump exited 1"
        ),
        backup_pb2.BackupSet(
            id="s1-good-set",
            status="good",
            created_at=_at(now - timedelta(hours=26)),
            finished_at=_at(now - timedelta(hours=25, minutes=50)),
            stores=["identity", "personnel", "reports"],
            size_bytes=3 * 1048576 + 524288,
        ),
    ]


@dataclass
class Backup:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    """When the test begins: the page tells the sets' ages from its own clock, moments later."""
    sets: list[backup_pb2.BackupSet] = field(default_factory=list)
    restores: list[backup_pb2.Restore] = field(default_factory=list)
    drills: int = 0
    asked: list[backup_pb2.RequestRestoreRequest] = field(default_factory=list)
    refusal: grpc.aio.AioRpcError | None = None
    refused: bool = False  # the caller is not the system admin

    def __post_init__(self) -> None:
        self.sets = self.sets or _sets(self.now)

    async def ListBackupSets(self, request: Any, **options: Any) -> backup_pb2.ListBackupSetsResponse:
        if self.refused:
            raise rpc_error(grpc.StatusCode.PERMISSION_DENIED, "Không có quyền operate phần backup")
        return backup_pb2.ListBackupSetsResponse(sets=self.sets)

    async def ListRestores(self, request: Any, **options: Any) -> backup_pb2.ListRestoresResponse:
        return backup_pb2.ListRestoresResponse(restores=self.restores)

    async def ListDrills(self, request: Any, **options: Any) -> backup_pb2.ListDrillsResponse:
        drills = [
            backup_pb2.Drill(
                id=f"d{n}", set_id="s1-good-set", status="passed", started_at=_at(self.now), started_by="quantri"
            )
            for n in range(self.drills)
        ]
        return backup_pb2.ListDrillsResponse(drills=drills)

    async def CreateBackupSet(self, request: Any, **options: Any) -> backup_pb2.CreateBackupSetResponse:
        made = backup_pb2.BackupSet(id="s3-new", status="good", created_at=_at(self.now), stores=["personnel"])
        self.sets.insert(0, made)
        return backup_pb2.CreateBackupSetResponse(set=made)

    async def RunDrill(self, request: Any, **options: Any) -> backup_pb2.RunDrillResponse:
        self.drills += 1
        return backup_pb2.RunDrillResponse(drill=backup_pb2.Drill(id=f"d{self.drills - 1}", status="passed"))

    async def RequestRestore(self, request: Any, **options: Any) -> backup_pb2.RequestRestoreResponse:
        if self.refusal is not None:
            raise self.refusal
        self.asked.append(request)
        restore = backup_pb2.Restore(
            id="r1", set_id=request.set_id, status="requested", reason=request.reason, requested_by="quantri"
        )
        self.restores.insert(0, restore)
        return backup_pb2.RequestRestoreResponse(restore=restore)

    async def ConfirmRestore(self, request: Any, **options: Any) -> backup_pb2.ConfirmRestoreResponse:
        raise rpc_error(grpc.StatusCode.PERMISSION_DENIED, "Người xác nhận phải khác người yêu cầu phục hồi")

    async def CancelRestore(self, request: Any, **options: Any) -> backup_pb2.CancelRestoreResponse:
        self.restores[0].status = "cancelled"
        return backup_pb2.CancelRestoreResponse(restore=self.restores[0])


@dataclass
class Page:
    client: TestClient
    backup: Backup
    verifier: Verifier


@pytest.fixture
def page() -> Iterator[Page]:
    backup, verifier = Backup(), Verifier()
    verifier.roles = frozenset({"system-admin"})
    options = {"backup_call_options": lambda token: {"metadata": (("authorization", f"Bearer {token}"),)}}
    with stand_in_pages(verifier, backup=backup, **options) as client:
        yield Page(client, backup, verifier)


def _post(page: Page, path: str, form: dict[str, str] | None = None, *, csrf: str = SESSION.csrf_token) -> Any:
    return page.client.post(f"/web/backups/{path}", data={"csrf_token": csrf} | (form or {}))


def test_the_sets_are_listed_with_the_age_of_the_last_good_one_and_the_navigation_offers_the_page(page: Page) -> None:
    response = page.client.get("/web/backups")
    assert response.status_code == 200
    html = parsed(response.text)
    assert html.one(id="last-good").all_text().endswith("(25 giờ trước).")
    rows = html.one("section", id="sets").find_all("tr")[1:]
    assert [row.attrs["id"] for row in rows] == ["set-s2-failed", "set-s1-good-set"]
    assert rows[0].find_all("td")[2].all_text() == "Lỗi: pg_dump exited 1"
    assert [td.all_text() for td in rows[1].find_all("td")][2:] == [
        "Hoàn tất, đã kiểm tra",
        "identity, personnel, reports",
        "3,5",
        "s1-good-",
    ]
    assert "Sao lưu" in [a.all_text() for a in html.one("nav").find_all("a")]
    offered = [option.attrs["value"] for option in html.one("select", name="set_id").find_all("option")[1:]]
    assert offered == ["s1-good-set"], "only a good set can be restored"


def test_backing_up_and_drilling_now_come_back_to_the_page_at_what_they_made(page: Page) -> None:
    made = _post(page, "set")
    assert made.status_code == 303
    assert made.headers["location"].endswith("/web/backups#set-s3-new")
    drilled = _post(page, "drill")
    assert drilled.headers["location"].endswith("/web/backups#drill-d0")
    html = parsed(page.client.get("/web/backups").text)
    assert html.one("tr", id="drill-d0").find_all("td")[2].all_text() == "Đạt: mọi phần phục hồi và khớp"
    assert _post(page, "set", csrf="forged").status_code == 403
    assert _post(page, "wipe").status_code == 404
    assert len(page.backup.sets) == 3, "the forged and the unknown posts made nothing"


def test_a_restore_is_asked_with_its_fields_checked_first_and_the_services_refusals_are_said(page: Page) -> None:
    bad = _post(page, "restore", {"set_id": "s2-failed", "target_suffix": "Ngày mai", "reason": ""})
    assert bad.status_code == 422
    html = parsed(bad.text)
    errors = {f: html.one(id=f"f-{f}-error").all_text() for f in ("set_id", "reason")}
    assert errors == {"set_id": "Không có trong danh mục", "reason": "Bắt buộc nhập"}
    assert page.backup.asked == []
    suffix = _post(page, "restore", {"set_id": "s1-good-set", "target_suffix": "Ngày mai", "reason": "Kiểm tra"})
    assert suffix.status_code == 422
    assert (
        parsed(suffix.text).one(id="f-target_suffix-error").all_text()
        == "Chỉ chữ thường a–z, số và _, bắt đầu bằng chữ hoặc số"
    )
    assert page.backup.asked == []

    page.backup.refusal = invalid_argument(("target_suffix", "CSDL personnel_kiemtra đã có"))
    taken = _post(page, "restore", {"set_id": "s1-good-set", "target_suffix": "kiemtra", "reason": "Sự cố"})
    assert taken.status_code == 422
    assert parsed(taken.text).one(id="f-target_suffix-error").all_text() == "CSDL personnel_kiemtra đã có"

    page.backup.refusal = None
    asked = _post(page, "restore", {"set_id": "s1-good-set", "target_suffix": "kiemtra", "reason": "Sự cố ổ đĩa"})
    assert asked.headers["location"].endswith("/web/backups#restore-r1")
    [request] = page.backup.asked
    assert (request.set_id, request.target_suffix, request.reason) == ("s1-good-set", "kiemtra", "Sự cố ổ đĩa")

    own = page.client.post("/web/backups/restores/r1/confirm", data={"csrf_token": SESSION.csrf_token})
    assert own.status_code == 403
    assert "Người xác nhận phải khác người yêu cầu phục hồi" in parsed(own.text).one(id="faults").all_text()
    cancelled = page.client.post("/web/backups/restores/r1/cancel", data={"csrf_token": SESSION.csrf_token})
    assert cancelled.status_code == 303
    row = parsed(page.client.get("/web/backups").text).one("tr", id="restore-r1")
    assert row.find_all("td")[4].all_text() == "Đã hủy hoặc hết hạn"
    assert row.find_all("form") == [], "a restore no longer waiting offers nothing"


def test_only_the_system_admin_is_offered_the_backups_and_another_tier_is_refused_the_page(page: Page) -> None:
    def principal(*roles: str) -> Principal:
        return Principal(subject="s", username="u", roles=frozenset(roles), unit_path="/TCHQ", token="t", claims={})

    assert who(principal("system-admin")).runs_backups
    assert not any(who(principal(tier)).runs_backups for tier in ("sector-hr", "local-admin", "unit-leader"))
    page.backup.refused = True
    refused = page.client.get("/web/backups")
    assert refused.status_code == 403
    assert "pg_dump" not in refused.text
