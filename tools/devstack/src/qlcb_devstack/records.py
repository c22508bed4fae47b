"""Realistic record sections for a generated civil servant: recruitment, placements, a salary
history stepping up by the ND 204 grid (and a promotion to principal rank after nine years),
training, yearly evaluations since 2020, rewards and family, Party membership with its political
theory course, a leadership post for some, residence, identity card, health, military service for
some men, a regional allowance for some, foreign language, IT and state management courses, the
personal history, and for a few a policy-family status, a labour contract before recruitment, a
concurrent post, a rotation, a secondment or a discipline, asset declarations for leaders: all
consistent with the catalogs personnel seeds.
Deterministic per person, so the demo and the benchmarks see the same data.

`career` adds what is not a record section and only the benchmarks load: the units a person worked
in before their present one, and a departure (retirement, resignation, a move out of the sector)
for a few."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from qlcb_devstack.demo import DemoPerson

REFERENCE_DAY = date(2026, 7, 1)
"""Histories run up to this day, whatever day the demo is started on."""

# Customs inspector (A1) and principal customs inspector (A2.1): ND 204/2004 Bảng 2.
_A1 = ("08.051", [Decimal(c) for c in ["2.34", "2.67", "3.00", "3.33", "3.66", "3.99", "4.32", "4.65", "4.98"]])
_A21 = ("08.050", [Decimal(c) for c in ["4.40", "4.74", "5.08", "5.42", "5.76", "6.10", "6.44", "6.78"]])
_MONTHS_PER_STEP = 36
GRID_START = date(2004, 10, 1)
_PROVINCES = ["Hà Nội", "Nam Định", "Thái Bình", "Nghệ An", "Thanh Hóa", "Hải Phòng", "Huế", "Đà Nẵng", "Cần Thơ"]
_SCHOOLS = ["Học viện Tài chính", "Đại học Kinh tế Quốc dân", "Đại học Ngoại thương", "Đại học Luật Hà Nội"]
_FIELDS = ["Hải quan", "Kế toán", "Kinh tế đối ngoại", "Luật kinh tế", "Tài chính – Ngân hàng"]


@dataclass(frozen=True)
class Entry:
    section: str
    body: dict[str, Any]


def _months_after(day: date, months: int) -> date:
    total = day.month - 1 + months
    return date(day.year + total // 12, total % 12 + 1, 1)


def _decision(rng: random.Random, on: date, body: str = "Tổng cục Hải quan") -> dict[str, Any]:
    return {"number": f"{rng.randint(1, 2999)}/QĐ-TCHQ", "date": on.isoformat(), "body": body}


def _salary(rng: random.Random, recruited: date, disciplined: date | None = None) -> list[Entry]:
    """From recruitment, or from the grid's start (1 October 2004) for those recruited before it,
    at the step their seniority had reached; the step after a discipline comes `RAISE_DELAY_MONTHS`
    later."""
    entries = []
    (rank, grid), step, since = _A1, 1, recruited
    if recruited < GRID_START:
        served = (GRID_START.year - recruited.year) * 12 + GRID_START.month - recruited.month
        step, since = min(1 + served // _MONTHS_PER_STEP, len(grid)), GRID_START
    promoted = False
    while since <= REFERENCE_DAY:
        entries.append(
            Entry(
                "salary",
                {
                    "values": {"rank_code": rank, "step": step, "coefficient": str(grid[step - 1])},
                    "valid_from": since.isoformat(),
                    "decision": _decision(rng, since),
                },
            )
        )
        following = _months_after(since, _MONTHS_PER_STEP)
        if disciplined is not None and since <= disciplined < following:
            following = _months_after(following, RAISE_DELAY_MONTHS)
        if not promoted and following.year - recruited.year >= 9 and rng.random() < 0.5:
            # Promotion to principal rank: the first step whose coefficient is not below the current one.
            current = grid[step - 1]
            (rank, grid), promoted = _A21, True
            step = next(i + 1 for i, c in enumerate(grid) if c >= current)
        elif step < len(grid):
            step += 1
        else:
            break
        since = following
    return entries


def sections(person: DemoPerson) -> list[Entry]:
    """The person's entries, in the order they are recorded (each timeline chronologically)."""
    rng = random.Random(person.personal_id)
    born = person.date_of_birth
    recruited = date(born.year + rng.randint(22, 26), rng.choice((1, 7)), 1)
    if recruited > REFERENCE_DAY:
        recruited = date(REFERENCE_DAY.year, 1, 1)
    home = rng.choice(_PROVINCES)
    disciplined = discipline(person, recruited)
    entries = [
        Entry(
            "personal_details",
            {
                "values": {
                    "birthplace": home,
                    "home_town": rng.choice(_PROVINCES),
                    "ethnicity": "01" if rng.random() < 0.9 else rng.choice(("02", "03", "06", "07")),
                    "religion": "KHONG" if rng.random() < 0.85 else rng.choice(("PHAT_GIAO", "CONG_GIAO")),
                    "general_education": "12-12",
                },
                "valid_from": born.isoformat(),
            },
        ),
        Entry(
            "recruitment",
            {
                "values": {"body": "Tổng cục Hải quan", "occupation_before": "Sinh viên"},
                "valid_from": recruited.isoformat(),
                "decision": _decision(rng, recruited),
            },
        ),
        Entry(
            "trainings",
            {
                "values": {
                    "kind": "CM",
                    "level": "DH",
                    "field": rng.choice(_FIELDS),
                    "institution": rng.choice(_SCHOOLS),
                    "mode": "Chính quy",
                },
                "valid_from": date(recruited.year - 4, 9, 1).isoformat(),
                "valid_to": date(recruited.year - (recruited.month <= 6), 6, 30).isoformat(),
            },
        ),
        Entry(
            "placements",
            {
                "values": {"unit_name": "Cục Hải quan", "post": "Công chức", "main_duties": "Thủ tục hải quan"},
                "valid_from": recruited.isoformat(),
            },
        ),
        *_salary(rng, recruited, date.fromisoformat(disciplined.body["valid_from"]) if disciplined else None),
    ]
    for year in range(max(2020, recruited.year + 1), REFERENCE_DAY.year):
        level = rng.choices(("HTXSNV", "HTTNV", "HTNV"), weights=(15, 75, 10))[0]
        end_of_year = date(year, 12, 31)
        entries.append(
            Entry(
                "evaluations",
                {
                    "values": {"year": year, "level": level},
                    "valid_from": end_of_year.isoformat(),
                    "decision": _decision(rng, end_of_year),
                },
            )
        )
        if level == "HTXSNV":
            entries.append(
                Entry(
                    "rewards",
                    {
                        "values": {"form": "GIAY_KHEN", "reason": f"Hoàn thành xuất sắc nhiệm vụ năm {year}"},
                        "valid_from": date(year + 1, 1, 15).isoformat(),
                        "decision": _decision(rng, date(year + 1, 1, 15)),
                    },
                )
            )
    surname = person.full_name.split()[0]
    parents = (
        ("Bố", f"{surname} Văn {rng.choice(('An', 'Bình', 'Cường', 'Định'))}", rng.randint(24, 34)),
        (
            "Mẹ",
            f"{rng.choice(('Nguyễn', 'Trần', 'Lê', 'Phạm'))} Thị {rng.choice(('Hoa', 'Lan', 'Mai'))}",
            rng.randint(20, 30),
        ),
    )
    for relation, name, years_older in parents:
        entries.append(
            Entry(
                "family",
                {
                    "values": {
                        "side": "BAN_THAN",
                        "relation": relation,
                        "full_name": name,
                        "birth_year": born.year - years_older,
                        "home_town": home,
                        "occupation": rng.choice(("Nghỉ hưu", "Làm ruộng", "Buôn bán")),
                    }
                },
            )
        )
    posts = _party_and_posts(person, recruited)
    appointed = next((date.fromisoformat(e.body["valid_from"]) for e in posts if e.section == "appointments"), None)
    return (
        entries
        + posts
        + _particulars_and_skills(person, recruited, home)
        + _duties_and_declarations(person, recruited, appointed)
        + ([disciplined] if disciplined else [])
    )


