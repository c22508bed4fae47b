"""What the resume form 2C-BNV/2008 says of a record: its items in the form's order
(../shared/catalogs.md §8), each drawn from the sections it comes from as they stood on a day.

Items 21, 22, 27, 28 and 31 (and 15, 19 and 32) are derived from the histories: the highest reward
and discipline by the precedence of their forms, the training, work and salary histories as tables,
the highest level of each kind of training completed by the day, the evaluations of recent years.
An item whose sections the reader may not read is withheld, which the form prints as such: a blank
would say the record holds nothing.

Pure: the service hands it the entries with their catalog codes already labelled."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

SEX_LABELS = {"SEX_MALE": "Nam", "SEX_FEMALE": "Nữ"}

HONORARY_TITLES = ("AH_LLVT", "AH_LD", "BMVNAH", "NGND", "TTND", "NSND", "NNND", "NGUT", "TTUT", "NSUT", "NNUT")
"""Danh hiệu vinh dự nhà nước tặng cá nhân, highest first (Luật Thi đua, khen thưởng 2022 Điều 59):
item 19 prints the highest."""
REWARD_TITLES = ("CSTD_TQ", "CSTD_BO", "CSTD_CS", "LDTT")
"""Danh hiệu thi đua, highest first (Luật Thi đua, khen thưởng): item 19 prints the highest of a
person the State has conferred no honorary title on."""
REWARD_FORMS = ("HUAN_CHUONG", "HUY_CHUONG", "BK_TTG", "BK_BO", "GIAY_KHEN", "KNC")
"""Hình thức khen thưởng, highest first: item 21 prints the highest. A form the sector adds later
ranks below these, its year deciding between equals."""
DISCIPLINE_FORMS = ("BUOC_THOI_VIEC", "BAI_NHIEM", "CACH_CHUC", "GIANG_CHUC", "HA_BAC_LUONG", "CANH_CAO", "KHIEN_TRACH")
"""Hình thức kỷ luật, most severe first: item 22 prints the most severe."""
TRAINING_LEVELS = (
    *("TS", "THS", "DH", "CD", "TC", "SC"),
    *("LLCT_CN", "LLCT_CC", "LLCT_TC", "LLCT_SC"),
    *("QLNN_CVCC", "QLNN_CVC", "QLNN_CV"),
    *("NN_DH", "NN_B6", "NN_B5", "NN_B4", "NN_B3", "NN_B2", "NN_B1"),
    *("TH_TC", "TH_NC", "TH_CB"),
)
"""Levels of training, highest first within each kind: items 15.2–15.6 print the highest."""
IDENTITY_CARDS = ("CAN_CUOC", "CCCD", "CMND")
"""The documents item 25 names (a passport is not one), newest kind first."""
EVALUATION_YEARS = 3
"""Item 32 quotes the evaluations of this many latest years."""


@dataclass(frozen=True)
class Entry:
    section: str
    valid_from: date | None
    valid_to: date | None
    values: Mapping[str, object]
    labels: Mapping[str, str] = field(default_factory=dict)
    """The catalog label of each code field, as the catalog named it on the entry's date."""

    def text(self, name: str) -> str:
        value = self.values.get(name)
        return "" if value is None else str(value)

    def label(self, name: str) -> str:
        return self.labels.get(name) or self.text(name)

    def holds_on(self, day: date) -> bool:
        return self.valid_to is None or self.valid_to >= day


@dataclass(frozen=True)
class Subject:
    full_name: str
    date_of_birth: date
    sex: str
    personal_id: str


@dataclass(frozen=True)
class Item:
    number: str
    label: str
    text: str = ""
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    withheld: bool = False


