"""The demo organisation and its generator at any size: the units the tests and logins name come
first, people come one at a time with identifiers no two share, and what the record generator
writes is what personnel would store."""

from __future__ import annotations

from collections import Counter
from datetime import date
from itertools import islice

from qlcb_common.errors import FieldViolation
from qlcb_common.identifiers import PERSONAL_ID, STAFF_NUMBER, UNIT_CODE
from qlcb_common.record_sections import BY_NAME, check_values
from qlcb_devstack import demo, records

NAMED_BY_TESTS = [
    "TCHQ",
    "VTCCB",
    "CDTCBL",
    "HQHN",
    "HQHN-NB",
    "HQHN-BHN",
    "HQHCM",
    "HQHCM-TSN",
    "HQHCM-SG1",
    "CDTCBL-KV1",
    "VTCCB-TCBM",
]


def _well_formed(units: list[demo.DemoUnit]) -> None:
    seen: set[str] = set()
    for unit in units:
        assert UNIT_CODE.fullmatch(unit.code), unit
        assert unit.code not in seen, unit
        assert unit.parent is None or unit.parent in seen, f"{unit.code} comes before its parent"
        seen.add(unit.code)


def test_the_demo_is_a_customs_organisation_of_fifty_two_units_keeping_the_named_ones_first() -> None:
    assert [u.code for u in demo.UNITS[: len(NAMED_BY_TESTS)]] == NAMED_BY_TESTS
    assert len(demo.UNITS) == 52
    _well_formed(demo.UNITS)
    kinds = Counter(u.kind for u in demo.UNITS)
    assert kinds["general_department"] == 1
    assert kinds["provincial_department"] >= 10
    parents = Counter(demo.UNITS_BY_CODE[u.parent].kind for u in demo.UNITS if u.kind == "sub_unit" and u.parent)
    assert parents["provincial_department"] >= 20, "the Chi cục of the provinces"
    assert (parents["hq_unit"], parents["hq_department"]) == (1, 1), "a team of an HQ unit, a division of a Vụ"


def test_units_scale_to_a_thousand_below_the_demo_ones() -> None:
    units = demo.units(1000)
    assert len(units) == 1000
    assert units[: len(demo.UNITS)] == demo.UNITS
    _well_formed(units)
    assert demo.units(20) == demo.UNITS[:20]


def test_a_small_seed_puts_one_person_in_each_named_unit_first() -> None:
    """The test system seeds twelve people: the units the tests read staff from each get one."""
    first = [p.unit_code for p in demo.personnel(len(NAMED_BY_TESTS) - 1)]
    assert first == NAMED_BY_TESTS[1:]
    assert demo.self_person().unit_code == "HQHN-NB"


def test_the_demo_people_are_spread_over_every_unit_by_its_size() -> None:
    placed = Counter(p.unit_code for p in demo.personnel())
    staffed = [u for u in demo.UNITS if u.parent]
    assert sum(placed.values()) == demo.DEMO_PEOPLE
    assert set(placed) == {u.code for u in staffed}
    assert placed["HQHCM-SG1"] > 2 * placed["VPC"], "a port's Chi cục has far more staff than a Vụ"


def test_people_come_one_at_a_time_and_the_first_are_the_same_at_any_scale() -> None:
    million = demo.people(1_000_000, among=demo.units(1000))
    first = list(islice(million, 40))
    assert [(p.personal_id, p.full_name, p.date_of_birth) for p in first] == [
        (p.personal_id, p.full_name, p.date_of_birth) for p in demo.personnel(40)
    ]


def test_no_two_generated_people_share_a_personal_id_or_staff_number() -> None:
    people = demo.personnel(50_000)
    assert len({p.personal_id for p in people}) == len(people)
    assert len({p.staff_number for p in people}) == len(people)
    assert all(PERSONAL_ID.fullmatch(p.personal_id) and STAFF_NUMBER.fullmatch(p.staff_number) for p in people)
    # Serials repeat only from the millionth person on, in another province of registration.
    born = date(1980, 5, 1)
    around = {demo.personal_id(i, born, False) for i in range(999_990, 1_000_010)}
    assert len(around) == 20
    assert demo.personal_id(0, born, False) != demo.personal_id(1_000_000, born, False)


def test_generated_values_are_stored_as_written() -> None:
    """The benchmark loads generated entries straight into the store: they must be what personnel
    itself would store after its checks (trimmed, NFC, decimals with two places, codes upper case)."""
    for person in demo.personnel(200):
        for entry in records.sections(person):
            violations: list[FieldViolation] = []
            assert check_values(BY_NAME[entry.section], entry.body["values"], violations) == entry.body["values"]
            assert violations == []
