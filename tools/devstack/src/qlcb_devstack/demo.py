"""The demo organisation: a General Department, two HQ units, two provincial departments
with two sub-units each, a few dozen personnel and one login per tier."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from qlcb_devstack.accounts import Account


@dataclass(frozen=True)
class DemoUnit:
    code: str
    name: str
    kind: str
    parent: str | None

    def path(self, units: dict[str, DemoUnit]) -> str:
        parent = units[self.parent].path(units) if self.parent else ""
        return f"{parent}/{self.code}"


UNITS = [
    DemoUnit("TCHQ", "Tổng cục Hải quan", "general_department", None),
    DemoUnit("VTCCB", "Vụ Tổ chức cán bộ", "hq_department", "TCHQ"),
    DemoUnit("CDTCBL", "Cục Điều tra chống buôn lậu", "hq_unit", "TCHQ"),
    DemoUnit("HQHN", "Cục Hải quan thành phố Hà Nội", "provincial_department", "TCHQ"),
    DemoUnit("HQHN-NB", "Chi cục Hải quan cửa khẩu Sân bay quốc tế Nội Bài", "sub_unit", "HQHN"),
    DemoUnit("HQHN-BHN", "Chi cục Hải quan Bắc Hà Nội", "sub_unit", "HQHN"),
    DemoUnit("HQHCM", "Cục Hải quan Thành phố Hồ Chí Minh", "provincial_department", "TCHQ"),
    DemoUnit("HQHCM-TSN", "Chi cục Hải quan cửa khẩu Sân bay quốc tế Tân Sơn Nhất", "sub_unit", "HQHCM"),
    DemoUnit("HQHCM-SG1", "Chi cục Hải quan cửa khẩu cảng Sài Gòn khu vực I", "sub_unit", "HQHCM"),
]
UNITS_BY_CODE = {u.code: u for u in UNITS}

DEMO_PASSWORD = "Demo@2026!"

# (username, tier, unit code, full name)
_LOGINS = [
    ("quantri", "system-admin", "TCHQ", "Nguyễn Văn Quản"),
    ("vutccb", "sector-hr", "VTCCB", "Trần Thị Tổ"),
    ("lanhdaovu", "sector-viewer", "VTCCB", "Lê Văn Lãnh"),
    ("canbo.vutccb", "hq-department", "VTCCB", "Phạm Thị Vụ"),
    ("cucdtcbl", "hq-unit", "CDTCBL", "Hoàng Văn Điều"),
    ("qthanoi", "local-admin", "HQHN", "Vũ Thị Hà"),
    ("nhansu1.hanoi", "local-officer", "HQHN", "Đặng Văn Nhân"),
    ("thutruong.hcm", "unit-leader", "HQHCM", "Bùi Thị Trưởng"),
    ("canbo.noibai", "self", "HQHN-NB", "Đỗ Văn Bài"),
]


# What Hà Nội's admin granted its personnel officer ("Nhân sự 1"): the staff's particulars and
# their work history; salary, rewards, family and the rest stay closed to it.
_OFFICER_SECTIONS = {"nhansu1.hanoi": ("identity", "work_history")}


def accounts() -> list[Account]:
    own_record = self_person()
    return [
        Account(
            username,
            DEMO_PASSWORD,
            tier,
            UNITS_BY_CODE[unit].path(UNITS_BY_CODE),
            name if tier != "self" else own_record.full_name,
            _OFFICER_SECTIONS.get(username, ()),
            own_record.personal_id if tier == "self" else None,
        )
        for username, tier, unit, name in _LOGINS
    ]


def self_person() -> DemoPerson:
    """The demo record the self-tier login (canbo.noibai) holds: the first one in Nội Bài."""
    return next(p for p in personnel(len(UNITS)) if p.unit_code == "HQHN-NB")


_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
_MIDDLE_MALE = ["Văn", "Hữu", "Đức", "Minh", "Quang", "Công"]
_MIDDLE_FEMALE = ["Thị", "Ngọc", "Thu", "Thanh", "Bích", "Kim"]
_GIVEN_MALE = ["Anh", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Sơn", "Tuấn"]
_GIVEN_FEMALE = ["Chi", "Dung", "Hà", "Hạnh", "Hương", "Lan", "Linh", "Mai", "Nga", "Thảo", "Yến"]


@dataclass(frozen=True)
class DemoPerson:
    personal_id: str
    staff_number: str
    full_name: str
    date_of_birth: date
    sex: str
    unit_code: str


def personnel(count: int = 36, seed: int = 2026) -> list[DemoPerson]:
    """Deterministic demo staff spread over every unit below the General Department."""
    rng = random.Random(seed)
    units = [u.code for u in UNITS if u.parent]
    people = []
    for i in range(count):
        female = rng.random() < 0.45
        middle = rng.choice(_MIDDLE_FEMALE if female else _MIDDLE_MALE)
        given = rng.choice(_GIVEN_FEMALE if female else _GIVEN_MALE)
        born = date(rng.randint(1966, 2001), rng.randint(1, 12), rng.randint(1, 28))
        century_sex = (0 if born.year < 2000 else 2) + (1 if female else 0)
        personal_id = f"001{century_sex}{born.year % 100:02d}{rng.randint(0, 999999):06d}"
        people.append(
            DemoPerson(
                personal_id=personal_id,
                staff_number=f"HQ{i + 1:05d}",
                full_name=f"{rng.choice(_FAMILY)} {middle} {given}",
                date_of_birth=born,
                sex="female" if female else "male",
                unit_code=units[i % len(units)],
            )
        )
    return people