class _Record:
    def __init__(self, entries: Iterable[Entry], readable: Iterable[str], as_of: date) -> None:
        self.as_of = as_of
        self.readable = frozenset(readable)
        self.by_section: dict[str, list[Entry]] = {}
        for entry in sorted(entries, key=lambda e: e.valid_from or date.min):
            self.by_section.setdefault(entry.section, []).append(entry)

    def all(self, section: str) -> list[Entry]:
        return self.by_section.get(section, [])

    def current(self, section: str) -> list[Entry]:
        return [e for e in self.all(section) if e.holds_on(self.as_of)]

    def latest(self, section: str) -> Entry | None:
        current = self.current(section)
        return current[-1] if current else None

    def completed(self, section: str) -> list[Entry]:
        """Periods over by the day, or with no end recorded (a degree noted by its start alone)."""
        return [e for e in self.all(section) if e.valid_to is None or e.valid_to <= self.as_of]


def day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def month(value: date | None) -> str:
    return value.strftime("%m/%Y") if value else ""


def _period(entry: Entry, as_of: date, *, planned: bool = False) -> str:
    """From–to in months; a period still running on the day ends "nay", unless its end is `planned`
    (a course's), which is printed."""
    start = month(entry.valid_from)
    if entry.valid_to is None or (entry.valid_to > as_of and not planned):
        return f"{start} – nay"
    return f"{start} – {month(entry.valid_to)}"


def _joined(*parts: str, sep: str = ", ") -> str:
    return sep.join(p for p in parts if p)


def _place(entry: Entry | None, name: str) -> str:
    """A place as written, followed by the commune and province named from the catalogs when the
    text does not already say them."""
    if entry is None:
        return ""
    written = entry.text(name)
    extra = [
        entry.labels[f"{name}_{level}"]
        for level in ("commune", "province")
        if entry.labels.get(f"{name}_{level}") and entry.labels[f"{name}_{level}"].casefold() not in written.casefold()
    ]
    return _joined(written, *extra)


def _highest(entries: Iterable[Entry], code_field: str, order: Sequence[str]) -> Entry | None:
    """The entry whose code comes first in `order` (codes not in it after all), the latest of equals."""

    def rank(entry: Entry) -> tuple[int, int]:
        code = entry.text(code_field)
        return (order.index(code) if code in order else len(order)), -(entry.valid_from or date.min).toordinal()

    return min(entries, key=rank, default=None)


def _year(entry: Entry) -> str:
    return f"năm {entry.valid_from.year}" if entry.valid_from else ""


class _Items:
    """The items in the form's order, each marked withheld when none of its sections is readable."""

    def __init__(self, record: _Record) -> None:
        self.record = record
        self.items: list[Item] = []

    def line(self, number: str, label: str, sections: Sequence[str], text: Callable[[], str]) -> None:
        if sections and not self.record.readable.intersection(sections):
            self.items.append(Item(number, label, withheld=True))
            return
        self.items.append(Item(number, label, text=text()))

    def table(
        self,
        number: str,
        label: str,
        sections: Sequence[str],
        columns: Sequence[str],
        rows: Callable[[], Iterable[tuple[str, ...]]],
    ) -> None:
        if not self.record.readable.intersection(sections):
            self.items.append(Item(number, label, columns=tuple(columns), withheld=True))
            return
        self.items.append(Item(number, label, columns=tuple(columns), rows=tuple(rows())))


