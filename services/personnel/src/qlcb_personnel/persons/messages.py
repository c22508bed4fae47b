from __future__ import annotations

from qlcb.personnel.v1 import personnel_pb2
from qlcb_personnel.persons.models import Person

ACTIVE = "PERSON_STATUS_ACTIVE"


def to_proto(person: Person, status: str = ACTIVE) -> personnel_pb2.Person:
    return personnel_pb2.Person(
        id=person.id,
        personal_id=person.personal_id,
        staff_number=person.staff_number,
        full_name=person.full_name,
        date_of_birth=person.date_of_birth.isoformat(),
        sex=personnel_pb2.Sex.Value(person.sex),
        unit_id=person.unit_id,
        status=personnel_pb2.PersonStatus.Value(status),
    )
