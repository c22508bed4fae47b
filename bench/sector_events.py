"""The events personnel would publish for the generated sector (`qlcb_devstack.demo`,
`qlcb_devstack.records`, as `record_read` loads it), one person at a time, and a way to build them
in a process of their own, as JetStream would hand them to reports' consumer: the replay's process
then spends its time applying them, not building them (a fifth of it when it did both).

The child writes frames to its standard output: a 4-byte length and then, for each event, a 2-byte
subject length, a 4-byte data length, the subject and the serialized envelope; a frame of length 0
ends the stream."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import struct
import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, BinaryIO

from google.protobuf.message import Message

from bench.record_read import record_rows, start_module
from qlcb.personnel.v1 import events_pb2, personnel_pb2, record_pb2
from qlcb_common.days import vietnam_today
from qlcb_common.events import subjects
from qlcb_common.events.envelope import wrap
from qlcb_common.record_sections import BY_NAME
from qlcb_devstack import demo, records
from qlcb_personnel.catalogs.service import data_files

SEED = 10
ACTOR = "bench-loader"
PER_FRAME = 500
FRAME = struct.Struct("!I")
EVENT = struct.Struct("!HI")


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


@cache
def _catalog() -> dict[tuple[str, str], list[tuple[date, date | None, str, str]]]:
    """Each catalog code's versions as personnel seeds them: (valid from, valid to, group, kind)."""
    found: dict[tuple[str, str], list[tuple[date, date | None, str, str]]] = {}
    for document in data_files():
        for value in document["values"]:
            found.setdefault((document["catalog"], value["code"]), []).append(
                (
                    date.fromisoformat(value["valid_from"]),
                    date.fromisoformat(value["valid_to"]) if value.get("valid_to") else None,
                    value.get("group") or "",
                    str((value.get("attributes") or {}).get("kind") or ""),
                )
            )
    return found


def coded(section: str, values: dict[str, Any], day: date) -> list[events_pb2.CodedValue]:
    """As personnel's `record.service.coded_values`: each code's version valid on the entry's day,
    else its latest."""
    found = []
    for spec in BY_NAME[section].fields:
        code = values.get(spec.name)
        if spec.catalog is None or not code:
            continue
        versions = _catalog().get((spec.catalog, str(code)))
        if not versions:
            continue
        on_day = [v for v in versions if v[0] <= day and (v[1] is None or v[1] >= day)]
        _, _, group, kind = on_day[0] if on_day else max(versions)
        found.append(
            events_pb2.CodedValue(field=spec.name, catalog=spec.catalog, code=str(code), stat_group=group, kind=kind)
        )
    return found