_POSTS = (
    ("PHO_DOI_TRUONG", "Phó Đội trưởng"),
    ("DOI_TRUONG", "Đội trưởng"),
    ("PHO_CHI_CUC_TRUONG", "Phó Chi cục trưởng"),
)


def _party_and_posts(person: DemoPerson, recruited: date) -> list[Entry]:
    """Party membership for about half, a political theory course for most members, a leadership
    post for about one in twelve: drawn from a generator of their own, so the entries before them
    stay what they were."""
    rng = random.Random(f"{person.personal_id}/party")
    entries: list[Entry] = []
    joined = date(recruited.year + rng.randint(1, 8), rng.randint(1, 12), 1)
    official = date(joined.year + 1, joined.month, 1)
    if rng.random() < 0.5 and joined < REFERENCE_DAY:
        entries.append(
            Entry(
                "memberships",
                {
                    "values": {"organisation": "DANG", "official_on": official.isoformat()},
                    "valid_from": joined.isoformat(),
                },
            )
        )
        course = date(joined.year + rng.randint(1, 4), 9, 1)
        if rng.random() < 0.7 and date(course.year + 1, 6, 30) < REFERENCE_DAY:
            level = "LLCT_CC" if rng.random() < 0.25 else "LLCT_TC"
            entries.append(
                Entry(
                    "trainings",
                    {
                        "values": {"kind": "LLCT", "level": level, "institution": "Học viện Chính trị khu vực I"},
                        "valid_from": course.isoformat(),
                        "valid_to": date(course.year + 1, 6, 30).isoformat(),
                    },
                )
            )
    # Appointment kinds are catalogued from Luật Cán bộ, công chức 2008 on.
    appointed = max(date(recruited.year + rng.randint(8, 15), 1, 1), date(2009, 1, 1))
    if rng.random() < 0.08 and appointed < REFERENCE_DAY:
        code, post = rng.choice(_POSTS)
        entries.append(
            Entry(
                "appointments",
                {
                    "values": {
                        "kind": "BO_NHIEM",
                        "post": post,
                        "post_code": code,
                        "unit_name": "Chi cục Hải quan",
                        "term_months": 60,
                    },
                    "valid_from": appointed.isoformat(),
                    "decision": _decision(rng, appointed),
                },
            )
        )
    return entries


