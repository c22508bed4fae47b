"""The demo organisation: the General Department with its HQ departments and units (a team and a
division below two of them), twelve provincial departments with their Chi cục (52 units in all),
two thousand personnel spread by each unit's size, and one login per tier. The same generator
scales to any number of people and units (the record-read benchmark loads a million people over a
thousand units): people come one at a time, never held all at once, and every generated personal
id and staff number is unique."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import accumulate

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from qlcb_devstack.accounts import Account
from qlcb_devstack.ports import ENV_PREFIX


@dataclass(frozen=True)
class DemoUnit:
    code: str
    name: str
    kind: str
    parent: str | None
    staff: int = 0
    """About how many people work there; the demo's people are spread by it."""

    def path(self, units: dict[str, DemoUnit]) -> str:
        parent = units[self.parent].path(units) if self.parent else ""
        return f"{parent}/{self.code}"


def _province(code: str, name: str, staff: int, sub_units: Sequence[tuple[str, str, int]]) -> list[DemoUnit]:
    """A Cục Hải quan tỉnh/thành phố and its Chi cục."""
    return [
        DemoUnit(code, name, "provincial_department", "TCHQ", staff),
        *(
            DemoUnit(f"{code}-{suffix}", f"Chi cục Hải quan {place}", "sub_unit", code, n)
            for suffix, place, n in sub_units
        ),
    ]


# The first eleven are the units the tests and the demo logins name (among them a sub-unit of an HQ
# unit and one of a department, so every target of the authorization table exists); the rest follow
# them, so that a small seed (the test system's twelve people) still puts one person in each of those.
UNITS = [
    DemoUnit("TCHQ", "Tổng cục Hải quan", "general_department", None),
    DemoUnit("VTCCB", "Vụ Tổ chức cán bộ", "hq_department", "TCHQ", 30),
    DemoUnit("CDTCBL", "Cục Điều tra chống buôn lậu", "hq_unit", "TCHQ", 90),
    DemoUnit("HQHN", "Cục Hải quan thành phố Hà Nội", "provincial_department", "TCHQ", 60),
    DemoUnit("HQHN-NB", "Chi cục Hải quan cửa khẩu Sân bay quốc tế Nội Bài", "sub_unit", "HQHN", 90),
    DemoUnit("HQHN-BHN", "Chi cục Hải quan Bắc Hà Nội", "sub_unit", "HQHN", 50),
    DemoUnit("HQHCM", "Cục Hải quan Thành phố Hồ Chí Minh", "provincial_department", "TCHQ", 80),
    DemoUnit("HQHCM-TSN", "Chi cục Hải quan cửa khẩu Sân bay quốc tế Tân Sơn Nhất", "sub_unit", "HQHCM", 90),
    DemoUnit("HQHCM-SG1", "Chi cục Hải quan cửa khẩu cảng Sài Gòn khu vực I", "sub_unit", "HQHCM", 100),
    DemoUnit("CDTCBL-KV1", "Đội Kiểm soát chống buôn lậu khu vực miền Bắc", "sub_unit", "CDTCBL", 30),
    DemoUnit("VTCCB-TCBM", "Phòng Tổ chức bộ máy", "sub_unit", "VTCCB", 10),
    DemoUnit("VPTC", "Văn phòng Tổng cục", "hq_unit", "TCHQ", 45),
    DemoUnit("VPC", "Vụ Pháp chế", "hq_department", "TCHQ", 20),
    DemoUnit("VTVQT", "Vụ Tài vụ – Quản trị", "hq_department", "TCHQ", 25),
    DemoUnit("VHTQT", "Vụ Hợp tác quốc tế", "hq_department", "TCHQ", 20),
    DemoUnit("TTRA", "Thanh tra Tổng cục", "hq_department", "TCHQ", 20),
    DemoUnit("CGSQL", "Cục Giám sát quản lý về hải quan", "hq_unit", "TCHQ", 40),
    DemoUnit("CTXNK", "Cục Thuế xuất nhập khẩu", "hq_unit", "TCHQ", 40),
    DemoUnit("CKTSTQ", "Cục Kiểm tra sau thông quan", "hq_unit", "TCHQ", 50),
    DemoUnit("CKDHQ", "Cục Kiểm định hải quan", "hq_unit", "TCHQ", 35),
    DemoUnit("CCNTT", "Cục Công nghệ thông tin và Thống kê hải quan", "hq_unit", "TCHQ", 40),
    DemoUnit("HQHN-GT", "Chi cục Hải quan Gia Thụy", "sub_unit", "HQHN", 30),
    DemoUnit("HQHN-DT", "Chi cục Hải quan quản lý hàng đầu tư – gia công", "sub_unit", "HQHN", 30),
    DemoUnit("HQHCM-SG2", "Chi cục Hải quan cửa khẩu cảng Sài Gòn khu vực II", "sub_unit", "HQHCM", 60),
    DemoUnit("HQHCM-HP", "Chi cục Hải quan cửa khẩu cảng Hiệp Phước", "sub_unit", "HQHCM", 40),
    *_province(
        "HQHP",
        "Cục Hải quan thành phố Hải Phòng",
        50,
        [
            ("KV1", "cửa khẩu cảng Hải Phòng khu vực I", 80),
            ("KV2", "cửa khẩu cảng Hải Phòng khu vực II", 60),
            ("DV", "cửa khẩu cảng Đình Vũ", 50),
        ],
    ),
    *_province(
        "HQQN",
        "Cục Hải quan tỉnh Quảng Ninh",
        35,
        [("MC", "cửa khẩu quốc tế Móng Cái", 50), ("CL", "cửa khẩu cảng Cái Lân", 30)],
    ),
    *_province(
        "HQLS",
        "Cục Hải quan tỉnh Lạng Sơn",
        30,
        [("HN", "cửa khẩu quốc tế Hữu Nghị", 45), ("TT", "cửa khẩu Tân Thanh", 35)],
    ),
    *_province("HQLC", "Cục Hải quan tỉnh Lào Cai", 25, [("QT", "cửa khẩu quốc tế Lào Cai", 40)]),
    *_province(
        "HQDNG",
        "Cục Hải quan thành phố Đà Nẵng",
        35,
        [("SB", "cửa khẩu Sân bay quốc tế Đà Nẵng", 30), ("CDN", "cửa khẩu cảng Đà Nẵng", 35)],
    ),
    *_province(
        "HQBD",
        "Cục Hải quan tỉnh Bình Dương",
        35,
        [("ST", "Sóng Thần", 45), ("GC", "quản lý hàng gia công", 30)],
    ),
    *_province(
        "HQDN",
        "Cục Hải quan tỉnh Đồng Nai",
        35,
        [("BH", "Biên Hòa", 40), ("NT", "Nhơn Trạch", 35)],
    ),
    *_province("HQBRVT", "Cục Hải quan tỉnh Bà Rịa – Vũng Tàu", 30, [("CM", "cửa khẩu cảng Cái Mép", 50)]),
    *_province("HQCT", "Cục Hải quan thành phố Cần Thơ", 25, [("CT", "cửa khẩu cảng Cần Thơ", 30)]),
    *_province("HQNA", "Cục Hải quan tỉnh Nghệ An", 25, [("CL", "cửa khẩu cảng Cửa Lò", 30)]),
]
UNITS_BY_CODE = {u.code: u for u in UNITS}
DEMO_PEOPLE = 2000
"""How many people `make up` seeds unless told otherwise (`DemoSize`)."""


