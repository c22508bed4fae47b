"""Subjects of the events personnel publishes."""

UNIT_ESTABLISHED = "qlcb.personnel.unit.established"
PERSON_CREATED = "qlcb.personnel.person.created"