def draw(subject: Subject, entries: Iterable[Entry], readable: Iterable[str], as_of: date) -> list[Item]:
    """The form's items for a record whose readable sections hold `entries` (those begun by
    `as_of`, as known now)."""
    r = _Record(entries, readable, as_of)
    items = _Items(r)
    details = r.latest("personal_details")
    residence = r.latest("residences")
    recruitment = r.all("recruitment")[0] if r.all("recruitment") else None
    placement = r.latest("placements")

    items.line("1", "Họ và tên khai sinh", (), lambda: subject.full_name.upper())
    items.line("2", "Tên gọi khác", ["personal_details"], lambda: details.text("other_names") if details else "")
    items.line(
        "3",
        "Sinh ngày; giới tính",
        (),
        lambda: f"{day(subject.date_of_birth)}; giới tính: {SEX_LABELS.get(subject.sex, subject.sex)}",
    )
    items.line("4", "Nơi sinh", ["personal_details"], lambda: _place(details, "birthplace"))
    items.line("5", "Quê quán", ["personal_details"], lambda: _place(details, "home_town"))
    items.line("6", "Dân tộc", ["personal_details"], lambda: details.label("ethnicity") if details else "")
    items.line("7", "Tôn giáo", ["personal_details"], lambda: details.label("religion") if details else "")
    items.line("8", "Nơi đăng ký hộ khẩu thường trú", ["residences"], lambda: _place(residence, "permanent_residence"))
    items.line("9", "Nơi ở hiện nay", ["residences"], lambda: _place(residence, "current_residence"))
    items.line(
        "10",
        "Nghề nghiệp khi được tuyển dụng",
        ["recruitment"],
        lambda: recruitment.text("occupation_before") if recruitment else "",
    )
    items.line(
        "11",
        "Ngày tuyển dụng; cơ quan tuyển dụng",
        ["recruitment"],
        lambda: _joined(day(recruitment.valid_from), recruitment.text("body"), sep="; ") if recruitment else "",
    )
    items.line(
        "12",
        "Chức vụ (chức danh) hiện tại, kể cả chức vụ kiêm nhiệm",
        ["placements", "appointments", "concurrent_posts", "memberships"],
        lambda: _posts(r),
    )
    items.line(
        "13", "Công việc chính được giao", ["placements"], lambda: placement.text("main_duties") if placement else ""
    )
    items.line(
        "14", "Ngạch, mã ngạch, bậc, hệ số lương, ngày hưởng; phụ cấp", ["salary", "allowances"], lambda: _pay(r)
    )
    items.line(
        "15.1",
        "Trình độ giáo dục phổ thông",
        ["personal_details"],
        lambda: details.label("general_education") if details else "",
    )
    for number, label, kind in (
        ("15.2", "Trình độ chuyên môn cao nhất", "CM"),
        ("15.3", "Lý luận chính trị", "LLCT"),
        ("15.4", "Quản lý nhà nước", "QLNN"),
        ("15.5", "Ngoại ngữ", "NN"),
        ("15.6", "Tin học", "TH"),
    ):
        items.line(number, label, ["trainings"], lambda kind=kind: _qualification(r, kind))  # type: ignore[misc]
    items.line("16", "Ngày vào Đảng Cộng sản Việt Nam; ngày chính thức", ["memberships"], lambda: _party(r))
    items.line(
        "17",
        "Ngày tham gia tổ chức chính trị – xã hội",
        ["memberships"],
        lambda: "; ".join(
            f"{e.label('organisation')}: {day(e.valid_from)}"
            for e in r.all("memberships")
            if e.text("organisation") != "DANG"
        ),
    )
    items.line("18", "Ngày nhập ngũ; ngày xuất ngũ; quân hàm cao nhất", ["military_service"], lambda: _service(r))
    items.line(
        "19",
        "Danh hiệu được phong tặng cao nhất",
        ["honorary_titles", "rewards"],
        lambda: (
            _named(_highest(r.all("honorary_titles"), "title", HONORARY_TITLES), "title")
            or _named(_highest([e for e in r.all("rewards") if e.text("form") in REWARD_TITLES], "form", REWARD_TITLES))
        ),
    )
    items.line("20", "Sở trường", ["personal_details"], lambda: details.text("strengths") if details else "")
    items.line(
        "21",
        "Khen thưởng (hình thức cao nhất, năm)",
        ["rewards"],
        lambda: _named(
            _highest([e for e in r.all("rewards") if e.text("form") not in REWARD_TITLES], "form", REWARD_FORMS)
        ),
    )
    items.line(
        "22",
        "Kỷ luật (hình thức cao nhất, năm)",
        ["disciplines"],
        lambda: _named(_highest(r.all("disciplines"), "form", DISCIPLINE_FORMS)),
    )
    items.line("23", "Tình trạng sức khỏe; chiều cao; cân nặng; nhóm máu", ["health"], lambda: _health(r))
    items.line(
        "24",
        "Là thương binh hạng; là con gia đình chính sách",
        ["policy_status"],
        lambda: "; ".join(e.text("kind") for e in r.current("policy_status")),
    )
    items.line(
        "25", "Số chứng minh nhân dân (căn cước); ngày cấp", ["id_documents"], lambda: _identity_card(r, subject)
    )
    items.line(
        "26", "Số sổ BHXH", ["personal_details"], lambda: details.text("social_insurance_number") if details else ""
    )
    items.table(
        "27",
        "Đào tạo, bồi dưỡng về chuyên môn, nghiệp vụ, lý luận chính trị, ngoại ngữ, tin học",
        ["trainings"],
        (
            "Tên trường",
            "Chuyên ngành đào tạo, bồi dưỡng",
            "Từ tháng, năm – đến tháng, năm",
            "Hình thức đào tạo",
            "Văn bằng, chứng chỉ, trình độ",
        ),
        lambda: (
            (
                e.text("institution"),
                _joined(e.label("kind"), e.text("field"), sep=": "),
                _period(e, as_of, planned=True),
                e.text("mode"),
                e.label("level"),
            )
            for e in r.all("trainings")
        ),
    )
    items.table(
        "28",
        "Tóm tắt quá trình công tác",
        ["placements", "concurrent_posts", "rotations", "secondments"],
        ("Từ tháng, năm – đến tháng, năm", "Chức danh, chức vụ, đơn vị công tác"),
        lambda: _career(r),
    )
    items.line(
        "29",
        "Đặc điểm lịch sử bản thân",
        ["personal_history"],
        lambda: "\n".join(
            _joined(*(e.text(name) for name in ("detention", "foreign_organisations", "relatives_abroad")), sep="\n")
            for e in r.all("personal_history")
        ),
    )
    family_columns = (
        "Mối quan hệ",
        "Họ và tên",
        "Năm sinh",
        "Quê quán, nghề nghiệp, chức danh, chức vụ, đơn vị công tác, học tập, nơi ở",
    )
    for number, label, side in (
        ("30a", "Quan hệ gia đình: về bản thân (cha, mẹ, vợ hoặc chồng, các con, anh chị em ruột)", "BAN_THAN"),
        ("30b", "Quan hệ gia đình: về bên vợ hoặc chồng (cha, mẹ, anh chị em ruột)", "VO_CHONG"),
    ):
        items.table(number, label, ["family"], family_columns, lambda side=side: _family(r, side))  # type: ignore[misc]
    items.table(
        "31",
        "Diễn biến quá trình lương",
        ["salary"],
        ("Tháng, năm", "Mã ngạch, bậc", "Hệ số lương"),
        lambda: (
            (month(e.valid_from), f"{e.text('rank_code')}, bậc {e.text('step')}", e.text("coefficient"))
            for e in r.all("salary")
        ),
    )
    items.line(
        "32",
        "Nhận xét, đánh giá của cơ quan, đơn vị quản lý và sử dụng",
        ["evaluations"],
        lambda: _evaluations(r),
    )
    return items.items


