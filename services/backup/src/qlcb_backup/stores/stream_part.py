"""The plain file of the event streams' part (ADR 0026), before it is sealed: JSON lines.

    line 1        {"format": "qlcb-jetstream/1", "captured_at", "streams": [{name, config, first_seq,
                  last_seq}], "consumers": [{stream, name, config, ack_floor, delivered}]}
    then          one line per message, streams in the header's order, each in sequence order:
                  {"stream", "seq", "time", "subject", "headers": [[name, value], ...], "data": base64}
    last line     {"end": {"messages": {stream: count}, "digest"}}

A file without its last line was cut short, and is refused; so is any line that is not what its
place calls for, naming the line. Sequences and times are the original ones; a consumer's
`ack_floor` and `delivered` are original stream sequences, mapped at restore to the restored
stream's (`position_index`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from qlcb_backup.stores.base import combine
from qlcb_common.errors import DataLoss

FORMAT: Final = "qlcb-jetstream/1"


@dataclass(frozen=True)
class StreamMessage:
    stream: str
    seq: int
    time: str
    subject: str
    headers: tuple[tuple[str, str], ...]
    data: bytes

    def line(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "seq": self.seq,
            "time": self.time,
            "subject": self.subject,
            "headers": [list(pair) for pair in self.headers],
            "data": base64.b64encode(self.data).decode(),
        }


@dataclass(frozen=True)
class StreamEntry:
    name: str
    config: dict[str, Any]
    first_seq: int
    last_seq: int


@dataclass(frozen=True)
class ConsumerEntry:
    stream: str
    name: str
    config: dict[str, Any]
    ack_floor: int
    delivered: int


@dataclass(frozen=True)
class Header:
    captured_at: str
    streams: tuple[StreamEntry, ...]
    consumers: tuple[ConsumerEntry, ...]


class ContentDigest:
    """The digest of a part's content, the same whether computed while dumping or by reading back
    the restored streams: per stream, its count and a SHA-256 over (subject, headers, data) in
    order; per durable consumer, its ack floor as the number of kept messages at or below it."""

    def __init__(self) -> None:
        self._streams: dict[str, Any] = {}
        self._counts: dict[str, int] = {}
        self._consumers: dict[str, int] = {}

    def add(self, stream: str, subject: str, headers: Sequence[tuple[str, str]], data: bytes) -> None:
        hasher = self._streams.setdefault(stream, hashlib.sha256())
        item = [subject, sorted([name, value] for name, value in headers), base64.b64encode(data).decode()]
        hasher.update(json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode() + b"\n")
        self._counts[stream] = self._counts.get(stream, 0) + 1

    def stream(self, stream: str) -> None:
        """A stream kept, even with no message."""
        self._streams.setdefault(stream, hashlib.sha256())
        self._counts.setdefault(stream, 0)

    def consumer(self, stream: str, name: str, position: int) -> None:
        self._consumers[f"{stream}/{name}"] = position

    @property
    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    def hexdigest(self) -> str:
        pairs = [(f"stream:{name}", f"{self._counts[name]}:{h.hexdigest()}") for name, h in self._streams.items()]
        pairs += [(f"consumer:{key}", str(position)) for key, position in self._consumers.items()]
        return combine(pairs)


def position_index(kept_seqs: Sequence[int], original: int) -> int:
    """How many of the kept messages (sorted original sequences) are at or below `original`: the
    restored stream numbers its messages 1..n, so this is the position in the restored stream."""
    return bisect_right(kept_seqs, original)


@dataclass
class PartWriter:
    """Writes a part line by line, digesting what it writes."""

    file: IO[bytes]
    header: Header
    digest: ContentDigest = field(default_factory=ContentDigest)
    _kept: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._write(
            {
                "format": FORMAT,
                "captured_at": self.header.captured_at,
                "streams": [
                    {"name": s.name, "config": s.config, "first_seq": s.first_seq, "last_seq": s.last_seq}
                    for s in self.header.streams
                ],
                "consumers": [
                    {
                        "stream": c.stream,
                        "name": c.name,
                        "config": c.config,
                        "ack_floor": c.ack_floor,
                        "delivered": c.delivered,
                    }
                    for c in self.header.consumers
                ],
            }
        )
        for stream in self.header.streams:
            self.digest.stream(stream.name)
            self._kept[stream.name] = []

    def message(self, message: StreamMessage) -> None:
        self._write(message.line())
        self.digest.add(message.stream, message.subject, message.headers, message.data)
        self._kept[message.stream].append(message.seq)

    def finish(self) -> str:
        for consumer in self.header.consumers:
            self.digest.consumer(
                consumer.stream, consumer.name, position_index(self._kept[consumer.stream], consumer.ack_floor)
            )
        digest = self.digest.hexdigest()
        self._write({"end": {"messages": self.digest.counts, "digest": digest}})
        return digest

    def _write(self, line: dict[str, Any]) -> None:
        self.file.write(json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode() + b"\n")


@dataclass(frozen=True)
class PartSummary:
    header: Header
    counts: dict[str, int]
    digest: str
    kept: dict[str, list[int]]
    """Per stream, the original sequences of the kept messages, in order."""


def read_header(path: Path) -> Header:
    with path.open("rb") as file:
        return _header(file.readline(), 1)


def messages(path: Path) -> Iterator[StreamMessage]:
    """The messages of a part that `check` accepted, in file order."""
    with path.open("rb") as file:
        file.readline()
        for number, raw in enumerate(file, start=2):
            line = _json(raw, number)
            if "end" in line:
                return
            yield _message(line, number)


def check(path: Path) -> PartSummary:
    """Reads the whole file and refuses it unless it is whole and well formed; nothing is restored
    from a part that has not passed this."""
    with path.open("rb") as file:
        header = _header(file.readline(), 1)
        order = [stream.name for stream in header.streams]
        digest = ContentDigest()
        kept: dict[str, list[int]] = {name: [] for name in order}
        for name in order:
            digest.stream(name)
        current = 0
        number = 1
        for number, raw in enumerate(file, start=2):
            line = _json(raw, number)
            if "end" in line:
                return _end(file, line, number, header, digest, kept)
            message = _message(line, number)
            if message.stream not in kept:
                raise _refused(number, f"luồng {message.stream!r} không có trong phần đầu tệp")
            position = order.index(message.stream)
            previous = kept[message.stream]
            if position < current or (previous and message.seq <= previous[-1]):
                raise _refused(number, "tin nhắn không theo thứ tự luồng và số thứ tự")
            current = position
            previous.append(message.seq)
            digest.add(message.stream, message.subject, message.headers, message.data)
    raise _refused(number + 1, "tệp bị cắt ngắn: thiếu dòng kết thúc")


def _end(
    file: IO[bytes],
    line: dict[str, Any],
    number: int,
    header: Header,
    digest: ContentDigest,
    kept: dict[str, list[int]],
) -> PartSummary:
    if file.read(1):
        raise _refused(number + 1, "có dữ liệu sau dòng kết thúc")
    end = line["end"]
    if not isinstance(end, dict) or not isinstance(end.get("messages"), dict) or not isinstance(end.get("digest"), str):
        raise _refused(number, "dòng kết thúc thiếu 'messages' hoặc 'digest'")
    if end["messages"] != digest.counts:
        raise _refused(number, f"số tin nhắn ghi {end['messages']} khác số đọc được {digest.counts}")
    for consumer in header.consumers:
        digest.consumer(consumer.stream, consumer.name, position_index(kept[consumer.stream], consumer.ack_floor))
    if end["digest"] != digest.hexdigest():
        raise _refused(number, "mã băm nội dung không khớp với các tin nhắn trong tệp")
    return PartSummary(header, digest.counts, end["digest"], kept)


def _header(raw: bytes, number: int) -> Header:
    if not raw:
        raise _refused(number, "tệp rỗng")
    line = _json(raw, number)
    if line.get("format") != FORMAT:
        raise _refused(number, f"định dạng {line.get('format')!r} không phải {FORMAT}")
    try:
        streams = tuple(
            StreamEntry(_str(s["name"]), _dict(s["config"]), _int(s["first_seq"]), _int(s["last_seq"]))
            for s in line["streams"]
        )
        names = {s.name for s in streams}
        consumers = tuple(
            ConsumerEntry(
                _str(c["stream"]), _str(c["name"]), _dict(c["config"]), _int(c["ack_floor"]), _int(c["delivered"])
            )
            for c in line["consumers"]
        )
        captured_at = _str(line["captured_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _refused(number, f"phần đầu tệp thiếu hoặc sai trường ({exc})") from None
    for consumer in consumers:
        if consumer.stream not in names:
            raise _refused(number, f"consumer {consumer.name} thuộc luồng {consumer.stream!r} không có trong tệp")
    return Header(captured_at, streams, consumers)


def _message(line: dict[str, Any], number: int) -> StreamMessage:
    try:
        headers = tuple((_str(name), _str(value)) for name, value in line["headers"])
        return StreamMessage(
            stream=_str(line["stream"]),
            seq=_int(line["seq"]),
            time=_str(line["time"]),
            subject=_str(line["subject"]),
            headers=headers,
            data=base64.b64decode(_str(line["data"]), validate=True),
        )
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise _refused(number, f"tin nhắn thiếu hoặc sai trường ({exc})") from None


def _json(raw: bytes, number: int) -> dict[str, Any]:
    if not raw.endswith(b"\n"):
        raise _refused(number, "tệp bị cắt ngắn giữa dòng")
    try:
        line = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refused(number, f"không phải JSON ({exc.args[0]})") from None
    if not isinstance(line, dict):
        raise _refused(number, "không phải một đối tượng JSON")
    return line


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} không phải chuỗi")
    return value


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} không phải số nguyên không âm")
    return value


def _dict(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{value!r} không phải đối tượng")
    return value


def _refused(number: int, reason: str) -> DataLoss:
    return DataLoss(f"Phần sao lưu luồng sự kiện, dòng {number}: {reason}")
