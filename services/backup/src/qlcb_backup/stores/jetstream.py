"""The event streams as a store (ADR 0026): every stream of the system with every message and
every durable consumer's position, in one file (`stream_part`), read and restored through the
JetStream API as backup's own NATS user.

The dump reads the consumers' positions first, then each stream's last sequence, then the
messages up to it: a position never points past the messages kept, and since this part is dumped
before the services' databases (its store name sorts first), never past what those hold either.
A restore writes into new streams `<TARGET>_<stream>` whose subjects are the original ones under
`qlcb_restore.<target>.`, so nothing live is touched."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import structlog
from nats.aio.client import Client

from qlcb_backup.stores import stream_part
from qlcb_backup.stores.base import StoreVersions
from qlcb_backup.stores.stream_part import ConsumerEntry, ContentDigest, Header, PartWriter, StreamEntry, StreamMessage
from qlcb_common.errors import AlreadyExists, FailedPrecondition, Unavailable
from qlcb_common.events.permissions import RESTORE_SUBJECT_PREFIX
from qlcb_common.events.streams import ALL_STREAMS

log = structlog.get_logger(__name__)

STORE_NAME: Final = "events"
"""Sorts before every service's store: the positions are read before any database is dumped."""
API: Final = "$JS.API"
NO_MESSAGE: Final = 10037
STREAM_NOT_FOUND: Final = 10059
WINDOW: Final = 256
"""Messages requested at once while reading a stream."""
SWITCHED_FROM: Final = "qlcb_switched_from"
KEPT_AS: Final = "qlcb_kept_as"
_INSTANT: Final = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)")
"""The metadata keys `stream_switch` gives a live stream it made from a restored copy: which copy, and
where the former live stream is kept (absent when there was none)."""
RESTORE_DUPLICATE_WINDOW_SECONDS: Final = 0.1
"""The shortest JetStream allows: two kept messages with the same Nats-Msg-Id (published again after
the original window) must both be restored, as they were kept; the second waits for the window."""

Connect = Callable[[], Awaitable[Client]]


class JetStreamError(Exception):
    def __init__(self, subject: str, code: int, description: str) -> None:
        super().__init__(f"{subject}: {description} ({code})")
        self.code = code


