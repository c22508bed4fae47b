"""Makes the event streams restored from a set (`<TARGET>_<stream>`, ADR 0026) the live streams,
with every service but backup stopped: JetStream cannot rename a stream nor change the subjects of stored
messages, so each live stream is copied aside by sourcing, deleted, and made again from the
restored copy by sourcing with its subjects transformed back, then its consumers are made again at
their positions in the set.

Nothing is touched until every check has passed: some restored copy exists, each numbered from 1
without gaps (as a restore writes it), no kept name is taken, and the live streams are quiet (no
consumer with a pull waiting or moving, no message added) for a while. Each stream made is marked in
its metadata, which the restore's switch reads (`JetStreamStore.switched_offline`). A failure while a live stream is
copied aside removes the part of the copy; a failure after it was deleted makes it again from its kept
copy, then removes the copy. Either way the live stream is as it was and the same switch may be tried again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import structlog
from nats.aio.client import Client

from qlcb_backup.stores.jetstream import (
    API,
    KEPT_AS,
    RESTORE_DUPLICATE_WINDOW_SECONDS,
    SWITCHED_FROM,
    consumer_from,
    durable_consumers,
    original_subject,
    own_metadata,
    request,
    restored_name,
    restored_subject,
    stream_info,
)
from qlcb_common.errors import AlreadyExists, FailedPrecondition, Unavailable
from qlcb_common.events.streams import ALL_STREAMS

log = structlog.get_logger(__name__)

POLL_SECONDS: Final = 0.25
SOURCED_DUPLICATE_WINDOW_NS: Final = int(RESTORE_DUPLICATE_WINDOW_SECONDS * 1e9)
"""While a stream fills from a source: a message kept twice under one Nats-Msg-Id (sent again after
the window) holds the sourcing back by the window, so the window is the shortest allowed until the
copy is complete, then the stream's own again."""
SERVER_SET: Final = ("sources", "mirror", "sealed", "first_seq", "created")


@dataclass(frozen=True)
class SwitchedStream:
    stream: str
    kept_as: str | None
    """Where the former live stream's messages are kept (None: there was no live stream)."""
    kept_messages: int
    messages: int
    consumers: tuple[tuple[str, int], ...]
    """Each durable consumer made again, with its ack floor (its next message follows it)."""


@dataclass(frozen=True)
class _Planned:
    stream: str
    restored: str
    live: dict[str, Any] | None
    restored_info: dict[str, Any]


async def switch_streams(
    nc: Client,
    *,
    restored: str,
    keep_as: str,
    streams: Sequence[str] | None = None,
    quiet_seconds: float = 3.0,
    fill_timeout: float = 600.0,
) -> list[SwitchedStream]:
    """`restored` is the restore's target (`events_<suffix>`); the live streams are kept as
    `<KEEP_AS>_<stream>`. A stream the set did not hold (none then) is left as it is."""
    names = tuple(streams) if streams is not None else tuple(stream.name for stream in ALL_STREAMS)
    copied = [name for name in names if await stream_info(nc, restored_name(restored, name)) is not None]
    if not copied:
        raise FailedPrecondition(
            f"restored: không có luồng nào đã khôi phục vào {restored} ({restored_name(restored, '*')})"
        )
    planned = [await _plan(nc, name, restored, keep_as) for name in copied]
    await _quiet(nc, [p for p in planned if p.live is not None], quiet_seconds)
    return [await _switch_one(nc, p, restored, keep_as, fill_timeout) for p in planned]


async def _plan(nc: Client, name: str, restored: str, keep_as: str) -> _Planned:
    copy = restored_name(restored, name)
    restored_info = await stream_info(nc, copy)
    if restored_info is None:
        raise FailedPrecondition(f"restored: không có luồng đã khôi phục {copy}")
    state = restored_info["state"]
    if int(state["messages"]) and (int(state["first_seq"]) != 1 or int(state["messages"]) != int(state["last_seq"])):
        raise FailedPrecondition(
            f"restored: luồng {copy} không đánh số liên tục từ 1 ({state['first_seq']}–{state['last_seq']}, "
            f"{state['messages']} tin): không phải bản khôi phục còn nguyên"
        )
    kept = restored_name(keep_as, name)
    if await stream_info(nc, kept) is not None:
        raise AlreadyExists(f"keep_as: luồng {kept} đã tồn tại")
    return _Planned(stream=name, restored=copy, live=await stream_info(nc, name), restored_info=restored_info)


