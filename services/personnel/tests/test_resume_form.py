"""The resume form's items drawn from a record (`qlcb_personnel.resume.form`): the derived items
(highest title, reward, discipline and qualification; the training, work and salary histories) as a
reader of the paper form expects them, as of a day, and withheld where the reader may not look."""

from __future__ import annotations

from datetime import date

from qlcb_personnel.resume.form import Entry, Item, Subject, draw

SUBJECT = Subject("Nguyễn Thị Hoa", date(1990, 7, 1), "SEX_FEMALE", "001190012345")
TODAY = date(2026, 12, 1)
EVERYTHING = (
    *("personal_details", "residences", "id_documents", "memberships", "military_service", "health"),
    *("policy_status", "personal_history", "recruitment", "placements", "concurrent_posts", "appointments"),
    *("rotations", "secondments", "salary", "allowances", "trainings", "evaluations", "rewards", "disciplines"),
    *("honorary_titles", "family"),
)


def _items(entries: list[Entry], *, as_of: date = TODAY, readable: tuple[str, ...] = EVERYTHING) -> dict[str, Item]:
    return {item.number: item for item in draw(SUBJECT, entries, readable, as_of)}


def _reward(code: str, label: str, year: int) -> Entry:
    return Entry("rewards", date(year, 1, 15), None, {"form": code}, {"form": label})


def test_the_highest_reward_and_title_are_told_apart_and_each_has_its_year() -> None:
    items = _items(
        [
            _reward("GIAY_KHEN", "Giấy khen", 2023),
            _reward("BK_TTG", "Bằng khen của Thủ tướng Chính phủ", 2020),
            _reward("BK_BO", "Bằng khen của bộ, ban, ngành, tỉnh", 2024),
            _reward("LDTT", "Lao động tiên tiến", 2025),
            _reward("CSTD_BO", "Chiến sĩ thi đua bộ, ban, ngành, tỉnh", 2021),
        ]
    )
    assert items["21"].text == "Bằng khen của Thủ tướng Chính phủ, năm 2020"
    assert items["19"].text == "Chiến sĩ thi đua bộ, ban, ngành, tỉnh, năm 2021"


def _title(code: str, label: str, year: int) -> Entry:
    return Entry("honorary_titles", date(year, 11, 20), None, {"title": code}, {"title": label})


def test_an_honorary_title_conferred_by_the_state_comes_before_any_emulation_title() -> None:
    items = _items(
        [
            _reward("CSTD_TQ", "Chiến sĩ thi đua toàn quốc", 2024),
            _title("NGUT", "Nhà giáo ưu tú", 2017),
            _title("NGND", "Nhà giáo nhân dân", 2023),
        ]
    )
    assert items["19"].text == "Nhà giáo nhân dân, năm 2023"
    assert items["21"].text == "", "an emulation title is not a reward form of item 21"


def test_the_title_item_is_withheld_from_a_reader_without_the_rewards_section() -> None:
    items = _items([_title("AH_LD", "Anh hùng Lao động", 2015)], readable=("personal_details", "placements"))
    assert items["19"].withheld
    assert items["19"].text == ""


def test_of_equal_rewards_the_latest_is_told_and_a_form_added_later_ranks_below_the_known_ones() -> None:
    items = _items(
        [
            _reward("GIAY_KHEN", "Giấy khen", 2019),
            _reward("GIAY_KHEN", "Giấy khen", 2024),
            _reward("MOI", "Hình thức mới", 2025),
        ]
    )
    assert items["21"].text == "Giấy khen, năm 2024"


def test_the_most_severe_discipline_is_told_even_after_its_effect_ended() -> None:
    items = _items(
        [
            Entry("disciplines", date(2015, 3, 1), date(2015, 8, 31), {"form": "CANH_CAO"}, {"form": "Cảnh cáo"}),
            Entry("disciplines", date(2022, 3, 1), date(2022, 8, 31), {"form": "KHIEN_TRACH"}, {"form": "Khiển trách"}),
        ]
    )
    assert items["22"].text == "Cảnh cáo, năm 2015"