_STREETS = ("Trần Hưng Đạo", "Lê Lợi", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung")


def _particulars_and_skills(person: DemoPerson, recruited: date, home: str) -> list[Entry]:
    """Residence, identity card, a health check, military service for some men, a regional
    allowance for some, foreign language, IT and state management courses: drawn from a generator of
    their own, so the entries before them stay what they were."""
    rng = random.Random(f"{person.personal_id}/particulars")
    address = f"Số {rng.randint(1, 199)} {rng.choice(_STREETS)}"
    entries = [
        Entry(
            "residences",
            {
                "values": {
                    "permanent_residence": f"{address}, {home}",
                    "current_residence": f"{address}, {home}" if rng.random() < 0.6 else f"{address}, Hà Nội",
                    "phone": f"09{rng.randint(10_000_000, 99_999_999)}",
                },
                "valid_from": recruited.isoformat(),
            },
        ),
        # The chip identity card (căn cước công dân) of 2021, its number the personal id.
        Entry(
            "id_documents",
            {
                "values": {
                    "kind": "CCCD",
                    "number": person.personal_id,
                    "issued_by": "Cục Cảnh sát quản lý hành chính về trật tự xã hội",
                },
                "valid_from": date(2021, rng.randint(1, 12), 1).isoformat(),
            },
        ),
        Entry(
            "health",
            {
                "values": {
                    "status": rng.choices(("Tốt", "Khá", "Trung bình"), weights=(70, 25, 5))[0],
                    "height_cm": rng.randint(155, 180) if person.sex == "male" else rng.randint(148, 168),
                    "weight_kg": rng.randint(50, 80) if person.sex == "male" else rng.randint(42, 62),
                    "blood_group": rng.choice(("O", "A", "B", "AB")),
                },
                "valid_from": date(2025, rng.randint(3, 10), 1).isoformat(),
            },
        ),
    ]
    enlisted = date(person.date_of_birth.year + 18, 2, 1)
    if person.sex == "male" and rng.random() < 0.1 and enlisted.year + 2 <= recruited.year:
        entries.append(
            Entry(
                "military_service",
                {
                    "values": {
                        "highest_rank": rng.choice(("Hạ sĩ", "Trung sĩ", "Thượng sĩ")),
                        "unit_name": "Bộ đội Biên phòng",
                    },
                    "valid_from": enlisted.isoformat(),
                    "valid_to": date(enlisted.year + 2, 1, 31).isoformat(),
                },
            )
        )
    if rng.random() < 0.15:
        since = max(recruited, GRID_START)  # the allowances are catalogued from ND 204/2004 on
        entries.append(
            Entry(
                "allowances",
                {
                    "values": {"kind": "KHU_VUC", "coefficient": rng.choice(("0.10", "0.20", "0.30"))},
                    "valid_from": since.isoformat(),
                    "decision": _decision(rng, since),
                },
            )
        )
    courses = (
        ("NN", ("NN_B1", "NN_B2", "NN_B3"), "Trường Đại học Hà Nội", 0.6),
        ("TH", ("TH_CB", "TH_NC"), "Trung tâm Tin học Hải quan", 0.7),
        ("QLNN", ("QLNN_CV",), "Học viện Hành chính Quốc gia", 0.5),
    )
    for kind, levels, institution, share in courses:
        start = date(max(recruited.year, 2015) + rng.randint(0, 3), rng.choice((3, 9)), 1)
        if rng.random() < share and date(start.year, start.month + 3, 1) < REFERENCE_DAY:
            entries.append(
                Entry(
                    "trainings",
                    {
                        "values": {"kind": kind, "level": rng.choice(levels), "institution": institution},
                        "valid_from": start.isoformat(),
                        "valid_to": date(start.year, start.month + 3, 1).isoformat(),
                    },
                )
            )
    return entries


_BORDER_OFFICES = (
    "Chi cục Hải quan cửa khẩu quốc tế Móng Cái",
    "Chi cục Hải quan cửa khẩu Lào Cai",
    "Chi cục Hải quan cửa khẩu Hữu Nghị",
    "Chi cục Hải quan cửa khẩu Cầu Treo",
)
_HOSTS = (
    "Ban Quản lý các khu kinh tế tỉnh Quảng Ninh",
    "Sở Tài chính tỉnh Lạng Sơn",
    "Văn phòng Ủy ban nhân dân tỉnh Lào Cai",
)
_POLICY = ("Con thương binh", "Con liệt sĩ", "Con bệnh binh", "Con người hoạt động kháng chiến")
_ABROAD = (
    "Em ruột lao động tại Nhật Bản",
    "Anh ruột định cư tại Cộng hòa Liên bang Đức",
    "Chị ruột lao động tại Hàn Quốc",
)
_BREACHES = (
    "Chậm nộp hồ sơ, báo cáo theo quy định",
    "Vi phạm quy chế làm việc của đơn vị",
    "Thiếu trách nhiệm trong kiểm tra hồ sơ hải quan",
)
_DISCIPLINE_MONTHS = {"KHIEN_TRACH": 6, "CANH_CAO": 12}
"""How long the discipline has effect (Luật Cán bộ, công chức 2008 Điều 82, amended 2019)."""


RAISE_DELAY_MONTHS = 6
"""How much later the next step comes after a khiển trách or cảnh cáo decided while holding the step
(Thông tư 08/2013/TT-BNV Điều 2 khoản 3, amended by Thông tư 03/2021/TT-BNV; the catalog's
`raise_delay_months`), as personnel works out the next raise."""


def discipline(person: DemoPerson, recruited: date) -> Entry | None:
    """A discipline in 2011–2019 for about one in fifty, drawn before the salary history, which it
    delays: from a generator of its own."""
    rng = random.Random(f"{person.personal_id}/discipline")
    decided = date(max(recruited.year + 1, 2011) + rng.randint(0, 8), rng.randint(3, 10), 1)
    if rng.random() >= 0.02 or decided.year > 2019:
        return None
    form = rng.choices(tuple(_DISCIPLINE_MONTHS), weights=(4, 1))[0]
    return Entry(
        "disciplines",
        {
            "values": {"form": form, "reason": rng.choice(_BREACHES)},
            **_period(decided, _DISCIPLINE_MONTHS[form]),
            "decision": _decision(rng, decided, "Cục Hải quan"),
        },
    )


def _period(start: date, months: int) -> dict[str, str]:
    """From `start` for `months`, open when it runs past the reference day."""
    end = _months_after(start, months)
    if end > REFERENCE_DAY:
        return {"valid_from": start.isoformat()}
    return {"valid_from": start.isoformat(), "valid_to": date.fromordinal(end.toordinal() - 1).isoformat()}


def _duties_and_declarations(person: DemoPerson, recruited: date, appointed: date | None) -> list[Entry]:
    """Personal history for everyone (the resume's item 29); a policy-family status, a labour
    contract before recruitment, a concurrent post, a rotation to a border office, a secondment to a
    province for a few; a yearly asset declaration for leaders from the year of their appointment
    (Luật Phòng, chống tham nhũng 2018 Điều 36). Drawn from a generator of their own, so the entries
    before them stay what they were."""
    rng = random.Random(f"{person.personal_id}/duties")
    abroad = rng.choice(_ABROAD) if rng.random() < 0.05 else "Không"
    entries = [
        Entry(
            "personal_history",
            {"values": {"detention": "Không", "foreign_organisations": "Không", "relatives_abroad": abroad}},
        )
    ]
    if rng.random() < 0.04:
        entries.append(
            Entry("policy_status", {"values": {"kind": rng.choice(_POLICY)}, "valid_from": recruited.isoformat()})
        )
    contracted = date(recruited.year - 2, recruited.month, 1)
    # Contract types are catalogued from Bộ luật Lao động 1994 on (1 January 1995).
    if rng.random() < 0.06 and contracted >= date(1995, 1, 1) and contracted.year - person.date_of_birth.year >= 20:
        entries.append(
            Entry(
                "labour_contracts",
                {
                    "values": {"contract_type": "XAC_DINH", "job": "Nhân viên hợp đồng hỗ trợ nghiệp vụ"},
                    "valid_from": contracted.isoformat(),
                    "valid_to": date.fromordinal(recruited.toordinal() - 1).isoformat(),
                },
            )
        )
    since = date(recruited.year + rng.randint(6, 12), rng.choice((1, 7)), 1)
    if rng.random() < 0.05 and since < REFERENCE_DAY:
        entries.append(
            Entry(
                "concurrent_posts",
                {
                    "values": {"unit_name": "Chi cục Hải quan", "post": "Phụ trách Tổ kiểm tra sau thông quan"},
                    **_period(since, 24),
                    "decision": _decision(rng, since, "Cục Hải quan"),
                },
            )
        )
    rotated = date(max(recruited.year + rng.randint(8, 14), 2009), rng.choice((3, 9)), 1)
    if rng.random() < 0.03 and rotated < REFERENCE_DAY:
        entries.append(
            Entry(
                "rotations",
                {
                    "values": {
                        "unit_name": rng.choice(_BORDER_OFFICES),
                        "post": rng.choice(("Phó Chi cục trưởng", "Đội trưởng")),
                        "term_months": 36,
                    },
                    **_period(rotated, 36),
                    "decision": _decision(rng, rotated),
                },
            )
        )
    seconded = date(recruited.year + rng.randint(5, 12), 4, 1)
    if rng.random() < 0.02 and seconded < REFERENCE_DAY:
        entries.append(
            Entry(
                "secondments",
                {
                    "values": {"host_unit": rng.choice(_HOSTS), "post": "Chuyên viên"},
                    **_period(seconded, 24),
                    "decision": _decision(rng, seconded),
                },
            )
        )
    if appointed is not None:
        for year in range(max(appointed.year, 2019), REFERENCE_DAY.year):
            entries.append(
                Entry(
                    "asset_declarations",
                    {
                        "values": {"year": year, "receiving_body": "Phòng Tổ chức cán bộ, Cục Hải quan"},
                        "valid_from": date(year, 12, rng.randint(1, 28)).isoformat(),
                    },
                )
            )
    return entries


@dataclass(frozen=True)
class Career:
    """Where the person worked before their present unit, and whether they have left."""

    earlier_unit: str | None
    moved_on: date | None
    """The day they joined their present unit, when they came from `earlier_unit`."""
    departure: tuple[str, date] | None
    """A status (retired, resigned, moved_out) and the day it took effect."""


def career(person: DemoPerson, units: Sequence[str]) -> Career:
    """One in five came from another of `units` between their recruitment and the reference day;
    one in twenty-five has left: the oldest retired, of the others half resigned and half moved to an
    agency outside the sector."""
    rng = random.Random(f"{person.personal_id}/career")
    recruited = date(person.date_of_birth.year + 24, 1, 1)
    earlier, moved = None, None
    others = [u for u in units if u != person.unit_code]
    if others and rng.random() < 0.2 and recruited < REFERENCE_DAY:
        earlier = rng.choice(others)
        moved = date(rng.randint(recruited.year + 1, REFERENCE_DAY.year), rng.randint(1, 12), 1)
        moved = min(moved, REFERENCE_DAY)
    departure = None
    if rng.random() < 0.04:
        left = date(REFERENCE_DAY.year - rng.randint(0, 3), rng.randint(1, 12), 1)
        if person.date_of_birth.year < 1968:
            status = "retired"
        else:
            status = "resigned" if rng.random() < 0.5 else "moved_out"
        departure = (status, max(left, moved or left))
    return Career(earlier, moved, departure)