async def _quiet(nc: Client, planned: Sequence[_Planned], seconds: float) -> None:
    """Refuses while a service still runs: during `seconds`, one of its consumers has a pull
    waiting or takes or acknowledges messages, or a message reaches a live stream."""
    first = {p.stream: int(p.live["state"]["last_seq"]) for p in planned if p.live is not None}
    taken = {name: await _progress(nc, name) for name in first}
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        for name, last in first.items():
            progress = await _progress(nc, name)
            busy = sorted(
                consumer
                for consumer, (waiting, *done) in progress.items()
                if waiting or consumer not in taken[name] or taken[name][consumer][1:] != tuple(done)
            )
            if busy:
                raise FailedPrecondition(
                    f"Luồng {name}: {', '.join(busy)} đang nhận tin, một dịch vụ còn chạy; dừng mọi dịch vụ trước "
                    "khi chuyển luồng"
                )
            now = await stream_info(nc, name)
            if now is None or int(now["state"]["last_seq"]) != last:
                raise FailedPrecondition(
                    f"Luồng {name}: có tin mới trong lúc kiểm, một dịch vụ còn gửi; dừng mọi dịch vụ trước khi "
                    "chuyển luồng"
                )
        if asyncio.get_running_loop().time() >= deadline:
            return
        await asyncio.sleep(POLL_SECONDS)


async def _progress(nc: Client, stream: str) -> dict[str, tuple[int, int, int]]:
    """Per consumer of the stream: its pulls waiting (a service's fetch), and how far it has
    delivered and been acknowledged."""
    found: dict[str, tuple[int, int, int]] = {}
    while True:
        page = await request(nc, f"{API}.CONSUMER.LIST.{stream}", {"offset": len(found)})
        items = page.get("consumers") or []
        for info in items:
            delivered = int((info.get("delivered") or {}).get("consumer_seq") or 0)
            acknowledged = int((info.get("ack_floor") or {}).get("consumer_seq") or 0)
            found[info["name"]] = (int(info.get("num_waiting") or 0), delivered, acknowledged)
        if not items or len(found) >= int(page.get("total", 0)):
            return found


async def _switch_one(nc: Client, p: _Planned, restored: str, keep_as: str, timeout: float) -> SwitchedStream:
    kept: str | None = None
    kept_messages = 0
    live_config = p.live["config"] if p.live is not None else _config_of(p.stream)
    if p.live is not None:
        kept = restored_name(keep_as, p.stream)
        kept_messages = int(p.live["state"]["messages"])
        try:
            await _fill(nc, _sourced(live_config, kept, p.stream, subjects=[]), kept, kept_messages, timeout)
            # Standing alone: still sourcing, it would copy the next live stream's events past its own
            # last, and could not be the source the live stream is made again from (a cycle).
            await _settle(nc, live_config, kept)
        except BaseException:
            await _drop(nc, kept)  # the live stream is untouched: a part of a copy would only block a retry
            raise
        await request(nc, f"{API}.STREAM.DELETE.{p.stream}")
        log.warning("live stream deleted, kept by its copy", stream=p.stream, kept_as=kept, messages=kept_messages)
    messages = int(p.restored_info["state"]["messages"])
    try:
        sourced = _sourced(live_config, p.stream, p.restored, subjects=list(live_config.get("subjects") or []))
        sourced["sources"][0]["subject_transforms"] = [{"src": restored_subject(restored, ">"), "dest": ">"}]
        await _fill(nc, sourced, p.stream, messages, timeout)
        marks = {SWITCHED_FROM: restored} | ({KEPT_AS: keep_as} if kept is not None else {})
        await _settle(nc, live_config, p.stream, marks)
        consumers = await _consumers_again(nc, p, restored)
    except BaseException:
        if kept is not None:
            await _back_from_kept(nc, live_config, p.stream, kept, kept_messages, timeout)
        raise
    log.warning("stream switched to its restored copy", stream=p.stream, restored=p.restored, messages=messages)
    return SwitchedStream(p.stream, kept, kept_messages, messages, consumers)