def _training(kind: str, level: str, label: str, start: date, end: date | None, field: str = "") -> Entry:
    values = {"kind": kind, "level": level, "institution": "Học viện Tài chính", "field": field}
    return Entry("trainings", start, end, values, {"level": label, "kind": kind})


def test_the_highest_qualification_of_each_kind_counts_only_what_was_completed_by_the_day() -> None:
    entries = [
        _training("CM", "DH", "Đại học", date(2008, 9, 1), date(2012, 6, 30), "Kế toán"),
        _training("CM", "TS", "Tiến sĩ", date(2024, 9, 1), date(2028, 6, 30), "Kinh tế"),
        _training("LLCT", "LLCT_TC", "Trung cấp lý luận chính trị", date(2016, 3, 1), date(2016, 9, 30)),
        _training("QLNN", "QLNN_CV", "Chương trình chuyên viên", date(2015, 3, 1), date(2015, 5, 30)),
        _training("QLNN", "QLNN_CVC", "Chương trình chuyên viên chính", date(2021, 3, 1), date(2021, 5, 30)),
        _training("NN", "NN_B3", "Ngoại ngữ bậc 3 (B1)", date(2019, 1, 1), date(2019, 3, 1), "Tiếng Anh"),
    ]
    items = _items(entries)
    assert items["15.2"].text == "Đại học, chuyên ngành Kế toán"  # the doctorate is not finished
    assert items["15.3"].text == "Trung cấp lý luận chính trị"
    assert items["15.4"].text == "Chương trình chuyên viên chính"
    assert items["15.5"].text == "Tiếng Anh: Ngoại ngữ bậc 3 (B1)"
    assert items["15.6"].text == ""
    assert [row[2] for row in items["27"].rows][:2] == ["09/2008 – 06/2012", "03/2015 – 05/2015"]
    assert items["27"].rows[-1][2] == "09/2024 – 06/2028"
    # As of 2020 the higher state-management programme had not been taken.
    assert _items(entries, as_of=date(2020, 1, 1))["15.4"].text == "Chương trình chuyên viên"


def test_the_work_history_merges_placements_concurrent_posts_rotations_and_secondments_in_date_order() -> None:
    items = _items(
        [
            Entry("placements", date(2012, 1, 1), date(2018, 12, 31), {"unit_name": "Chi cục A", "post": "Công chức"}),
            Entry("placements", date(2019, 1, 1), None, {"unit_name": "Chi cục A", "post": "Phó Chi cục trưởng"}),
            Entry("rotations", date(2020, 5, 1), date(2022, 4, 30), {"unit_name": "Chi cục B", "post": "Đội trưởng"}),
            Entry("concurrent_posts", date(2021, 2, 1), None, {"unit_name": "Công đoàn Chi cục A", "post": "Chủ tịch"}),
            Entry(
                "secondments",
                date(2016, 1, 1),
                date(2016, 12, 31),
                {"host_unit": "Bộ Tài chính", "post": "Chuyên viên"},
            ),
        ]
    )
    assert items["28"].rows == (
        ("01/2012 – 12/2018", "Công chức, Chi cục A"),
        ("01/2016 – 12/2016", "Biệt phái: Chuyên viên, Bộ Tài chính"),
        ("01/2019 – nay", "Phó Chi cục trưởng, Chi cục A"),
        ("05/2020 – 04/2022", "Luân chuyển: Đội trưởng, Chi cục B"),
        ("02/2021 – nay", "Kiêm Chủ tịch, Công đoàn Chi cục A"),
    )
    assert items["12"].text == "Phó Chi cục trưởng, Chi cục A; Kiêm Chủ tịch, Công đoàn Chi cục A"