def _named(entry: Entry | None, code_field: str = "form") -> str:
    return _joined(entry.label(code_field), _year(entry)) if entry else ""


def _posts(r: _Record) -> str:
    parts: list[str] = []
    if placement := r.latest("placements"):
        parts.append(_joined(placement.text("post"), placement.text("unit_name")))
    parts += [_joined(e.text("post"), e.text("unit_name")) for e in r.current("appointments")]
    parts += [f"Kiêm {_joined(e.text('post'), e.text('unit_name'))}" for e in r.current("concurrent_posts")]
    parts += [f"{e.text('role')} ({e.label('organisation')})" for e in r.current("memberships") if e.text("role")]
    return "; ".join(dict.fromkeys(p for p in parts if p))


def _pay(r: _Record) -> str:
    parts: list[str] = []
    if salary := r.latest("salary"):
        parts.append(
            _joined(
                f"Ngạch: {salary.label('rank_code')}",
                f"mã ngạch: {salary.text('rank_code')}",
                f"bậc: {salary.text('step')}",
                f"hệ số: {salary.text('coefficient')}",
                f"ngày hưởng: {day(salary.valid_from)}",
            )
        )
        if salary.text("over_frame_percent"):
            parts.append(f"Phụ cấp thâm niên vượt khung: {salary.text('over_frame_percent')}%")
    for allowance in r.current("allowances"):
        amount = allowance.text("coefficient") or (f"{allowance.text('percent')}%" if allowance.text("percent") else "")
        parts.append(_joined(allowance.label("kind"), amount, sep=": "))
    return "; ".join(parts)


