"""The file of the event streams' part (ADR 0026): written whole it reads back with the digest it
was written with; cut short or altered, it is refused naming the line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qlcb_backup.stores import stream_part
from qlcb_backup.stores.stream_part import ConsumerEntry, Header, PartWriter, StreamEntry, StreamMessage
from qlcb_common.errors import DataLoss


def _write(path: Path) -> str:
    header = Header(
        captured_at="2026-12-02T01:00:00+00:00",
        streams=(
            StreamEntry("QLCB_PERSONNEL", {"subjects": ["qlcb.personnel.>"]}, 1, 5),
            StreamEntry("QLCB_REPORTS", {"subjects": ["qlcb.reports.>"]}, 0, 0),
        ),
        consumers=(ConsumerEntry("QLCB_PERSONNEL", "reports-personnel", {"durable_name": "r"}, 4, 5),),
    )
    with path.open("wb") as file:
        writer = PartWriter(file, header)
        for seq in (1, 3, 4, 5):  # 2 was deleted
            writer.message(
                StreamMessage(
                    "QLCB_PERSONNEL",
                    seq,
                    "2026-12-02T00:00:00Z",
                    "qlcb.personnel.person.created",
                    (("Nats-Msg-Id", f"id-{seq}"),),
                    f"sự kiện {seq}".encode(),
                )
            )
        return writer.finish()


def test_a_whole_part_reads_back_with_its_digest_and_maps_positions_to_restored_sequences(tmp_path: Path) -> None:
    path = tmp_path / "events.dump"
    digest = _write(path)
    summary = stream_part.check(path)
    assert summary.digest == digest
    assert summary.counts == {"QLCB_PERSONNEL": 4, "QLCB_REPORTS": 0}
    # Ack floor 4 of the original stream: messages 1, 3, 4 are at or below it, the third restored one.
    assert stream_part.position_index(summary.kept["QLCB_PERSONNEL"], 4) == 3
    assert [m.data.decode() for m in stream_part.messages(path)] == [f"sự kiện {s}" for s in (1, 3, 4, 5)]


def test_a_part_cut_after_any_line_is_refused_as_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "events.dump"
    _write(path)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))
    with pytest.raises(DataLoss, match=r"dòng 6: tệp bị cắt ngắn: thiếu dòng kết thúc"):
        stream_part.check(path)
    path.write_bytes(b"".join(lines[:3]) + lines[3][:10])
    with pytest.raises(DataLoss, match=r"dòng 4: tệp bị cắt ngắn giữa dòng"):
        stream_part.check(path)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda line: {**line, "data": "không phải base64!"}, r"dòng 3: tin nhắn thiếu hoặc sai trường"),
        (lambda line: {**line, "seq": 1}, r"dòng 3: tin nhắn không theo thứ tự"),
        (lambda line: {**line, "stream": "KHAC"}, r"dòng 3: luồng 'KHAC' không có trong phần đầu tệp"),
        (lambda line: {**line, "data": "eA=="}, r"dòng 6: mã băm nội dung không khớp"),
    ],
)
def test_a_malformed_message_line_is_refused_naming_the_line(
    tmp_path: Path, change: Callable[[dict[str, Any]], dict[str, Any]], reason: str
) -> None:
    path = tmp_path / "events.dump"
    _write(path)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = json.dumps(change(json.loads(lines[2]))).encode() + b"\n"
    path.write_bytes(b"".join(lines))
    with pytest.raises(DataLoss, match=reason):
        stream_part.check(path)


def test_a_header_of_another_format_or_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.dump"
    path.write_bytes(b"")
    with pytest.raises(DataLoss, match="dòng 1: tệp rỗng"):
        stream_part.check(path)
    path.write_bytes(b'{"format": "khac/9"}\n')
    with pytest.raises(DataLoss, match="dòng 1: định dạng 'khac/9' không phải qlcb-jetstream/1"):
        stream_part.check(path)
    path.write_bytes(b'{"format": "qlcb-jetstream/1", "streams": []}\n')
    with pytest.raises(DataLoss, match="dòng 1: phần đầu tệp thiếu hoặc sai trường"):
        stream_part.check(path)


def test_bytes_after_the_end_line_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.dump"
    _write(path)
    with path.open("ab") as file:
        file.write(b"{}\n")
    with pytest.raises(DataLoss, match="dòng 7: có dữ liệu sau dòng kết thúc"):
        stream_part.check(path)
