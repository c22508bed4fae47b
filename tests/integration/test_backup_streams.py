"""The JetStream streams as the part 'events' of a backup set (issue 12, points 1 and 5; ADR 0026),
on the suite's real NATS: taken while events flow, restored into fresh streams `<TARGET>_<stream>`
verified by counts and digest, with the durable consumers at their positions; a consumer resuming
there counts no event twice (the inbox); a damaged part and a taken target are refused with
nothing changed; and backup's NATS user cannot reach beyond what the part needs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb_backup.sets.writing import SETS_DIR
from qlcb_backup.stores.jetstream import restored_name
from qlcb_common.db import Database
from qlcb_common.events.inbox import Inbox
from qlcb_common.events.streams import ALL_STREAMS, PERSONNEL
from tests.support import System, api_client, eventually, person_body, restore_by_two, unique_code

ADMIN = "quantri"
EVENTS = "events"


@asynccontextmanager
async def _bus(system: System, user: str = "ops", errors: list[str] | None = None) -> AsyncIterator[Client]:
    name, password = system.infra.nats.credentials(user)

    async def error(exc: Exception) -> None:
        if errors is not None:
            errors.append(str(exc))

    nc = await nats.connect(system.infra.nats.url, user=name, password=password, error_cb=error)
    try:
        yield nc
    finally:
        await nc.close()


async def _take(api: httpx.AsyncClient, *stores: str) -> dict[str, Any]:
    created = await api.post("/v1/backup-sets", json={"stores": list(stores)})
    assert created.status_code == 201, created.text
    backup_set: dict[str, Any] = created.json()
    assert backup_set["status"] == "good", backup_set
    return backup_set


def _target() -> tuple[str, str]:
    """A restore's suffix, and the target the events part is restored into with it."""
    suffix = unique_code("streams").lower()
    return suffix, f"{EVENTS}_{suffix}"


async def _restore(system: System, set_id: object, suffix: str) -> httpx.Response:
    """The events part of the set restored, asked by one system admin and confirmed by another."""
    return await restore_by_two(system, set_id, suffix, EVENTS)


async def _add_persons(api: httpx.AsyncClient, system: System, count: int) -> None:
    for _ in range(count):
        # A Chi cục's staff: the Tổng cục itself has none (the authz matrix counts on it).
        body = person_body(system.unit_ids["HQHN-NB"], f"Nguyễn Văn {unique_code('Luong')}")
        created = await api.post("/v1/persons", json=body)
        assert created.status_code == 201, created.text


async def _stream_state(nc: Client, name: str) -> dict[str, Any]:
    info = await nc.jetstream().stream_info(name)
    return {"messages": info.state.messages, "first": info.state.first_seq, "last": info.state.last_seq}


async def _durables(nc: Client, stream: str) -> dict[str, int]:
    """Each durable consumer of the stream and its ack floor (a stream sequence)."""
    consumers = await nc.jetstream().consumers_info(stream)
    return {c.name: c.ack_floor.stream_seq for c in consumers if c.config.durable_name and c.ack_floor is not None}


async def test_a_set_taken_while_events_flow_restores_into_fresh_streams_verified_with_positions(
    system: System,
) -> None:
    async with _bus(system) as nc, api_client(system.gateway_url, system.token(ADMIN)) as api:
        await _add_persons(api, system, 2)
        before = await _stream_state(nc, PERSONNEL.name)
        # No message of the live stream was ever removed: restored sequences are the original ones.
        assert before["first"] == 1
        assert before["messages"] == before["last"]
        floors_before = await _durables(nc, PERSONNEL.name)
        assert "reports-personnel" in floors_before
        flowing = asyncio.create_task(_add_persons(api, system, 15))
        try:
            backup_set = await _take(api, EVENTS, "reports")
        finally:
            await flowing
        assert backup_set["stores"] == [EVENTS, "reports"]
        part = next(p for p in backup_set["parts"] if p["store"] == EVENTS)
        floors_after = await _durables(nc, PERSONNEL.name)
        after = await _stream_state(nc, PERSONNEL.name)

        suffix, target = _target()
        answer = await _restore(system, backup_set["id"], suffix)
        assert answer.status_code == 200, answer.text
        (restored_part,) = answer.json()["parts"]
        assert restored_part["target"] == target
        assert restored_part["verified"] is True
        assert restored_part["content_digest"] == part["content_digest"]

        restored = await _stream_state(nc, restored_name(target, PERSONNEL.name))
        assert before["messages"] <= restored["messages"] <= after["messages"]
        info = await nc.jetstream().stream_info(restored_name(target, PERSONNEL.name))
        assert info.config.subjects == [f"qlcb_restore.{target}.qlcb.personnel.>"]
        floors = await _durables(nc, restored_name(target, PERSONNEL.name))
        assert set(floors) == set(floors_before)
        for name, floor in floors.items():
            # Read before the messages: never ahead of them, nor behind what was acknowledged before.
            assert floors_before[name] <= floor <= min(floors_after[name], restored["messages"]), name
        for stream in ALL_STREAMS:
            copied = await _durables(nc, restored_name(target, stream.name))
            assert copied.keys() == (await _durables(nc, stream.name)).keys(), stream.name
        # The live stream kept its name, its subjects and every message.
        assert (await _stream_state(nc, PERSONNEL.name))["messages"] >= after["messages"]


