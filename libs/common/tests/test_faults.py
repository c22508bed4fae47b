"""Fault points hold a service still only when a development setup names their folder and a test
armed the point, once per arming; production refuses the folder."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from qlcb_common.faults import NO_FAULT_POINTS, FaultPoints, arm, held, release
from qlcb_common.settings import FaultPointSettings

POINT = "relay.published"


async def until_held(directory: Path, point: str) -> dict[str, Any]:
    """What the caller waiting at `point` holds, once one does (within five seconds)."""
    for _ in range(500):
        if (detail := held(directory, point)) is not None:
            return detail
        await asyncio.sleep(0.01)
    raise AssertionError(f"nobody came to hold {point}")


def _files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_the_folder_is_refused_outside_development_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QLCB_ENVIRONMENT", raising=False)
    monkeypatch.setenv("QLCB_FAULT_POINTS_DIR", str(tmp_path))
    with pytest.raises(ValidationError) as refused:
        FaultPointSettings()
    assert "QLCB_FAULT_POINTS_DIR is set" in str(refused.value)
    assert "QLCB_ENVIRONMENT is production" in str(refused.value)
    monkeypatch.setenv("QLCB_ENVIRONMENT", "development")
    assert FaultPointSettings().fault_points_dir == tmp_path


def test_without_the_setting_no_point_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QLCB_FAULT_POINTS_DIR", raising=False)
    monkeypatch.delenv("QLCB_ENVIRONMENT", raising=False)
    assert FaultPointSettings().fault_points_dir is None


async def test_a_point_holds_nowhere_without_a_folder_or_unarmed(tmp_path: Path) -> None:
    arm(tmp_path, POINT)
    await asyncio.wait_for(NO_FAULT_POINTS.hold(POINT, {}), timeout=1)
    await asyncio.wait_for(FaultPoints(tmp_path).hold("consumer.committed.other", {}), timeout=1)
    assert held(tmp_path, "consumer.committed.other") is None


async def test_an_armed_point_holds_its_first_caller_until_released(tmp_path: Path) -> None:
    points = FaultPoints(tmp_path)
    arm(tmp_path, POINT)
    first = asyncio.create_task(points.hold(POINT, {"event_ids": ["a", "b"]}))
    assert await until_held(tmp_path, POINT) == {"event_ids": ["a", "b"]}
    await asyncio.wait_for(points.hold(POINT, {"event_ids": ["c"]}), timeout=1)  # taken once per arming
    assert not first.done()
    release(tmp_path, POINT)
    await asyncio.wait_for(first, timeout=1)
    assert held(tmp_path, POINT) is None
    assert _files(tmp_path) == []


def test_releasing_an_untaken_point_disarms_it(tmp_path: Path) -> None:
    arm(tmp_path, POINT)
    release(tmp_path, POINT)
    assert _files(tmp_path) == []