class Stream:
    """The events personnel would publish for the generated sector, in order, one person at a time."""

    def __init__(self, people: int, unit_count: int) -> None:
        self.people = people
        self.unit_count = unit_count
        self.units = demo.units(unit_count)
        ids = random.Random(SEED)
        self.unit_ids = {u.code: _uuid(ids) for u in self.units}
        self._by_code = {u.code: u for u in self.units}
        self._now = datetime.now(UTC)

    def _unit(self, code: str) -> personnel_pb2.Unit:
        unit = self._by_code[code]
        return personnel_pb2.Unit(
            id=self.unit_ids[code],
            code=code,
            name=unit.name,
            kind=personnel_pb2.UnitKind.Value(f"UNIT_KIND_{unit.kind.upper()}"),
            parent_id=self.unit_ids[unit.parent] if unit.parent else "",
            path=unit.path(self._by_code),
        )

    def _envelope(self, subject: str, payload: Message) -> tuple[str, bytes]:
        return subject, wrap(subject, payload, actor=ACTOR, occurred_at=self._now).SerializeToString()

    def unit_events(self) -> list[tuple[str, bytes]]:
        return [
            self._envelope(subjects.PERSONNEL_UNIT_ESTABLISHED, events_pb2.UnitEstablished(unit=self._unit(u.code)))
            for u in self.units
        ]

    def person_events(self) -> Iterator[tuple[str, bytes]]:
        ids = random.Random(SEED + 1)
        codes = list(self.unit_ids)
        for person in demo.people(self.people, among=self.units):
            person_id = _uuid(ids)
            career = records.career(person, codes)
            first = career.earlier_unit or person.unit_code
            message = personnel_pb2.Person(
                id=person_id,
                personal_id=person.personal_id,
                staff_number=person.staff_number,
                full_name=person.full_name,
                date_of_birth=person.date_of_birth.isoformat(),
                sex=personnel_pb2.Sex.Value(f"SEX_{person.sex.upper()}"),
                unit_id=self.unit_ids[first],
                status=personnel_pb2.PERSON_STATUS_ACTIVE,
            )
            yield self._envelope(
                subjects.PERSONNEL_PERSON_CREATED, events_pb2.PersonCreated(person=message, unit=self._unit(first))
            )
            for row in record_rows(person_id, person, ids, self._now):
                yield self._envelope(subjects.PERSONNEL_RECORD_CHANGED, self._entry(person, row))
            if career.earlier_unit is not None and career.moved_on is not None:
                message.unit_id = self.unit_ids[person.unit_code]
                yield self._envelope(
                    subjects.PERSONNEL_PERSON_TRANSFERRED,
                    events_pb2.PersonTransferred(
                        person=message,
                        from_unit=self._unit(career.earlier_unit),
                        to_unit=self._unit(person.unit_code),
                        reason=events_pb2.MOVE_REASON_TRANSFER,
                        effective_date=career.moved_on.isoformat(),
                        decision="1/QĐ-BENCH",
                        transfer_id=_uuid(ids),
                    ),
                )
            if career.departure is not None:
                status, since = career.departure
                message.status = personnel_pb2.PersonStatus.Value(f"PERSON_STATUS_{status.upper()}")
                yield self._envelope(
                    f"qlcb.personnel.person.{status}",
                    events_pb2.PersonStatusChanged(
                        person=message,
                        previous_status=personnel_pb2.PERSON_STATUS_ACTIVE,
                        effective_date=since.isoformat(),
                        decision="1/QĐ-BENCH",
                    ),
                )

    def _entry(self, person: demo.DemoPerson, row: dict[str, Any]) -> events_pb2.RecordEntryChanged:
        """The event of the version as recorded: a first version was current when published (the
        loader's row says it is superseded by the `closed` version that follows it)."""
        values = row["values_checked"]
        day = row["valid_from"] or vietnam_today()
        return events_pb2.RecordEntryChanged(
            person_id=row["person_id"],
            personal_id=person.personal_id,
            entry=record_pb2.RecordEntry(
                id=row["id"],
                entry_id=row["entry_id"],
                version=row["version"],
                section=row["section"],
                valid_from=row["valid_from"].isoformat() if row["valid_from"] else "",
                valid_to=row["valid_to"].isoformat() if row["valid_to"] else "",
                values_json=json.dumps(values, ensure_ascii=False, sort_keys=True),
                decision=record_pb2.RecordDecision(
                    number=row["decision_number"] or "",
                    date=row["decision_date"].isoformat() if row["decision_date"] else "",
                    body=row["decision_body"] or "",
                ),
                change=row["change"],
                recorded_at=row["recorded_at"].isoformat(),
                recorded_by=row["recorded_by"],
            ),
            coded=coded(row["section"], values, day),
        )


def frames(events: Iterable[tuple[str, bytes]], per_frame: int = PER_FRAME) -> Iterator[bytes]:
    """The events, `per_frame` to a frame, then the empty frame that ends them."""
    parts: list[bytes] = []
    held = 0
    for subject, data in events:
        encoded = subject.encode()
        parts += (EVENT.pack(len(encoded), len(data)), encoded, data)
        held += 1
        if held == per_frame:
            body = b"".join(parts)
            yield FRAME.pack(len(body)) + body
            parts, held = [], 0
    if parts:
        body = b"".join(parts)
        yield FRAME.pack(len(body)) + body
    yield FRAME.pack(0)


def events_of(body: bytes) -> Iterator[tuple[str, bytes]]:
    """The (subject, data) pairs of a frame's body."""
    view = memoryview(body)
    at = 0
    while at < len(body):
        subject_length, data_length = EVENT.unpack_from(view, at)
        at += EVENT.size
        subject = bytes(view[at : at + subject_length]).decode()
        at += subject_length
        yield subject, bytes(view[at : at + data_length])
        at += data_length


async def from_child(people: int, units: int) -> AsyncIterator[tuple[str, bytes]]:
    """`Stream(people, units).person_events()`, built by a child process while they are applied."""
    child = await start_module("bench.sector_events", people=people, units=units)
    assert child.stdout is not None
    finished = False
    try:
        while length := FRAME.unpack(await child.stdout.readexactly(FRAME.size))[0]:
            for event in events_of(await child.stdout.readexactly(length)):
                yield event
        finished = True
    except asyncio.IncompleteReadError:
        raise RuntimeError(f"the events' builder stopped early ({await child.wait()})") from None
    finally:
        if not finished and child.returncode is None:
            child.kill()
        code = await child.wait()
    if code != 0:
        raise RuntimeError(f"the events' builder failed ({code})")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sector_events", description="the people's events, framed")
    parser.add_argument("--people", type=int, required=True)
    parser.add_argument("--units", type=int, required=True)
    args = parser.parse_args()
    out: BinaryIO = sys.stdout.buffer
    for frame in frames(Stream(args.people, args.units).person_events()):
        out.write(frame)
    out.flush()


if __name__ == "__main__":
    main()
