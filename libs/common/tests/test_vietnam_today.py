"""Today is Vietnam's (UTC+7), whatever zone the server's clock runs in: at 18:30 UTC on 7 December
it is already 8 December in Hà Nội, and a delegation or term ending on the 7th has ended."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

import pytest

from qlcb_common import days


class _Clock(datetime):
    """datetime whose now() is 2026-12-07 18:30 UTC, in the zone asked for."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _Clock:
        moment = datetime(2026, 12, 7, 18, 30, tzinfo=UTC).astimezone(tz)
        return cls.fromtimestamp(moment.timestamp(), tz)


def test_today_is_vietnams_day_after_17_00_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(days, "datetime", _Clock)
    assert days.vietnam_today() == date(2026, 12, 8)