class DemoSize(BaseSettings):
    """How many people `make up` seeds: `QLCB_UP_DEMO_PEOPLE`, for a smaller or larger demo (each is
    recorded whole through the API, some 25 requests' worth of history each: a larger one is for
    the benchmarks' loaders)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    demo_people: int = Field(default=DEMO_PEOPLE, ge=1, le=20_000)


DEMO_PASSWORD = "Demo@2026!"

# (username, tier, unit code, full name)
_LOGINS = [
    ("quantri", "system-admin", "TCHQ", "Nguyễn Văn Quản"),
    # A restore needs a second system admin to confirm it (R-OPS-2).
    ("quantri2", "system-admin", "TCHQ", "Lý Thị Hồi"),
    ("vutccb", "sector-hr", "VTCCB", "Trần Thị Tổ"),
    ("lanhdaovu", "sector-viewer", "VTCCB", "Lê Văn Lãnh"),
    ("canbo.vutccb", "hq-department", "VTCCB", "Phạm Thị Vụ"),
    ("cucdtcbl", "hq-unit", "CDTCBL", "Hoàng Văn Điều"),
    ("qthanoi", "local-admin", "HQHN", "Vũ Thị Hà"),
    ("nhansu1.hanoi", "local-officer", "HQHN", "Đặng Văn Nhân"),
    ("thutruong.hcm", "unit-leader", "HQHCM", "Bùi Thị Trưởng"),
    ("canbo.noibai", "self", "HQHN-NB", "Đỗ Văn Bài"),
]


# What Hà Nội's admin granted its personnel officer ("Nhân sự 1"): the staff's particulars, their
# work history and movements; salary, rewards, family and the rest stay closed to it.
_OFFICER_SECTIONS = {"nhansu1.hanoi": ("identity", "work_history", "movement")}


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
    return next(p for p in people(len(UNITS)) if p.unit_code == "HQHN-NB")


def units(count: int) -> list[DemoUnit]:
    """`count` units: the demo's, then teams (Đội) below their Chi cục, taking the Chi cục in turn."""
    if count <= len(UNITS):
        return UNITS[:count]
    chi_cuc = [
        u for u in UNITS if u.kind == "sub_unit" and UNITS_BY_CODE[u.parent or ""].kind == "provincial_department"
    ]
    teams = [
        DemoUnit(
            f"{parent.code}-D{n // len(chi_cuc) + 1}",
            f"Đội nghiệp vụ số {n // len(chi_cuc) + 1}",
            "sub_unit",
            parent.code,
            20,
        )
        for n in range(count - len(UNITS))
        for parent in [chi_cuc[n % len(chi_cuc)]]
    ]
    return [*UNITS, *teams]


