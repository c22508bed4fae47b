"""A day or an instant in a query is ISO 8601 text: a number is not read as seconds since 1970."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from qlcb_common.days import IsoDay, IsoInstant


def test_a_day_is_its_iso_text_only() -> None:
    day = TypeAdapter(IsoDay)
    assert day.validate_python("2026-12-04") == date(2026, 12, 4)
    for wrong in ("0", "1700000000", "04/12/2026", "2026-12-4", "2026-02-30"):
        with pytest.raises(ValidationError):
            day.validate_python(wrong)
    with pytest.raises(ValidationError) as refused:
        day.validate_python("0")
    assert refused.value.errors()[0]["msg"] == "Ngày phải theo dạng YYYY-MM-DD"


def test_an_instant_is_its_iso_text_with_an_offset_only() -> None:
    instant = TypeAdapter(IsoInstant)
    assert instant.validate_python("2026-12-04T08:00:00+07:00") == datetime(2026, 12, 4, 1, tzinfo=UTC)
    for wrong in ("0", "1700000000", "2026-12-04T08:00:00"):
        with pytest.raises(ValidationError):
            instant.validate_python(wrong)
