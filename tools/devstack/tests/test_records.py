"""The generated records are the same on every run and follow the catalogs' rules."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from itertools import pairwise

from qlcb_devstack import demo, records


def test_the_same_people_get_the_same_records() -> None:
    first = [records.sections(p) for p in demo.personnel(20)]
    assert first == [records.sections(p) for p in demo.personnel(20)]


def test_salary_histories_step_up_in_time_on_the_grid() -> None:
    """Every 36 months (the A1 and A2.1 grid's months per step), 42 after a step held when a
    discipline was decided (TT 08/2013 Điều 2 khoản 3), as personnel works out the next raise."""
    delayed = 0
    for person in demo.personnel(400):
        entries = records.sections(person)
        steps = [e.body for e in entries if e.section == "salary"]
        assert steps, person
        starts = [date.fromisoformat(s["valid_from"]) for s in steps]
        assert starts == sorted(starts)
        assert starts[0] >= records.GRID_START
        disciplined = [date.fromisoformat(e.body["valid_from"]) for e in entries if e.section == "disciplines"]
        for earlier, later in pairwise(starts):
            months = later.year * 12 + later.month - earlier.year * 12 - earlier.month
            held = any(earlier <= day < later for day in disciplined)
            assert months == (42 if held else 36), (person, earlier, later)
            delayed += held
        coefficients = [Decimal(s["values"]["coefficient"]) for s in steps]
        assert all(lower < higher for lower, higher in pairwise(coefficients)), person
    assert delayed, "some generated step follows a discipline"


def test_every_dated_entry_is_after_birth_and_one_evaluation_a_year() -> None:
    for person in demo.personnel(36):
        entries = records.sections(person)
        for entry in entries:
            if "valid_from" in entry.body:
                assert (
                    date.fromisoformat(entry.body["valid_from"]) > person.date_of_birth
                    or entry.section == "personal_details"
                )
        years = Counter(e.body["values"]["year"] for e in entries if e.section == "evaluations")
        assert all(count == 1 for count in years.values())
        assert all(year >= 2020 for year in years), "the levels of ND 90/2020"


def test_a_staff_holds_the_sections_a_resume_asks_in_realistic_shares() -> None:
    """Everyone a residence, an identity card and a health check; some men their military service;
    some a regional allowance; many a foreign language, IT or state management course (what BM01
    counts)."""
    people = demo.personnel(400)
    holding: Counter[str] = Counter()
    for person in people:
        holding.update({e.section for e in records.sections(person)})
    assert holding["residences"] == holding["id_documents"] == holding["health"] == len(people)
    assert 5 <= holding["military_service"] <= 40
    assert 30 <= holding["allowances"] <= 100
    courses: Counter[str] = Counter()
    for person in people:
        courses.update(e.body["values"]["kind"] for e in records.sections(person) if e.section == "trainings")
    assert courses["NN"] > len(people) / 3
    assert courses["TH"] > len(people) / 3
    assert courses["QLNN"] > len(people) / 4


def test_the_rarer_sections_are_held_by_a_few_and_leaders_declare_their_assets_yearly() -> None:
    """Everyone their personal history; a few a policy-family status, an earlier labour contract, a
    concurrent post, a rotation, a secondment or a discipline; every leader an asset declaration a
    year from their appointment (or 2019) to the year before the reference day."""
    people = demo.personnel(2000)
    holding: Counter[str] = Counter()
    for person in people:
        entries = records.sections(person)
        holding.update({e.section for e in entries})
        appointed = [date.fromisoformat(e.body["valid_from"]) for e in entries if e.section == "appointments"]
        declared = [e.body["values"]["year"] for e in entries if e.section == "asset_declarations"]
        expected = list(range(max(appointed[0].year, 2019), records.REFERENCE_DAY.year)) if appointed else []
        assert declared == expected, person
        for entry in entries:
            if entry.section in ("rotations", "secondments", "concurrent_posts", "disciplines", "labour_contracts"):
                start, end = entry.body["valid_from"], entry.body.get("valid_to")
                assert end is None or start < end, (person, entry)
                assert date.fromisoformat(start) <= records.REFERENCE_DAY
    assert holding["personal_history"] == len(people)
    for section, low, high in (
        ("policy_status", 40, 130),
        ("labour_contracts", 40, 160),
        ("concurrent_posts", 40, 130),
        ("rotations", 20, 90),
        ("secondments", 10, 50),
        ("disciplines", 10, 50),
    ):
        assert low <= holding[section] <= high, (section, holding[section])