@pytest.fixture
async def counter_db(tmp_path: Path) -> AsyncIterator[tuple[Database, Inbox, Table]]:
    metadata = MetaData()
    inbox = Inbox.of(metadata)
    counted = Table("counted", metadata, Column("event_id", String(36)), Column("n", Integer))
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'counter.sqlite3'}")
    await db.create_schema(metadata)
    try:
        yield db, inbox, counted
    finally:
        await db.dispose()


async def _handle(db: Database, inbox: Inbox, counted: Table, consumer: str, data: bytes) -> bool:
    """What a service's consumer does (events.consumer): the effect and the inbox row in one unit
    of work; False for an event already processed."""
    envelope = Envelope()
    envelope.ParseFromString(data)
    async with db.unit_of_work() as session:
        if await inbox.seen(session, consumer=consumer, event_id=envelope.event_id):
            return False
        await session.execute(insert(counted).values(event_id=envelope.event_id, n=1))
        await inbox.record(session, consumer=consumer, event_id=envelope.event_id, subject=envelope.subject)
    return True


async def test_a_restored_consumer_resumes_from_its_position_and_counts_no_event_twice(
    system: System, counter_db: tuple[Database, Inbox, Table]
) -> None:
    db, inbox, counted = counter_db
    consumer = unique_code("dem").lower()
    async with _bus(system) as nc, api_client(system.gateway_url, system.token(ADMIN)) as api:
        js = nc.jetstream()
        # From the next event on: what earlier tests left in the stream (redeliveries included) is
        # not this consumer's.
        start = (await _stream_state(nc, PERSONNEL.name))["last"] + 1
        await js.add_consumer(
            PERSONNEL.name,
            ConsumerConfig(
                durable_name=consumer,
                ack_policy=AckPolicy.EXPLICIT,
                filter_subjects=["qlcb.personnel.>"],
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=start,
            ),
        )
        await _add_persons(api, system, 3)

        async def last() -> int:
            return int((await _stream_state(nc, PERSONNEL.name))["last"])

        total = (
            await eventually(last, lambda seq: seq >= start + 2, timeout=60, what="the 3 people's events") - start + 1
        )
        live = await js.pull_subscribe_bind(durable=consumer, stream=PERSONNEL.name)
        fetched: list[Msg] = []
        while len(fetched) < total:
            fetched += await live.fetch(total - len(fetched), timeout=30)
        # Applied and acknowledged up to the last two, which are applied but not acknowledged:
        # a crash between commit and ack, so the position is behind what the database holds.
        for message in fetched:
            assert await _handle(db, inbox, counted, consumer, message.data)
        for message in fetched[:-2]:
            await message.ack_sync()
        await live.unsubscribe()
        unacknowledged = [m.metadata.sequence.stream for m in fetched[-2:]]

        suffix, target = _target()
        assert (await _restore(system, (await _take(api, EVENTS))["id"], suffix)).status_code == 200

        restored = await js.pull_subscribe_bind(durable=consumer, stream=restored_name(target, PERSONNEL.name))
        redelivered = await restored.fetch(2, timeout=10)
        # Resumes right after its ack floor: the two it had not acknowledged come first, again.
        assert [m.metadata.sequence.stream for m in redelivered] == unacknowledged
        outcomes = []
        for message in redelivered:
            outcomes.append(await _handle(db, inbox, counted, consumer, message.data))
            await message.ack_sync()
        await restored.unsubscribe()
        await js.delete_consumer(PERSONNEL.name, consumer)
    assert outcomes == [False, False]
    async with db.unit_of_work() as session:
        rows = await session.scalar(select(func.count()).select_from(counted))
        events = await session.scalar(select(func.count(func.distinct(counted.c.event_id))))
    assert rows == events == total