def test_pay_and_salary_history_come_from_the_salary_timeline_and_current_allowances() -> None:
    entries = [
        Entry(
            "salary", date(2014, 1, 1), date(2016, 12, 31), {"rank_code": "01.003", "step": 1, "coefficient": "2.34"}
        ),
        Entry(
            "salary",
            date(2017, 1, 1),
            None,
            {"rank_code": "01.003", "step": 2, "coefficient": "2.67"},
            {"rank_code": "Chuyên viên"},
        ),
        Entry(
            "allowances",
            date(2019, 1, 1),
            None,
            {"kind": "CHUC_VU", "coefficient": "0.30"},
            {"kind": "Phụ cấp chức vụ lãnh đạo"},
        ),
        Entry(
            "allowances",
            date(2015, 1, 1),
            date(2016, 1, 1),
            {"kind": "KHU_VUC", "coefficient": "0.20"},
            {"kind": "Phụ cấp khu vực"},
        ),
    ]
    items = _items(entries)
    assert items["14"].text == (
        "Ngạch: Chuyên viên, mã ngạch: 01.003, bậc: 2, hệ số: 2.67, ngày hưởng: 01/01/2017; "
        "Phụ cấp chức vụ lãnh đạo: 0.30"
    )
    assert items["31"].rows == (("01/2014", "01.003, bậc 1", "2.34"), ("01/2017", "01.003, bậc 2", "2.67"))


def test_an_item_whose_sections_may_not_be_read_is_withheld_not_blank() -> None:
    items = _items(
        [Entry("salary", date(2014, 1, 1), None, {"rank_code": "01.003", "step": 1, "coefficient": "2.34"})],
        readable=("personal_details", "placements"),
    )
    assert items["14"].withheld
    assert items["31"].withheld
    assert items["31"].rows == ()
    assert items["31"].columns == ("Tháng, năm", "Mã ngạch, bậc", "Hệ số lương")
    assert not items["2"].withheld
    assert not items["28"].withheld
    # Name and birth come with the record itself: never withheld.
    assert items["1"].text == "NGUYỄN THỊ HOA"
    assert items["3"].text == "01/07/1990; giới tính: Nữ"


def test_places_name_their_commune_and_province_once() -> None:
    details = Entry(
        "personal_details",
        date(2025, 7, 1),
        None,
        {
            "birthplace": "Thôn Đông, xã Đông Hội",
            "birthplace_province": "01",
            "home_town": "Hà Nội",
            "home_town_province": "01",
        },
        {"birthplace_province": "Thành phố Hà Nội", "home_town_province": "Hà Nội"},
    )
    items = _items([details])
    assert items["4"].text == "Thôn Đông, xã Đông Hội, Thành phố Hà Nội"
    assert items["5"].text == "Hà Nội"


def test_the_evaluations_of_the_latest_three_years_stand_for_the_agencys_assessment() -> None:
    entries = [
        Entry(
            "evaluations",
            date(year, 12, 20),
            None,
            {"year": year, "level": "HTTNV"},
            {"level": "Hoàn thành tốt nhiệm vụ"},
        )
        for year in (2021, 2022, 2023, 2024)
    ]
    assert _items(entries)["32"].text == (
        "Năm 2024: Hoàn thành tốt nhiệm vụ; Năm 2023: Hoàn thành tốt nhiệm vụ; Năm 2022: Hoàn thành tốt nhiệm vụ"
    )


def test_the_identity_card_is_the_latest_citizen_card_not_a_passport() -> None:
    entries = [
        Entry(
            "id_documents", date(2012, 5, 1), None, {"kind": "CMND", "number": "012345678", "issued_by": "CA Hà Nội"}
        ),
        Entry(
            "id_documents",
            date(2021, 4, 2),
            None,
            {"kind": "CCCD", "number": "001190012345", "issued_by": "Cục CS QLHC"},
        ),
        Entry(
            "id_documents", date(2023, 1, 5), None, {"kind": "HO_CHIEU", "number": "C1234567", "issued_by": "Cục QLXNC"}
        ),
    ]
    assert _items(entries)["25"].text == "001190012345; ngày cấp: 02/04/2021; nơi cấp: Cục CS QLHC"
    assert _items([])["25"].text == "001190012345"