_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
_MIDDLE_MALE = ["Văn", "Hữu", "Đức", "Minh", "Quang", "Công"]
_MIDDLE_FEMALE = ["Thị", "Ngọc", "Thu", "Thanh", "Bích", "Kim"]
_GIVEN_MALE = ["Anh", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Sơn", "Tuấn"]
_GIVEN_FEMALE = ["Chi", "Dung", "Hà", "Hạnh", "Hương", "Lan", "Linh", "Mai", "Nga", "Thảo", "Yến"]
# Số định danh cá nhân: province of birth registration, century and sex, year of birth, then six
# digits; person i gets serial (i * stride) mod 10^6 (a stride prime to 10^6 makes that one to
# one) in the i // 10^6-th province, so no two generated people share one.
_PROVINCES = ("001", "079", "031", "048", "092", "022", "020", "040", "038", "036")
_SERIAL_STRIDE = 387_433
_SERIALS = 1_000_000


@dataclass(frozen=True)
class DemoPerson:
    personal_id: str
    staff_number: str
    full_name: str
    date_of_birth: date
    sex: str
    unit_code: str


def people(count: int = DEMO_PEOPLE, *, seed: int = 2026, among: Sequence[DemoUnit] = UNITS) -> Iterator[DemoPerson]:
    """Deterministic staff of the units `among` below the root, one at a time: the first in each
    unit in turn, then each unit's share by its size."""
    if count > _SERIALS * len(_PROVINCES):
        raise ValueError(f"at most {_SERIALS * len(_PROVINCES)} generated people")
    rng = random.Random(seed)
    placing = random.Random(seed + 1)
    staffed = [u for u in among if u.parent]
    codes = [u.code for u in staffed]
    cumulative = list(accumulate(u.staff or 1 for u in staffed))
    for i in range(count):
        female = rng.random() < 0.45
        middle = rng.choice(_MIDDLE_FEMALE if female else _MIDDLE_MALE)
        given = rng.choice(_GIVEN_FEMALE if female else _GIVEN_MALE)
        born = date(rng.randint(1966, 2001), rng.randint(1, 12), rng.randint(1, 28))
        if i < len(codes):
            unit = codes[i]
        else:
            unit = placing.choices(codes, cum_weights=cumulative)[0]
        yield DemoPerson(
            personal_id=personal_id(i, born, female),
            staff_number=f"HQ{i + 1:05d}",
            full_name=f"{rng.choice(_FAMILY)} {middle} {given}",
            date_of_birth=born,
            sex="female" if female else "male",
            unit_code=unit,
        )


def personal_id(index: int, born: date, female: bool) -> str:
    """The generated Số định danh cá nhân of person `index`."""
    century_sex = (0 if born.year < 2000 else 2) + (1 if female else 0)
    province, serial = _PROVINCES[index // _SERIALS], index * _SERIAL_STRIDE % _SERIALS
    return f"{province}{century_sex}{born.year % 100:02d}{serial:06d}"


def personnel(count: int = DEMO_PEOPLE, seed: int = 2026) -> list[DemoPerson]:
    """The first `count` demo people (`people`), as a list."""
    return list(people(count, seed=seed))
