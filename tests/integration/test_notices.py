"""Notices to every user (R-OPS-1): the system admin announces an upgrade at least 24 hours ahead
(004 Điều 14.6) and posts an incident (003 Điều 15.7); anyone reads those in force without logging
in, from identity and from the gateway's REST edge, until the notice ends or is closed. Refusals name
the field and the reason and write nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support import System, api_client


def _window(hours_ahead: float, hours_long: float = 2) -> dict[str, str]:
    start = datetime.now(UTC) + timedelta(hours=hours_ahead)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=hours_long)).isoformat()}


UPGRADE = {"kind": "upgrade", "title": "Nâng cấp phiên bản 2.4", "body": "Hệ thống tạm dừng.\nDữ liệu không đổi."}


def _faults(answer: httpx.Response) -> dict[str, str]:
    return {".".join(str(p) for p in f["loc"][1:]): f["msg"] for f in answer.json()["detail"]}


async def test_an_upgrade_is_announced_a_day_ahead_and_an_incident_shown_until_closed(system: System) -> None:
    identity = system.services.identity_url
    async with (
        api_client(identity, system.token("quantri")) as sysadmin,
        api_client(identity, system.token("qthanoi")) as local_admin,
        httpx.AsyncClient(base_url=identity, timeout=30) as anyone,
        httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as edge,
    ):

        async def shown() -> list[dict[str, Any]]:
            listed = await anyone.get("/v1/notices")
            assert listed.status_code == 200, listed.text
            found: list[dict[str, Any]] = listed.json()
            return found

        before = await shown()
        too_soon = await sysadmin.post("/v1/notices", json=UPGRADE | _window(23))
        assert too_soon.status_code == 422, too_soon.text
        assert "24 giờ" in _faults(too_soon)["starts_at"]
        open_ended = await sysadmin.post("/v1/notices", json=UPGRADE | {"starts_at": _window(30)["starts_at"]})
        assert _faults(open_ended).keys() == {"ends_at"}, "an upgrade says when it ends"
        backwards = await sysadmin.post("/v1/notices", json=UPGRADE | _window(30, hours_long=-1))
        assert "sau thời điểm bắt đầu" in _faults(backwards)["ends_at"]
        garbled = await sysadmin.post("/v1/notices", json=UPGRADE | _window(30) | {"title": "Nâng\x07cấp"})
        assert _faults(garbled).keys() == {"title"}
        not_theirs = await local_admin.post("/v1/notices", json=UPGRADE | _window(30))
        assert not_theirs.status_code == 403
        assert await shown() == before, "nothing refused was posted"

        upgrade = await sysadmin.post("/v1/notices", json=UPGRADE | _window(30))
        assert upgrade.status_code == 201, upgrade.text
        incident = await sysadmin.post(
            "/v1/notices",
            json={
                "kind": "incident",
                "title": "Sự cố kết nối cơ sở dữ liệu",
                "body": "Không ghi được hồ sơ; đang khắc phục.",
                "starts_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            },
        )
        assert incident.status_code == 201, incident.text
        ids = [upgrade.json()["id"], incident.json()["id"]]
        listed = [n for n in await shown() if n["id"] in ids]
        assert [n["id"] for n in listed] == ids[::-1], "the incident, begun already, comes first"
        assert listed[1]["body"] == UPGRADE["body"], "its lines kept"
        from_edge = (await edge.get("/v1/notices")).json()
        assert [n["id"] for n in from_edge if n["id"] in ids] == ids[::-1]

        closed = await sysadmin.post(f"/v1/notices/{ids[1]}/close")
        assert closed.status_code == 200, closed.text
        again = await sysadmin.post(f"/v1/notices/{ids[1]}/close")
        assert again.status_code == 409
        unknown = await sysadmin.post("/v1/notices/00000000-0000-0000-0000-000000000000/close")
        assert unknown.status_code == 404
        assert [n["id"] for n in await shown() if n["id"] in ids] == [ids[0]]

        refused = await local_admin.get("/v1/notices/posted")
        assert refused.status_code == 403
        posted = {n["id"]: n for n in (await sysadmin.get("/v1/notices/posted")).json()}
        assert (posted[ids[1]]["closed_by"], posted[ids[0]]["closed_at"]) == ("quantri", None)
        log = (await sysadmin.get("/v1/audit", params={"target": ids[1]})).json()
        assert {e["action"] for e in log} == {"notice.post", "notice.close"}
        await sysadmin.post(f"/v1/notices/{ids[0]}/close")
