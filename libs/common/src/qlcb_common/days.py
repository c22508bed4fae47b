"""Days as the sector counts them: today is Vietnam's, whatever zone a server runs in; and a day, and
an instant, as the REST APIs take them in a query: ISO 8601's text and nothing else. Pydantic would
also read a number ("0", "1700000000") as seconds since 1970, which no officer means by a day, and
answer with 1 January 1970 instead of refusing it."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator
from pydantic_core import PydanticCustomError

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

VIETNAM = timezone(timedelta(hours=7), "ICT")
"""Vietnam's time: UTC+7 all year, without daylight saving since 1975 (no tz database needed)."""


def vietnam_today() -> date:
    """Today in Vietnam. A decision takes effect, a delegation or a term ends, a person comes of age
    on Vietnam's day: the servers' clocks may run in UTC, where the day starts seven hours later."""
    return datetime.now(VIETNAM).date()


def _iso_only(value: object) -> object:
    if (isinstance(value, str) and _ISO_DAY.fullmatch(value)) or isinstance(value, date):
        return value
    raise PydanticCustomError("date_format", "Ngày phải theo dạng YYYY-MM-DD")


IsoDay = Annotated[date, BeforeValidator(_iso_only)]
"""A day in a query parameter: YYYY-MM-DD only (422 naming the parameter otherwise)."""


def _iso_instant_only(value: object) -> object:
    if (isinstance(value, str) and _ISO_DAY.match(value)) or isinstance(value, datetime):
        return value
    raise PydanticCustomError("datetime_format", "Thời điểm phải theo dạng YYYY-MM-DDTHH:MM:SS+07:00")


IsoInstant = Annotated[AwareDatetime, BeforeValidator(_iso_instant_only)]
"""An instant with its offset in a query parameter, written as ISO 8601 text."""
