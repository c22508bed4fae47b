"""The notices every page shows (R-OPS-1): asked of identity at most once every
`REFRESH_SECONDS`, asked again at once after this process posted or closed one, and kept as they
were when identity fails or answers what is not a list of notices."""

from __future__ import annotations

from datetime import datetime

import httpx

from qlcb_gateway.web.notice_board import REFRESH_SECONDS, NoticeBoard

NOTICE = {
    "id": "5f1c2b1e-0000-4000-8000-000000000001",
    "kind": "upgrade",
    "title": "Nâng cấp phiên bản 2.5",
    "body": "Hệ thống tạm dừng.",
    "starts_at": "2026-12-09T20:00:00+07:00",
    "ends_at": "2026-12-09T22:00:00+07:00",
    "posted_at": "2026-12-07T09:00:00+07:00",
}


class Identity:
    def __init__(self) -> None:
        self.answer: httpx.Response | Exception = httpx.Response(200, json=[NOTICE])
        self.asked = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def test_the_board_asks_once_in_a_while_again_when_told_and_keeps_what_it_held() -> None:
    identity, now = Identity(), [1000.0]
    board = NoticeBoard(clock=lambda: now[0])
    async with httpx.AsyncClient(base_url="http://identity.test", transport=httpx.MockTransport(identity)) as client:
        await board.refresh(client)
        (held,) = board.held()
        assert (held.kind_label, held.title, held.starts_at) == (
            "Thông báo nâng cấp hệ thống",
            "Nâng cấp phiên bản 2.5",
            datetime.fromisoformat("2026-12-09T20:00:00+07:00"),
        )
        now[0] += REFRESH_SECONDS - 1
        await board.refresh(client)
        assert identity.asked == 1, "held a while"

        identity.answer = httpx.ConnectError("identity is down")
        now[0] += 2
        await board.refresh(client)
        assert (identity.asked, len(board.held())) == (2, 1), "kept while identity is down"
        identity.answer = httpx.Response(200, json=[{"kind": "upgrade"}])
        board.forget()
        await board.refresh(client)
        assert (identity.asked, len(board.held())) == (3, 1), "kept when the answer is not notices"
        identity.answer = httpx.Response(200, json=[])
        board.forget()
        await board.refresh(client)
        assert board.held() == [], "closed: gone at once after this process closed it"
