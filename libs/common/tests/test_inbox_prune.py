"""Unit tests of a prune's transaction on a real SQLite store, with a stand-in for JetStream whose
stream or consumer is made again in the middle of the prune (ADR 0056): nothing of it is kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from qlcb_common.db import Database
from qlcb_common.events import streams
from qlcb_common.events.consumer import DurableConsumer
from qlcb_common.events.inbox import Inbox, InboxMark
from qlcb_common.settings import ConsumerPolicy

NAME = "reports-personnel"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class FakeJetStream:
    """The JetStream calls a prune makes. Each `made_again_after` call of `consumer_info` (or of
    `stream_info`) answers with a later creation time, as if it had been deleted and made again."""

    floor: int
    ids: dict[int, str]
    consumer_made_again_after: int | None = None
    stream_made_again_after: int | None = None
    calls: dict[str, int] = field(default_factory=dict)

    def _created(self, what: str, after: int | None) -> datetime:
        self.calls[what] = self.calls.get(what, 0) + 1
        return EPOCH + timedelta(hours=1) if after is not None and self.calls[what] > after else EPOCH

    async def stream_info(self, name: str) -> Any:
        return SimpleNamespace(created=self._created("stream", self.stream_made_again_after))

    async def consumer_info(self, stream: str, name: str) -> Any:
        created = self._created("consumer", self.consumer_made_again_after)
        return SimpleNamespace(created=created, ack_floor=SimpleNamespace(stream_seq=self.floor))

    async def get_msg(self, stream: str, seq: int) -> Any:
        return SimpleNamespace(headers={"Nats-Msg-Id": self.ids[seq]})


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    metadata = MetaData()
    inbox = Inbox.of(metadata)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'inbox.sqlite3'}")
    await db.create_schema(metadata)
    yield db, inbox
    await db.dispose()


def _consumer(db: Database, inbox: Inbox, js: FakeJetStream) -> DurableConsumer:
    return DurableConsumer(
        name=NAME,
        stream=streams.PERSONNEL,
        filter_subjects=["qlcb.personnel.>"],
        db=db,
        inbox=inbox,
        js=js,  # type: ignore[arg-type]
        contracts={},
        handler=None,  # type: ignore[arg-type]
        policy=ConsumerPolicy(processed_kept=timedelta(days=1)),
    )


async def _marked_and_recorded(db: Database, inbox: Inbox) -> None:
    """A mark through sequence 2 counting from EPOCH, and ids at sequences 1 to 4, applied after it."""
    mark = InboxMark(streams.PERSONNEL.name, EPOCH.isoformat(), 2, "e2", EPOCH)
    async with db.unit_of_work() as session:
        await inbox.set_mark(session, consumer=NAME, mark=mark)
        await inbox.record_all(session, consumer=NAME, events=[(f"e{n}", "s", n) for n in range(1, 5)])


async def _state(db: Database, inbox: Inbox) -> tuple[set[str], int]:
    async with db.unit_of_work() as session:
        ids = set(await session.scalars(select(inbox.table.c.event_id)))
        mark = await inbox.mark(session, consumer=NAME)
    assert mark is not None
    return ids, mark.through


async def test_a_prune_deletes_the_ids_at_or_below_the_floor_and_moves_the_mark(store: Any) -> None:
    db, inbox = store
    await _marked_and_recorded(db, inbox)
    js = FakeJetStream(floor=3, ids={2: "e2", 3: "e3"})
    assert await _consumer(db, inbox, js).prune(datetime.now(UTC) + timedelta(days=1)) == 3
    assert await _state(db, inbox) == ({"e4"}, 3)


@pytest.mark.parametrize("made_again", ["consumer", "stream"])
async def test_nothing_of_a_prune_is_kept_if_the_consumer_or_its_stream_was_made_again_meanwhile(
    store: Any, made_again: str
) -> None:
    db, inbox = store
    await _marked_and_recorded(db, inbox)
    js = FakeJetStream(floor=3, ids={2: "e2", 3: "e3"})
    setattr(js, f"{made_again}_made_again_after", 1)
    with pytest.raises(Exception, match="made again"):
        await _consumer(db, inbox, js).prune(datetime.now(UTC) + timedelta(days=1))
    assert await _state(db, inbox) == ({"e1", "e2", "e3", "e4"}, 2)


async def test_a_floor_whose_message_is_gone_marks_nothing_and_deletes_nothing(store: Any) -> None:
    db, inbox = store
    await _marked_and_recorded(db, inbox)
    js = FakeJetStream(floor=3, ids={2: "e2", 3: ""})
    assert await _consumer(db, inbox, js).prune(datetime.now(UTC) + timedelta(days=1)) == 0
    assert await _state(db, inbox) == ({"e1", "e2", "e3", "e4"}, 2)