class JetStreamStore:
    switches_online = False

    def __init__(self, connect: Connect, *, streams: Sequence[str] | None = None) -> None:
        self._connect = connect
        self._streams = tuple(streams) if streams is not None else tuple(stream.name for stream in ALL_STREAMS)

    async def dump(self, destination: Path) -> str:
        nc = await self._open()
        try:
            consumers = [c for name in self._streams for c in await durable_consumers(nc, name)]
            kept = [stream for name in self._streams if (stream := await stream_entry(nc, name)) is not None]
            present = {stream.name for stream in kept}
            header = Header(
                captured_at=datetime.now(UTC).isoformat(),
                streams=tuple(kept),
                consumers=tuple(c for c in consumers if c.stream in present),
            )
            with destination.open("wb") as file:
                writer = PartWriter(file, header)
                for stream in kept:
                    async for message in _read(nc, stream.name, stream.first_seq, stream.last_seq):
                        writer.message(message)
                return writer.finish()
        finally:
            await nc.close()

    async def versions(self) -> StoreVersions:
        nc = await self._open()
        try:
            info = await request(nc, f"{API}.INFO")
            version = nc.connected_server_version
        finally:
            await nc.close()
        return StoreVersions(
            tool=f"nats-server {version.major}.{version.minor}.{version.patch} "
            f"JetStream API level {info.get('api', {}).get('level', 0)}",
            schema=f"{stream_part.FORMAT} streams:{','.join(self._streams)}",
            digest_algorithm=stream_part.FORMAT,
        )

    async def target_exists(self, name: str) -> bool:
        nc = await self._open()
        try:
            for stream in self._streams:
                if await stream_entry(nc, restored_name(name, stream)) is not None:
                    return True
            return False
        finally:
            await nc.close()

    async def restore(self, source: Path, name: str) -> str:
        summary = await asyncio.to_thread(stream_part.check, source)
        nc = await self._open()
        created: list[str] = []
        try:
            for entry in summary.header.streams:
                if await stream_entry(nc, restored_name(name, entry.name)) is not None:
                    raise AlreadyExists(f"target_database: luồng {restored_name(name, entry.name)} đã tồn tại")
            for entry in summary.header.streams:
                target = restored_name(name, entry.name)
                await request(nc, f"{API}.STREAM.CREATE.{target}", _restored_config(entry, target, name))
                created.append(target)
            await _publish(nc, source, name)
            for consumer in summary.header.consumers:
                position = stream_part.position_index(summary.kept[consumer.stream], consumer.ack_floor)
                target = restored_name(name, consumer.stream)
                config = _restored_consumer(consumer, name, position)
                await request(
                    nc, f"{API}.CONSUMER.CREATE.{target}.{consumer.name}", {"stream_name": target, "config": config}
                )
            return await _digest(nc, summary.header, name)
        except BaseException:
            for target in created:
                try:
                    await request(nc, f"{API}.STREAM.DELETE.{target}")
                except Exception as exc:
                    log.error("restored stream left behind", stream=target, error=repr(exc))
            raise
        finally:
            await nc.close()

    async def discard(self, name: str) -> None:
        nc = await self._open()
        try:
            for stream in self._streams:
                target = restored_name(name, stream)
                if await stream_entry(nc, target) is not None:
                    await request(nc, f"{API}.STREAM.DELETE.{target}")
        finally:
            await nc.close()

    async def switched_offline(self, restored: str, *, keep_as: str) -> bool:
        """Whether the operator's command (`qlcb_backup.stream_switch`) has made the streams restored
        into `restored` the live ones, keeping the former ones as `keep_as`: every live stream of the
        restored copy says so in its metadata, and was made after the copy (the command makes it again
        from the copy). A service's bus user may update its own stream's metadata, but not make it
        again: marks it set on a live stream older than the copy are not taken for the command's."""
        nc = await self._open()
        try:
            for stream in self._streams:
                live = await stream_info(nc, stream)
                copy = await stream_info(nc, restored_name(restored, stream))
                metadata = (live["config"].get("metadata") or {}) if live is not None else {}
                marked = metadata.get(SWITCHED_FROM) == restored and metadata.get(KEPT_AS) in (keep_as, None)
                if marked and (copy is None or (live is not None and _created(live) > _created(copy))):
                    continue
                if copy is not None:
                    return False
            return True
        finally:
            await nc.close()

    async def switch(self, restored: str, *, keep_as: str) -> None:
        """The live streams are replaced only with every service stopped, by the operator's command
        (`qlcb_backup.stream_switch`): while the services run, their relays publish into the live
        streams and their consumers pull from them. Once it has run, the switch records it."""
        if not await self.switched_offline(restored, keep_as=keep_as):
            raise FailedPrecondition(self.how_to_switch(restored, keep_as=keep_as))

    def how_to_switch(self, restored: str, *, keep_as: str) -> str:
        return (
            f"luồng đã khôi phục {restored} chưa thành luồng đang chạy: dừng mọi dịch vụ trừ dịch vụ sao lưu, chạy "
            f"'python -m qlcb_backup.stream_switch --restored {restored} --keep-as {keep_as}', rồi yêu cầu chuyển "
            "đổi lại"
        )

    async def _open(self) -> Client:
        try:
            return await self._connect()
        except Exception as exc:
            raise Unavailable(f"Không kết nối được NATS để sao lưu luồng sự kiện: {exc!r}") from exc


def restored_name(target: str, stream: str) -> str:
    return f"{target.upper()}_{stream}"


def restored_subject(target: str, subject: str) -> str:
    return f"{RESTORE_SUBJECT_PREFIX}.{target}.{subject}"


def original_subject(target: str, subject: str) -> str:
    prefix = restored_subject(target, "")
    if not subject.startswith(prefix):
        raise FailedPrecondition(f"Tin nhắn {subject!r} không nằm dưới {prefix!r}")
    return subject[len(prefix) :]