def _part_path(system: System, set_id: str) -> Path:
    return system.services.run_dir / "backups" / SETS_DIR / set_id / f"{EVENTS}.part"


async def test_a_truncated_events_part_is_refused_and_no_stream_is_created(system: System) -> None:
    async with _bus(system) as nc, api_client(system.gateway_url, system.token(ADMIN)) as api:
        backup_set = await _take(api, EVENTS)
        path = _part_path(system, backup_set["id"])
        path.write_bytes(path.read_bytes()[:-64])
        suffix, target = _target()
        refused = await _restore(system, backup_set["id"], suffix)
        assert refused.status_code == 500, refused.text
        assert "events.part: SHA-256 không khớp với bản kê đã ký (bị cắt ngắn" in refused.json()["detail"]["message"]
        names = [str(info.config.name) for info in await nc.jetstream().streams_info()]
    assert not [name for name in names if name.startswith(target.upper())]


async def test_a_restore_target_whose_stream_exists_is_refused_with_nothing_changed(system: System) -> None:
    async with _bus(system) as nc, api_client(system.gateway_url, system.token(ADMIN)) as api:
        backup_set = await _take(api, EVENTS)
        suffix, target = _target()
        occupied = restored_name(target, ALL_STREAMS[-1].name)
        js = nc.jetstream()
        await js.add_stream(name=occupied, subjects=[f"qlcb_restore.{target}.occupied"])
        await js.publish(f"qlcb_restore.{target}.occupied", b"giu nguyen")
        body = {"set_id": backup_set["id"], "stores": [EVENTS], "target_suffix": suffix, "reason": "Kiểm tra"}
        refused = await api.post("/v1/restores", json=body)
        assert refused.status_code == 409, refused.text
        assert "đã tồn tại" in refused.json()["detail"]["message"]
        names = [str(info.config.name) for info in await js.streams_info()]
        assert [name for name in names if name.startswith(target.upper())] == [occupied]
        assert (await _stream_state(nc, occupied))["messages"] == 1


async def test_backups_nats_user_reads_every_stream_but_cannot_publish_events_nor_touch_live_streams(
    system: System,
) -> None:
    errors: list[str] = []
    async with _bus(system) as ops:
        live = {s.name: await _stream_state(ops, s.name) for s in ALL_STREAMS}
        durables = {s.name: await _durables(ops, s.name) for s in ALL_STREAMS}
    async with _bus(system, "backup", errors) as nc:
        first = await nc.request(f"$JS.API.STREAM.MSG.GET.{PERSONNEL.name}", json.dumps({"seq": 1}).encode())
        assert json.loads(first.data)["message"]["seq"] == 1
        listed = await nc.request(f"$JS.API.CONSUMER.LIST.{PERSONNEL.name}", b"")
        assert "reports-personnel" in {c["name"] for c in json.loads(listed.data)["consumers"]}
        forbidden = [
            "qlcb.personnel.person.created",
            "qlcb.identity.account.created",
            f"$JS.API.STREAM.DELETE.{PERSONNEL.name}",
            f"$JS.API.STREAM.PURGE.{PERSONNEL.name}",
            f"$JS.API.STREAM.UPDATE.{PERSONNEL.name}",
            f"$JS.API.STREAM.CREATE.{PERSONNEL.name}",
            f"$JS.API.STREAM.MSG.DELETE.{PERSONNEL.name}",
            f"$JS.API.CONSUMER.CREATE.{PERSONNEL.name}.ke_la",
            f"$JS.API.CONSUMER.DELETE.{PERSONNEL.name}.reports-personnel",
        ]
        for subject in forbidden:
            await nc.publish(subject, b"{}")
        await nc.flush()

        def refused(seen: list[str]) -> bool:
            # nats-py hands the server's refusal over in lower case.
            lowered = [e for e in map(str.lower, seen) if "permissions violation" in e]
            return all(any(f'"{subject.lower()}"' in e for e in lowered) for subject in forbidden)

        async def probe() -> list[str]:
            return list(errors)

        await eventually(probe, refused, timeout=10, what="the server refusing each forbidden subject")
    async with _bus(system) as ops:
        for stream in ALL_STREAMS:
            state = await _stream_state(ops, stream.name)
            assert state["first"] == live[stream.name]["first"]
            assert durables[stream.name].keys() == (await _durables(ops, stream.name)).keys()
        assert "ke_la" not in await _durables(ops, PERSONNEL.name)