def _qualification(r: _Record, kind: str) -> str:
    done = [e for e in r.completed("trainings") if e.text("kind") == kind]
    if kind == "NN":
        return "; ".join(_joined(e.text("field"), e.label("level"), sep=": ") for e in done)
    best = _highest(done, "level", TRAINING_LEVELS)
    if best is None:
        return ""
    return _joined(best.label("level"), f"chuyên ngành {best.text('field')}" if best.text("field") else "")


def _party(r: _Record) -> str:
    party = next((e for e in r.all("memberships") if e.text("organisation") == "DANG"), None)
    if party is None:
        return ""
    official = party.values.get("official_on")
    return _joined(
        f"Ngày vào Đảng: {day(party.valid_from)}",
        f"ngày chính thức: {day(date.fromisoformat(str(official)))}" if official else "",
        sep="; ",
    )


def _service(r: _Record) -> str:
    return "; ".join(
        _joined(
            f"Nhập ngũ: {day(e.valid_from)}",
            f"xuất ngũ: {day(e.valid_to)}" if e.valid_to else "",
            f"quân hàm cao nhất: {e.text('highest_rank')}" if e.text("highest_rank") else "",
        )
        for e in r.all("military_service")
    )


def _health(r: _Record) -> str:
    latest = r.all("health")[-1] if r.all("health") else None
    if latest is None:
        return ""
    return _joined(
        latest.text("status"),
        f"chiều cao: {latest.text('height_cm')} cm" if latest.text("height_cm") else "",
        f"cân nặng: {latest.text('weight_kg')} kg" if latest.text("weight_kg") else "",
        f"nhóm máu: {latest.text('blood_group')}" if latest.text("blood_group") else "",
    )


def _identity_card(r: _Record, subject: Subject) -> str:
    cards = [e for e in r.all("id_documents") if e.text("kind") in IDENTITY_CARDS]
    if not cards:
        return subject.personal_id
    card = cards[-1]
    return _joined(
        card.text("number"), f"ngày cấp: {day(card.valid_from)}", f"nơi cấp: {card.text('issued_by')}", sep="; "
    )


def _career(r: _Record) -> Iterable[tuple[str, ...]]:
    prefixes = {
        "placements": "",
        "concurrent_posts": "Kiêm ",
        "rotations": "Luân chuyển: ",
        "secondments": "Biệt phái: ",
    }
    rows: list[tuple[date, str, str]] = []
    for section, prefix in prefixes.items():
        for e in r.all(section):
            unit = e.text("host_unit") if section == "secondments" else e.text("unit_name")
            rows.append((e.valid_from or date.min, _period(e, r.as_of), prefix + _joined(e.text("post"), unit)))
    return ((period, text) for _start, period, text in sorted(rows, key=lambda row: row[0]))


def _family(r: _Record, side: str) -> Iterable[tuple[str, ...]]:
    return (
        (
            e.text("relation"),
            e.text("full_name"),
            e.text("birth_year"),
            _joined(
                e.text("home_town") and f"Quê quán: {e.text('home_town')}",
                e.text("occupation"),
                e.text("workplace"),
                e.text("residence") and f"nơi ở: {e.text('residence')}",
                sep="; ",
            ),
        )
        for e in r.all("family")
        if e.text("side") == side
    )


def _evaluations(r: _Record) -> str:
    by_year = sorted(r.all("evaluations"), key=lambda e: int(str(e.values.get("year", 0))), reverse=True)
    return "; ".join(f"Năm {e.text('year')}: {e.label('level')}" for e in by_year[:EVALUATION_YEARS])