def _config_of(name: str) -> dict[str, Any]:
    """A stream no longer on the server (its storage lost) is made again as the services declare it."""
    stream = next((s for s in ALL_STREAMS if s.name == name), None)
    if stream is None:
        raise FailedPrecondition(f"Không có luồng {name} đang chạy, và {name} không phải luồng của hệ thống")
    config: dict[str, Any] = stream.config().as_dict()
    return config


def _sourced(config: dict[str, Any], name: str, source: str, *, subjects: list[str]) -> dict[str, Any]:
    made = {k: v for k, v in config.items() if k not in SERVER_SET}
    made |= {"name": name, "subjects": subjects, "duplicate_window": SOURCED_DUPLICATE_WINDOW_NS}
    made["metadata"] = own_metadata(config)
    made["sources"] = [{"name": source}]
    return made


async def _fill(nc: Client, config: dict[str, Any], name: str, messages: int, timeout: float) -> None:
    await request(nc, f"{API}.STREAM.CREATE.{name}", config)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        info = await stream_info(nc, name)
        held = int(info["state"]["messages"]) if info is not None else -1
        if held == messages:
            return
        if held > messages:
            raise FailedPrecondition(f"Luồng {name}: {held} tin, nhiều hơn {messages} tin của nguồn")
        if asyncio.get_running_loop().time() >= deadline:
            raise Unavailable(f"Luồng {name}: sau {timeout:.0f} giây mới có {held}/{messages} tin từ nguồn")
        await asyncio.sleep(POLL_SECONDS)


async def _settle(nc: Client, live_config: dict[str, Any], name: str, marks: dict[str, str] | None = None) -> None:
    """The filled stream stands alone with its own duplicate window, and `marks` in its metadata
    (what the backup service's switch reads: `JetStreamStore.switched_offline`)."""
    info = await stream_info(nc, name)
    assert info is not None
    config = {k: v for k, v in info["config"].items() if k not in SERVER_SET}
    config["duplicate_window"] = live_config.get("duplicate_window", config["duplicate_window"])
    config["metadata"] = {k: v for k, v in own_metadata(live_config).items() if k not in (SWITCHED_FROM, KEPT_AS)}
    config["metadata"] |= marks or {}
    await request(nc, f"{API}.STREAM.UPDATE.{name}", config)


async def _consumers_again(nc: Client, p: _Planned, restored: str) -> tuple[tuple[str, int], ...]:
    """Each consumer of the restored copy on the live stream, at the same position: the live stream
    now numbers its messages as the copy does."""
    info = await stream_info(nc, p.stream)
    assert info is not None
    if int(info["state"]["last_seq"]) != int(p.restored_info["state"]["last_seq"]):
        raise FailedPrecondition(
            f"Luồng {p.stream}: số cuối {info['state']['last_seq']} khác bản khôi phục "
            f"({p.restored_info['state']['last_seq']}); vị trí của người tiêu thụ không còn đúng"
        )
    made = []
    for consumer in await durable_consumers(nc, p.restored):
        config = consumer_from(consumer, consumer.ack_floor + 1, lambda subject: original_subject(restored, subject))
        await request(
            nc, f"{API}.CONSUMER.CREATE.{p.stream}.{consumer.name}", {"stream_name": p.stream, "config": config}
        )
        made.append((consumer.name, consumer.ack_floor))
    return tuple(made)


async def _back_from_kept(
    nc: Client, live_config: dict[str, Any], name: str, kept: str, messages: int, timeout: float
) -> None:
    """After a failure past the deletion: the live stream made again from its kept copy (its
    consumers are declared again by the services, from the start; their inboxes drop what they had)."""
    log.error("switch failed; the live stream is made again from its kept copy", stream=name, kept_as=kept)
    await _drop(nc, name)
    await _fill(
        nc, _sourced(live_config, name, kept, subjects=list(live_config.get("subjects") or [])), name, messages, timeout
    )
    await _settle(nc, live_config, name)
    await _drop(nc, kept)  # the live stream holds every message again; the same switch may be tried again
    log.warning("live stream made again from its kept copy", stream=name, messages=messages)


async def _drop(nc: Client, name: str) -> None:
    if await stream_info(nc, name) is not None:
        await request(nc, f"{API}.STREAM.DELETE.{name}")
