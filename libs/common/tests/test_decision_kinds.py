from __future__ import annotations

from qlcb.personnel.v1 import personnel_pb2
from qlcb_common.decision_kinds import KINDS
from qlcb_common.record_sections import BY_NAME


def test_each_kind_writes_one_declared_section_or_gives_one_known_status() -> None:
    for kind in KINDS:
        assert (kind.section is None) != (kind.status is None), kind.name
        if kind.section is not None:
            assert kind.section in BY_NAME, kind.name
        else:
            assert kind.status in personnel_pb2.PersonStatus.keys()  # noqa: SIM118 (an enum wrapper, not a dict), kind.name


def test_raise_kinds_write_the_salary_section() -> None:
    assert {k.name for k in KINDS if k.salary_rule is not None} == {"regular_raise", "early_raise", "over_frame"}
    assert all(k.section == "salary" for k in KINDS if k.salary_rule is not None)