async def request(nc: Client, subject: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    payload = json.dumps(body).encode() if body is not None else b""
    try:
        reply = await nc.request(subject, payload, timeout=10)
    except TimeoutError as exc:
        raise Unavailable(f"JetStream không trả lời {subject} (hoặc NATS từ chối quyền)") from exc
    answer: dict[str, Any] = json.loads(reply.data)
    error = answer.get("error")
    if error:
        raise JetStreamError(subject, int(error.get("err_code", 0)), str(error.get("description", "")))
    return answer


async def stream_info(nc: Client, name: str) -> dict[str, Any] | None:
    """The server's whole answer about the stream (its config, state, creation), None if missing."""
    try:
        return await request(nc, f"{API}.STREAM.INFO.{name}")
    except JetStreamError as exc:
        if exc.code == STREAM_NOT_FOUND:
            return None
        raise


def _created(info: dict[str, Any]) -> datetime:
    """When the server made the stream (RFC 3339 to the nanosecond, kept here to the microsecond)."""
    found = _INSTANT.fullmatch(str(info["created"]))
    if found is None:
        raise ValueError(f"not an instant: {info['created']!r}")
    whole, fraction, zone = found.groups()
    return datetime.fromisoformat(f"{whole}.{(fraction or '')[:6].ljust(6, '0')}{zone.replace('Z', '+00:00')}")


async def stream_entry(nc: Client, name: str) -> StreamEntry | None:
    info = await stream_info(nc, name)
    if info is None:
        return None
    state = info["state"]
    return StreamEntry(name, info["config"], int(state["first_seq"]), int(state["last_seq"]))


async def durable_consumers(nc: Client, stream: str) -> list[ConsumerEntry]:
    """The stream's durable consumers, ephemeral ones left out; none when the stream is missing."""
    found: list[ConsumerEntry] = []
    while True:
        try:
            page = await request(nc, f"{API}.CONSUMER.LIST.{stream}", {"offset": len(found)})
        except JetStreamError as exc:
            if exc.code == STREAM_NOT_FOUND:
                return []
            raise
        items = page.get("consumers") or []
        for info in items:
            config = info["config"]
            if config.get("durable_name"):
                found.append(
                    ConsumerEntry(
                        stream=stream,
                        name=info["name"],
                        config=config,
                        ack_floor=int(info["ack_floor"]["stream_seq"]),
                        delivered=int(info["delivered"]["stream_seq"]),
                    )
                )
        if not items or int(page.get("offset", 0)) + len(items) >= int(page.get("total", 0)):
            return sorted(found, key=lambda c: c.name)


async def _get(nc: Client, stream: str, seq: int) -> StreamMessage | None:
    try:
        answer = await request(nc, f"{API}.STREAM.MSG.GET.{stream}", {"seq": seq})
    except JetStreamError as exc:
        if exc.code == NO_MESSAGE:
            return None
        raise
    message = answer["message"]
    return StreamMessage(
        stream=stream,
        seq=int(message["seq"]),
        time=message["time"],
        subject=message["subject"],
        headers=_headers(base64.b64decode(message.get("hdrs") or "")),
        data=base64.b64decode(message.get("data") or ""),
    )


async def _read(nc: Client, stream: str, first: int, last: int) -> AsyncIterator[StreamMessage]:
    """The stream's messages from `first` to `last`, gaps (deleted or aged out) skipped."""
    for start in range(max(first, 1), last + 1, WINDOW):
        window = range(start, min(start + WINDOW, last + 1))
        for message in await asyncio.gather(*(_get(nc, stream, seq) for seq in window)):
            if message is not None:
                yield message


def _headers(block: bytes) -> tuple[tuple[str, str], ...]:
    """The headers of a stored message ("NATS/1.0\\r\\nName: value\\r\\n…"), in order."""
    if not block:
        return ()
    lines = block.decode().split("\r\n")[1:]
    pairs = []
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


def _restored_config(entry: StreamEntry, target: str, name: str) -> dict[str, Any]:
    left_out = ("sources", "mirror", "republish", "sealed", "first_seq")
    config = {k: v for k, v in entry.config.items() if k not in left_out}
    config["name"] = target
    config["subjects"] = [restored_subject(name, subject) for subject in entry.config.get("subjects", [])]
    config["duplicate_window"] = int(RESTORE_DUPLICATE_WINDOW_SECONDS * 1e9)
    config["metadata"] = own_metadata(entry.config)
    return config


def _restored_consumer(consumer: ConsumerEntry, name: str, position: int) -> dict[str, Any]:
    """The consumer's configuration on the restored stream, starting right after its ack floor:
    what it had delivered and not acknowledged is delivered again (the inbox drops repeats)."""
    return consumer_from(consumer, position + 1, lambda subject: restored_subject(name, subject))


def consumer_from(consumer: ConsumerEntry, start: int, subject: Callable[[str], str]) -> dict[str, Any]:
    """The consumer's configuration delivering from stream sequence `start` on a stream whose
    subjects are `subject` of the consumer's."""
    config = {k: v for k, v in consumer.config.items() if k not in ("opt_start_time", "filter_subject")}
    config["deliver_policy"] = "by_start_sequence"
    config["opt_start_seq"] = start
    filters = consumer.config.get("filter_subjects") or (
        [consumer.config["filter_subject"]] if consumer.config.get("filter_subject") else []
    )
    if filters:
        config["filter_subjects"] = [subject(filtered) for filtered in filters]
    if consumer.config.get("deliver_subject"):
        config["deliver_subject"] = subject(consumer.config["deliver_subject"])
    config["metadata"] = own_metadata(consumer.config)
    return config


def own_metadata(config: dict[str, Any]) -> dict[str, str]:
    """The metadata given by whoever made the stream or consumer, without the server's own."""
    return {k: v for k, v in (config.get("metadata") or {}).items() if not k.startswith("_nats.")}


async def _publish(nc: Client, source: Path, name: str) -> None:
    js = nc.jetstream()
    expected: dict[str, int] = {}
    recent: dict[str, float] = {}
    order: deque[str] = deque()
    loop = asyncio.get_running_loop()
    window = 2 * RESTORE_DUPLICATE_WINDOW_SECONDS
    for message in stream_part.messages(source):
        target = restored_name(name, message.stream)
        msg_id = dict(message.headers).get("Nats-Msg-Id")
        if msg_id is not None:
            while order and loop.time() - recent[order[0]] >= window:
                del recent[order.popleft()]
            if msg_id in recent:
                await asyncio.sleep(recent[msg_id] + window - loop.time())
                order.remove(msg_id)
            recent[msg_id] = loop.time()
            order.append(msg_id)
        ack = await js.publish(
            restored_subject(name, message.subject),
            message.data,
            headers=dict(message.headers) or None,
        )
        expected[target] = expected.get(target, 0) + 1
        if ack.stream != target or ack.seq != expected[target]:
            raise FailedPrecondition(
                f"Luồng {target}: tin nhắn số {message.seq} được lưu ở vị trí {ack.seq}, "
                f"cần {expected[target]} (một tin bị bỏ qua hoặc trùng)"
            )


async def _digest(nc: Client, header: Header, name: str) -> str:
    """The content digest of the restored streams, read back from JetStream."""
    digest = ContentDigest()
    for entry in header.streams:
        target = restored_name(name, entry.name)
        digest.stream(entry.name)
        restored = await stream_entry(nc, target)
        if restored is None:
            raise FailedPrecondition(f"Luồng {target} biến mất khi đang kiểm")
        async for message in _read(nc, target, restored.first_seq, restored.last_seq):
            digest.add(entry.name, original_subject(name, message.subject), message.headers, message.data)
        for consumer in await durable_consumers(nc, target):
            digest.consumer(entry.name, consumer.name, consumer.ack_floor)
    return digest.hexdigest()
