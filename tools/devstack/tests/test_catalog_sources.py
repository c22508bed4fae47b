"""The communes catalog is what the pinned source generates, and the generator refuses a source
that disagrees with the repository's provinces instead of writing it."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from qlcb_devstack import catalog_sources as cs

HANOI = cs.SourceProvince(1, "Thành phố Hà Nội", "thành phố trung ương")
CAO_BANG = cs.SourceProvince(4, "Cao Bằng", "tỉnh")
OURS = {
    "01": {"code": "01", "label": "Thành phố Hà Nội", "group": "THANH_PHO"},
    "04": {"code": "04", "label": "Tỉnh Cao Bằng", "group": "TINH"},
}


def _source(*communes: cs.SourceCommune, provinces: tuple[cs.SourceProvince, ...] = (HANOI, CAO_BANG)) -> cs.Source:
    return cs.Source(version=cs.SOURCE_VERSION, data_version="2025-10-18", provinces=provinces, communes=communes)


def _provinces_doc() -> dict[str, Any]:
    values = [v | {"valid_from": "2025-07-01"} for v in OURS.values()]
    old = {"code": "02", "label": "Tỉnh Hà Giang", "group": "TINH", "valid_from": "2008-08-01"}
    return {"values": [*values, old | {"valid_to": "2025-06-30"}]}


def _committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(cs.communes_path().read_text(encoding="utf-8"))
    return document


def test_the_committed_file_is_what_the_pinned_package_generates() -> None:
    """The provenance check: regenerate with `python -m qlcb_devstack.catalog_sources communes`."""
    assert cs.generate_communes() == cs.communes_path().read_text(encoding="utf-8"), (
        "communes.json differs from what the source generates: run python -m qlcb_devstack.catalog_sources communes"
    )
    assert cs.main(["communes", "--check"]) == 0


def test_the_catalog_holds_the_3321_communes_of_july_2025_each_in_one_of_the_34_provinces() -> None:
    document = _committed()
    provinces = cs.provinces_on(json.loads(cs.provinces_path().read_text(encoding="utf-8")), "2025-07-01")
    values = document["values"]
    assert len(values) == 3321
    assert Counter(v["group"] for v in values) == {"XA": 2621, "PHUONG": 687, "DAC_KHU": 13}
    assert {v["attributes"]["province"] for v in values} == provinces.keys()
    assert len(provinces) == 34
    assert [v["code"] for v in values] == sorted({v["code"] for v in values}), "sorted, each code once"
    assert all(len(v["code"]) == 5 and v["code"].isascii() and v["code"].isdigit() for v in values)
    assert all(unicodedata.is_normalized("NFC", v["label"]) for v in values)
    assert {v["valid_from"] for v in values} == {"2025-07-01"}
    assert not any("valid_to" in v for v in values)
    by_code = {v["code"]: v for v in values}
    assert by_code["00004"] == {
        "code": "00004",
        "label": "Phường Ba Đình",
        "group": "PHUONG",
        "valid_from": "2025-07-01",
        "attributes": {"province": "01"},
    }
    assert Counter(v["attributes"]["province"] for v in values)["79"] == 168, "Thành phố Hồ Chí Minh"
    source = document["source"]
    assert (source["package"], source["version"], source["license"]) == (
        "vietnam-provinces",
        "2025.10.1",
        "GPL-3.0-or-later",
    )
    assert "Quyết định 19/2025/QĐ-TTg" in document["legal_basis"]
    assert "Ủy ban Thường vụ Quốc hội" in document["legal_basis"]
    assert document["parent"] == {"catalog": "provinces", "attribute": "province"}


def test_codes_are_zero_padded_labels_nfc_and_values_sorted() -> None:
    decomposed = unicodedata.normalize("NFD", "Xã  Thượng Lâm ")
    source = _source(
        cs.SourceCommune(2269, decomposed, "xã", 4),
        cs.SourceCommune(4, "Phường Ba Đình", "phường", 1),
        cs.SourceCommune(31234, "Đặc khu Thử", "đặc khu", 4),
    )
    document = cs.communes_document(source, _provinces_doc())
    assert [(v["code"], v["label"], v["group"], v["attributes"]) for v in document["values"]] == [
        ("00004", "Phường Ba Đình", "PHUONG", {"province": "01"}),
        ("02269", "Xã Thượng Lâm", "XA", {"province": "04"}),
        ("31234", "Đặc khu Thử", "DAC_KHU", {"province": "04"}),
    ]
    text = cs.render(document)
    assert json.loads(text) == document
    assert unicodedata.is_normalized("NFC", text)
    assert text == cs.render(cs.communes_document(source, _provinces_doc())), "the same source, the same bytes"


@pytest.mark.parametrize(
    ("provinces", "reason"),
    [
        ((HANOI,), "province 04 (Tỉnh Cao Bằng) is in provinces.json, not in vietnam-provinces"),
        (
            (HANOI, CAO_BANG, cs.SourceProvince(2, "Hà Giang", "tỉnh")),
            "province 02 (Hà Giang) is in vietnam-provinces, not in provinces.json",
        ),
        (
            (HANOI, cs.SourceProvince(4, "Bắc Kạn", "tỉnh")),
            "province 04: vietnam-provinces names it 'Bắc Kạn', provinces.json 'Tỉnh Cao Bằng'",
        ),
        (
            (cs.SourceProvince(1, "Hà Nội", "tỉnh"), CAO_BANG),
            "province 01: vietnam-provinces says 'tỉnh', provinces.json THANH_PHO",
        ),
    ],
)
def test_a_province_that_differs_from_provinces_json_stops_the_generation(
    provinces: tuple[cs.SourceProvince, ...], reason: str
) -> None:
    source = _source(cs.SourceCommune(4, "Phường Ba Đình", "phường", 1), provinces=provinces)
    with pytest.raises(cs.SourceMismatch) as refused:
        cs.communes_document(source, _provinces_doc())
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("communes", "reason"),
    [
        (
            (cs.SourceCommune(4, "Phường Ba Đình", "phường", 1), cs.SourceCommune(4, "Phường Khác", "phường", 4)),
            "commune 00004 twice",
        ),
        ((cs.SourceCommune(4, "Thị trấn Cũ", "thị trấn", 1),), "commune 00004 (Thị trấn Cũ): unknown kind 'thị trấn'"),
        (
            (cs.SourceCommune(4, "Phường Ba Đình", "phường", 1), cs.SourceCommune(9, "Xã Lạc", "xã", 2)),
            "commune 00009 (Xã Lạc): province 02 is not in provinces.json on 2025-07-01",
        ),
        ((cs.SourceCommune(4, "Phường Ba Đình", "phường", 1),), "province 04 has no commune"),
        ((cs.SourceCommune(100_000, "Xã Sáu Số", "xã", 1),), "commune code 100000 is not a 5-digit code"),
    ],
)
def test_a_commune_that_cannot_be_placed_stops_the_generation(
    communes: tuple[cs.SourceCommune, ...], reason: str
) -> None:
    padded = (*communes, cs.SourceCommune(1000, "Xã Đệm", "xã", 4)) if "no commune" not in reason else communes
    with pytest.raises(cs.SourceMismatch) as refused:
        cs.communes_document(_source(*padded), _provinces_doc())
    assert reason in str(refused.value)


def test_another_installed_version_than_the_pinned_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cs, "SOURCE_VERSION", "2026.2.3")
    with pytest.raises(cs.SourceMismatch, match=r"2025\.10\.1 is installed, 2026\.2\.3 is pinned"):
        cs.read_source()


def _old_source(*communes: cs.SourceCommune) -> cs.Source:
    provinces = (
        cs.SourceProvince(1, "Thành phố Hà Nội", "thành phố trung ương"),
        cs.SourceProvince(17, "Tỉnh Hoà Bình", "tỉnh"),
    )
    return cs.Source(version=cs.OLD_SOURCE_VERSION, data_version="2025-01-04", provinces=provinces, communes=communes)


def _old_provinces_doc() -> dict[str, Any]:
    old = {"valid_from": "2008-08-01", "valid_to": "2025-06-30"}
    return {
        "values": [
            {"code": "01", "label": "Thành phố Hà Nội", "group": "THANH_PHO"} | old,
            {"code": "17", "label": "Tỉnh Hòa Bình", "group": "TINH"} | old,
        ]
    }


def test_the_committed_communes_before_2025_are_what_the_pinned_old_wheel_generates() -> None:
    """The wheel is downloaded once into the state folder and checked by its SHA-256."""
    assert cs.generate_communes_before_2025() == cs.communes_before_2025_path().read_text(encoding="utf-8"), (
        "communes_before_2025.json differs: run python -m qlcb_devstack.catalog_sources communes_before_2025"
    )
    document = json.loads(cs.communes_before_2025_path().read_text(encoding="utf-8"))
    values = document["values"]
    assert len(values) == 10_051
    assert {(v["valid_from"], v["valid_to"]) for v in values} == {("2008-08-01", "2025-06-30")}
    assert len({v["attributes"]["district"] for v in values if v["attributes"]["province"] == "01"}) == 30
    assert (document["catalog"], document["source"]["version"], document["source"]["data_version"]) == (
        "communes",
        "0.6.0",
        "2025-01-04",
    )


def test_old_communes_take_their_kind_from_their_name_and_carry_their_district() -> None:
    mai_chau = (17, 156, "Huyện Mai Châu")
    source = _old_source(
        cs.SourceCommune(4, "Phường Trúc Bạch", cs.old_commune_kind("Phường Trúc Bạch"), 1, 1, "Quận Ba Đình"),
        cs.SourceCommune(4852, "Thị trấn Mai Châu", cs.old_commune_kind("Thị trấn Mai Châu"), *mai_chau),
        cs.SourceCommune(4855, "Xã Sơn Thủy", cs.old_commune_kind("Xã Sơn Thủy"), *mai_chau),
    )
    document = cs.communes_before_2025_document(source, _old_provinces_doc())
    assert [(v["code"], v["group"], v["valid_to"], v["attributes"]) for v in document["values"]] == [
        ("00004", "PHUONG", "2025-06-30", {"province": "01", "district": "001", "district_name": "Quận Ba Đình"}),
        ("04852", "THI_TRAN", "2025-06-30", {"province": "17", "district": "156", "district_name": "Huyện Mai Châu"}),
        ("04855", "XA", "2025-06-30", {"province": "17", "district": "156", "district_name": "Huyện Mai Châu"}),
    ]


def test_an_old_province_named_otherwise_than_ours_or_a_commune_of_no_known_kind_stops_the_generation() -> None:
    """ "Hoà Bình" and "Hòa Bình" are one spelling (where the tone mark sits); "Hoà Vang" is not ours."""
    assert cs.modern_tone_marks("Tỉnh Hoà Bình, Thuỷ Nguyên, Khoẻ") == "Tỉnh Hòa Bình, Thủy Nguyên, Khỏe"
    unknown_kind = _old_source(cs.SourceCommune(4, "Khu Trúc Bạch", cs.old_commune_kind("Khu Trúc Bạch"), 1, 1, "Q"))
    with pytest.raises(cs.SourceMismatch, match=r"commune 00004 \(Khu Trúc Bạch\): unknown kind 'Khu'"):
        cs.communes_before_2025_document(unknown_kind, _old_provinces_doc())
    renamed = cs.Source(
        version=cs.OLD_SOURCE_VERSION,
        data_version="2025-01-04",
        provinces=(
            cs.SourceProvince(1, "Thành phố Hà Nội", "thành phố trung ương"),
            cs.SourceProvince(17, "Tỉnh Hoà Vang", "tỉnh"),
        ),
        communes=(),
    )
    with pytest.raises(cs.SourceMismatch, match="province 17: vietnam-provinces names it 'Tỉnh Hoà Vang'"):
        cs.communes_before_2025_document(renamed, _old_provinces_doc())


def test_an_old_wheel_whose_hash_is_not_the_pinned_one_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("QLCB_STATE_DIR", str(tmp_path))
    (tmp_path / "catalog-sources").mkdir()
    (tmp_path / "catalog-sources" / cs.OLD_SOURCE_WHEEL).write_bytes(b"not the wheel")
    with pytest.raises(cs.SourceMismatch, match="is pinned: remove it to download again"):
        cs.old_wheel()
